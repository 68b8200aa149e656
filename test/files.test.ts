// Files and voice messages over HTTP: a resumable upload judged by its content, sent with textmsg, served as a
// download. Real server, real socket.io-client, real HTTP, real files (and a real full disk: a small tmpfs).
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Ack, TextMsg } from '../chat/contract.ts';
import { MAX_FILE } from '../chat/file-types.ts';
import { allowedSamples, pdf } from './file-samples.ts';
import { mountTmpfs, fill, unmount } from './tmpfs.ts';
import { act, collect, fixture, sleep, startServer, waitFor, welcomed, withServer, type Client, type TestServer } from './helpers.ts';

const CHUNK = 2 ** 20;
const uploadId = () => randomBytes(16).toString('base64url').slice(0, 21);
type Answer = { status: number; body: { received?: number; done?: true; type?: string; error?: string } };

/** One PUT of `bytes` at `start` of `total`. */
async function put(s: TestServer, session: string, id: string, bytes: Buffer, start: number, total: number, kind = 'file', room = 'main'): Promise<Answer> {
  const res = await fetch(`${s.url}/api/uploads/${room}/${id}?kind=${kind}`, {
    method: 'PUT', body: new Uint8Array(bytes),
    headers: { 'x-chat-session': session, 'content-range': `bytes ${start}-${start + bytes.length - 1}/${total}`, 'content-type': 'application/octet-stream' },
  });
  return { status: res.status, body: await res.json() };
}

/** A whole upload in chunks, as the page does: the last answer. */
async function upload(s: TestServer, session: string, bytes: Buffer, kind = 'file', id = uploadId()): Promise<Answer & { id: string }> {
  let answer: Answer = { status: 0, body: {} };
  for (let at = 0; at < bytes.length; at += CHUNK) {
    answer = await put(s, session, id, bytes.subarray(at, at + CHUNK), at, bytes.length, kind);
    if (answer.status >= 300) break;
  }
  return { ...answer, id };
}

const send = (c: Client, payload: Record<string, unknown>): Promise<Ack> => new Promise((resolve) => (c.emit as Function).call(c, 'textmsg', { content: '', ...payload }, resolve));
const teacherOf = (s: TestServer) => s.client({ name: 'Ms Li', teacherKey: s.chat.teacherKey });

const Files = suite('files');

Files('every allowed type is accepted, sent, and served as a download under its name made safe', () => withServer(async (s) => {
  const teacher = teacherOf(s);
  const sam = s.client({ name: 'Sam' });
  const [{ session }] = await Promise.all([welcomed(teacher), welcomed(sam)]);
  for (const [ext, bytes] of Object.entries(allowedSamples())) {
    const up = await upload(s, session, bytes);
    assert.is(up.status, 201, `${ext}: ${JSON.stringify(up.body)}`);
    const heard = waitFor(sam, 'textmsg', (m) => !!m.file);
    const ack = await send(teacher, { upload: up.id, name: `../Worksheet 1\u202e.${ext}` });
    assert.ok(ack.ok, JSON.stringify(ack));
    const { file } = await heard;
    assert.is(file!.name, `.. Worksheet 1 .${ext}`.replace(/^\.+ ?/, ''), 'no path, no invisible characters');
    assert.is(file!.size, bytes.length);
    const res = await fetch(s.url + file!.url);
    assert.is(res.status, 200);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes), `${ext}: the same bytes back`);
    assert.match(res.headers.get('content-disposition') ?? '', /^attachment; filename=/);
    assert.is(res.headers.get('x-content-type-options'), 'nosniff');
    assert.match(res.headers.get('content-security-policy') ?? '', /sandbox/);
    assert.is(res.headers.get('content-type')?.split(';')[0], file!.type.split(';')[0]);
  }
  assert.equal((await send(teacher, { upload: 'nope-nope-nope-nope-1' })), { ok: false, error: 'not_found' }, 'an upload sent twice, or never made');
}));

Files('disguised files are refused by their content: HTML named .pdf, an SVG, an executable', () => withServer(async (s) => {
  const teacher = teacherOf(s);
  const { session } = await welcomed(teacher);
  const disguised = {
    'HTML named .pdf': Buffer.from('<!DOCTYPE html><html><script>alert(1)</script></html>'),
    'an SVG': fixture('evil-svg.png'),
    'an executable': Buffer.concat([Buffer.from('MZ'), randomBytes(200)]),
    'an ELF': Buffer.concat([Buffer.from('\x7fELF', 'latin1'), randomBytes(200)]),
  };
  for (const [what, bytes] of Object.entries(disguised)) {
    const up = await upload(s, session, bytes);
    assert.equal([up.status, up.body.error], [415, 'bad_type'], what);
    assert.equal(await send(teacher, { upload: up.id, name: 'worksheet.pdf' }), { ok: false, error: 'not_found' }, `${what}: nothing to send`);
  }
  const voiceAsFile = await upload(s, session, Buffer.concat([Buffer.from('OggS'), randomBytes(100)]));
  assert.is(voiceAsFile.status, 415, 'a recording is a voice message, not a file');
}));

Files('the 10 MB limit; students only once the teacher switches it on; a private file never reaches a third person', () => withServer(async (s) => {
  const teacher = teacherOf(s);
  const sam = s.client({ name: 'Sam' });
  const kim = s.client({ name: 'Kim' });
  const [{ session: teacherSession }, { session: samSession }] = await Promise.all([welcomed(teacher), welcomed(sam), welcomed(kim)]);
  const big = await put(s, teacherSession, uploadId(), Buffer.alloc(1024), 0, MAX_FILE + 1);
  assert.equal([big.status, big.body.error], [413, 'too_large']);
  const exact = Buffer.concat([pdf(), Buffer.alloc(MAX_FILE - pdf().length)]);
  exact.write('%%EOF\n', MAX_FILE - 6, 'latin1');
  assert.is((await upload(s, teacherSession, exact)).status, 201, '10 MB exactly');

  assert.equal((await upload(s, samSession, pdf())).body.error, 'not_allowed', 'a student, before the teacher allows it');
  const state = waitFor(sam, 'room', (r) => r.files);
  assert.equal(await act(teacher, 'files'), { ok: true });
  await state;
  const kimSees = collect(kim, 'textmsg');
  const up = await upload(s, samSession, pdf());
  assert.is(up.status, 201);
  const teacherGets = waitFor(teacher, 'textmsg', (m) => !!m.file);
  assert.ok((await send(sam, { upload: up.id, name: 'my answers.pdf', to: 'Ms Li' })).ok);
  const { file } = await teacherGets;
  await sleep(300);
  assert.equal(kimSees.filter((m: TextMsg) => m.file), [], 'Kim never gets the private file');
  const kimHistory = (await welcomed(s.client({ name: 'Kim2' }))).history;
  assert.not.ok(kimHistory.some((m) => m.file), 'nor does anyone in history');
  assert.ok(file!.url.startsWith('/files/main/'));
  assert.equal(await act(teacher, 'nofiles'), { ok: true });
  const again = await upload(s, samSession, pdf());
  assert.is(again.body.error, 'not_allowed');
}));

Files('an upload cut halfway is resumed: the server says what arrived, the rest goes on from there', () => withServer(async (s) => {
  const teacher = teacherOf(s);
  const sam = s.client({ name: 'Sam' });
  const [{ session }] = await Promise.all([welcomed(teacher), welcomed(sam)]);
  const bytes = Buffer.concat([pdf(), randomBytes(3 * CHUNK)]);
  bytes.write('%%EOF\n', bytes.length - 6, 'latin1');
  const id = uploadId();
  assert.equal((await put(s, session, id, bytes.subarray(0, CHUNK), 0, bytes.length)).body, { received: CHUNK });
  // The second chunk is cut on the wire: half its body, then the connection drops.
  const { request } = await import('node:http');
  await new Promise<void>((resolve) => {
    const req = request(`${s.url}/api/uploads/main/${id}?kind=file`, {
      method: 'PUT', headers: { 'x-chat-session': session, 'content-range': `bytes ${CHUNK}-${2 * CHUNK - 1}/${bytes.length}`, 'content-length': CHUNK },
    });
    req.on('error', () => resolve());
    req.write(bytes.subarray(CHUNK, CHUNK + CHUNK / 2), () => setTimeout(() => { req.destroy(); resolve(); }, 100));
  });
  await sleep(100);
  const status = await (await fetch(`${s.url}/api/uploads/main/${id}`, { headers: { 'x-chat-session': session } })).json();
  assert.equal(status, { received: CHUNK }, 'half a chunk counts for nothing');
  const skipped = await put(s, session, id, bytes.subarray(2 * CHUNK, 3 * CHUNK), 2 * CHUNK, bytes.length);
  assert.equal([skipped.status, skipped.body.received], [409, CHUNK], 'a chunk out of place says where to go on from');
  let last: Answer | undefined;
  for (let at = status.received; at < bytes.length; at += CHUNK) last = await put(s, session, id, bytes.subarray(at, at + CHUNK), at, bytes.length);
  assert.is(last!.status, 201);
  const retried = await put(s, session, id, bytes.subarray(3 * CHUNK), 3 * CHUNK, bytes.length);
  assert.is(retried.status, 201, 'the last chunk again (its answer was lost): the same answer');
  const heard = waitFor(sam, 'textmsg', (m) => !!m.file);
  assert.ok((await send(teacher, { upload: id, name: 'big.pdf' })).ok);
  const res = await fetch(s.url + (await heard).file!.url);
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes), 'the whole file, as sent');
  assert.equal(readdirSync(join(s.dataDir, 'uploads', 'main')), [], 'no part file left');
  const other = await fetch(`${s.url}/api/uploads/main/${id}`, { headers: { 'x-chat-session': 'x'.repeat(21) } });
  assert.is(other.status, 404, 'someone else\'s session learns nothing');
}));

Files('voice messages: recorded audio, sent with its duration, played from /media; recall takes the file too', () => withServer(async (s) => {
  const sam = s.client({ name: 'Sam' });
  const kim = s.client({ name: 'Kim' });
  const [{ session }] = await Promise.all([welcomed(sam), welcomed(kim)]);
  const webm = Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3]), randomBytes(5000)]);
  const up = await upload(s, session, webm, 'voice');
  assert.equal([up.status, up.body.type], [201, 'audio/webm']);
  assert.equal(await send(sam, { upload: up.id, duration: 61_500 }), { ok: false, error: 'invalid_message' }, 'longer than 60 s');
  assert.equal(await send(sam, { upload: up.id }), { ok: false, error: 'invalid_message' }, 'no duration');
  const heard = waitFor(kim, 'textmsg', (m) => !!m.voice);
  const ack = await send(sam, { upload: up.id, duration: 4200 });
  assert.ok(ack.ok);
  const { voice, id } = await heard;
  assert.is(voice!.duration, 4200);
  const res = await fetch(s.url + voice!.url);
  assert.is(res.headers.get('content-type'), 'audio/webm');
  assert.match(res.headers.get('content-security-policy') ?? '', /sandbox/);
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(webm));
  const pdfAsVoice = await upload(s, session, pdf(), 'voice');
  assert.is(pdfAsVoice.status, 415, 'a voice message is audio');
  await new Promise((resolve) => sam.emit('recall', { id }, resolve));
  await sleep(200);
  assert.is((await fetch(s.url + voice!.url)).status, 404, 'recalled: its file is gone');
}));

Files('voice messages count as messages: a muted student cannot send one', () => withServer(async (s) => {
  const teacher = teacherOf(s);
  const sam = s.client({ name: 'Sam' });
  const [, { session }] = await Promise.all([welcomed(teacher), welcomed(sam)]);
  assert.equal(await act(teacher, 'mute', { name: 'Sam' }), { ok: true });
  const up = await upload(s, session, Buffer.concat([Buffer.from('OggS'), randomBytes(500)]), 'voice');
  assert.equal(await send(sam, { upload: up.id, duration: 1000 }), { ok: false, error: 'muted' });
  assert.ok((await send(sam, { upload: up.id, duration: 1000, to: 'Ms Li' })).ok, 'but may still send it to the teacher');
}));

Files('the room quota: the oldest files go first; their messages stay', () => withServer(async (s) => {
  const teacher = teacherOf(s);
  const { session } = await welcomed(teacher);
  const urls: string[] = [];
  for (let k = 0; k < 4; k++) {
    const bytes = Buffer.concat([pdf(), randomBytes(400 * 1024)]);
    bytes.write('%%EOF\n', bytes.length - 6, 'latin1');
    const up = await upload(s, session, bytes);
    const heard = waitFor(teacher, 'textmsg', (m) => !!m.file);
    assert.ok((await send(teacher, { upload: up.id, name: `part ${k}.pdf` })).ok);
    urls.push((await heard).file!.url);
    await sleep(20);
  }
  await sleep(200);
  const statuses = await Promise.all(urls.map(async (u) => (await fetch(s.url + u)).status));
  assert.equal(statuses, [404, 404, 200, 200], 'a 1 MB room keeps the two newest');
}, { limits: { roomPictureBytes: 2 ** 20 } as never }));

Files.run();

const Disk = suite('files: a full disk');
const tmpfs = mountTmpfs('3m');

(tmpfs ? Disk : Disk.skip)('an upload the disk has no room for is refused with disk_full, even when part of it fitted; the log is whole; once there is room it goes through', async () => {
  const s = await startServer({ dataDir: tmpfs!, rateLimit: false });
  let isClosed = false; // a failure before the restart must still close it
  try {
    const teacher = teacherOf(s);
    const sam = s.client({ name: 'Sam' });
    const [{ session }] = await Promise.all([welcomed(teacher), welcomed(sam)]);
    assert.ok((await send(teacher, { content: 'before' })).ok);
    const bytes = Buffer.concat([pdf(), randomBytes(900 * 1024)]);
    bytes.write('%%EOF\n', bytes.length - 6, 'latin1');
    // Less room than the chunk: the disk takes part of the write without an error, and refuses the rest.
    const filler = fill(tmpfs!, 300 * 1024);
    const refused = await upload(s, session, bytes);
    assert.equal([refused.status, refused.body.error], [507, 'disk_full'], JSON.stringify(refused.body));
    const after = await send(teacher, { content: 'after' });
    rmSync(filler);
    const again = await upload(s, session, bytes, 'file', refused.id);
    assert.is(again.status, 201, 'the same upload, from the start, once there is room');
    const heard = waitFor(sam, 'textmsg', (m) => !!m.file);
    assert.ok((await send(teacher, { upload: again.id, name: 'worksheet.pdf' })).ok);
    const res = await fetch(s.url + (await heard).file!.url);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes), 'whole: no hole where the refused write was');
    await s.close({ keepData: true });
    isClosed = true;
    const back = await startServer({ dataDir: tmpfs!, rateLimit: false });
    try {
      const { history } = await welcomed(back.client({ name: 'Kim' }));
      const texts = history.map((m) => m.content).filter(Boolean);
      assert.ok(texts.includes('before'), 'what was acked before is there');
      if (after.ok) assert.ok(texts.includes('after'), 'and what was acked after');
    } finally {
      await back.close({ keepData: true });
    }
  } finally {
    if (!isClosed) await s.close({ keepData: true });
    unmount(tmpfs!);
  }
});

Disk.run();
