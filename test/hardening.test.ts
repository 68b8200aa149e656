// The attacks of a bored class, from one machine on loopback, each reproduced against the real server:
// ghosts, impostors, invisible and look-alike names, removals that did not hold, starved uploads,
// pictures deleted while written, a flood of throw-away sessions, compaction on every message.
// (The full disk and too many open files are in disk.test.ts.)
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import {
  act, fixture, refused, say, sendImage, sleep, startServer, tempDir, waitFor, welcomed, withServer, type Client, type TestServer,
} from './helpers.ts';
import { waitUntil } from './stress-helpers.ts';
import type { ImageAck } from '../chat/contract.ts';

const teacherOf = (s: TestServer, name = 'Ms Lee') => s.client({ name, avatar: 'owl', teacherKey: s.chat.teacherKey });

/** A raw Engine.IO client that sends the Socket.IO CONNECT and, in the same write, `then`. */
function ghost(port: number, name: string, then: string): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
    ws.on('error', () => {});
    ws.once('close', () => resolve());
    ws.once('message', () => { // the open packet
      ws.send(`40${JSON.stringify({ name })}`);
      ws.send(then);
      if (then === 'close') ws.terminate();
    });
    setTimeout(() => { ws.terminate(); resolve(); }, 2000).unref();
  });
}

// ---

const Identity = suite('hardening: identity');

Identity('1. ghosts: a handshake whose connection ends in the same write leaves nobody online', () => withServer(async (s) => {
  const watcher = s.client({ name: 'watcher' });
  await welcomed(watcher);
  const variants = ['1', '2', 'garbage', 'close']; // an Engine.IO close, a ping, garbage, the socket torn down
  for (const then of variants) await Promise.all(Array.from({ length: 100 }, (_, i) => ghost(s.port, `ghost-${then}-${i}`, then)));
  await waitUntil(() => s.chat.stats().online === 1, `only the watcher online (now ${s.chat.stats().online})`);
  assert.is(s.chat.stats().online, 1);
  for (const then of variants) {
    const real = s.client({ name: `ghost-${then}-7` });
    assert.is((await welcomed(real)).count, 2, `ghost-${then}-7 is free: nobody else holds it`);
    real.close();
  }
}));

Identity('2. impostors: an old session never beats who holds the nickname now', () => withServer(async (s) => {
  const pranks = [s.client({ name: 'dana' }), s.client({ name: 'Ms Lee' })];
  const tokens = await Promise.all(pranks.map(async (c) => (await welcomed(c)).session));
  pranks.forEach((c) => c.close());
  await waitUntil(() => s.chat.stats().online === 0, 'the prankster left');
  const dana = s.client({ name: 'dana' });
  const teacher = teacherOf(s);
  const wDana = await welcomed(dana);
  assert.is.not(wDana.session, tokens[0]);
  await welcomed(teacher);
  assert.is((await refused(s.client({ name: 'dana', session: tokens[0] }))).message, 'name_taken');
  assert.is((await refused(s.client({ name: 'Ms Lee', session: tokens[1] }))).message, 'name_taken');
  const ann = s.client({ name: 'ann' });
  await welcomed(ann);
  const toDana = waitFor(dana, 'textmsg');
  const toTeacher = waitFor(teacher, 'textmsg');
  assert.ok((await say(ann, 'for dana', 'dana')).ok);
  assert.ok((await say(ann, 'for the teacher', 'Ms Lee')).ok);
  assert.equal([(await toDana).content, (await toTeacher).content], ['for dana', 'for the teacher']);
  assert.is((await refused(s.client({ name: 'DANA' }))).message, 'name_taken', 'the name is still held');
}));

Identity('3. invisible and look-alike names: refused, or name_taken while the real one is online', () => withServer(async (s) => {
  for (const name of ['\u034F', '\uFE0F', '\uFE00\uFE0F', '\u{E0100}', '\u17B4', '\u180B\u180C\u180D']) {
    assert.is((await refused(s.client({ name }))).message, 'invalid_name', JSON.stringify(name));
  }
  await Promise.all([welcomed(s.client({ name: 'alice' })), welcomed(s.client({ name: 'Ms Lee' }))]);
  for (const name of ['alice\uFE0F', 'Ms Lee\u180B', '\u0430lice', '\u041Cs Lee', 'ALICE']) {
    assert.is((await refused(s.client({ name }))).message, 'name_taken', JSON.stringify(name));
  }
  for (const name of ['Наташа', '东东', '👨‍👩‍👧‍👦', 'Alicia']) {
    assert.is((await welcomed(s.client({ name }))).name, name, 'a real name is welcome');
  }
}));

Identity('4. a removal and a mute hold for the nickname, whatever browser comes back', () => withServer(async (s) => {
  const teacher = teacherOf(s);
  const [kim, max] = [s.client({ name: 'Kim' }), s.client({ name: 'Max' })];
  await Promise.all([welcomed(teacher), welcomed(kim), welcomed(max)]);
  assert.equal(await act(teacher, 'kick', { name: 'Kim' }), { ok: true });
  assert.equal(await act(teacher, 'mute', { name: 'Max' }), { ok: true });
  max.close();
  await waitUntil(() => s.chat.stats().online === 1, 'Kim and Max are gone');
  assert.is((await refused(s.client({ name: 'kim' }))).message, 'kicked', 'a private window, no session token');
  const maxAgain = s.client({ name: 'Max' });
  assert.equal((await welcomed(maxAgain)).room.muted, ['Max']);
  assert.equal(await say(maxAgain, 'back and talking'), { ok: false, error: 'muted' });
  const room = waitFor(teacher, 'room');
  assert.equal(await act(teacher, 'unmute', { name: 'Max' }), { ok: true });
  assert.equal((await room).muted, []);
  assert.ok((await say(maxAgain, 'now I may')).ok);
  assert.equal(await act(teacher, 'allow', { name: 'Kim' }), { ok: true });
  assert.ok((await welcomed(s.client({ name: 'Kim' }))).name);
}));

Identity.run();

// ---

const Pictures = suite('hardening: pictures');

const chunk = (c: Client, payload: Record<string, unknown>): Promise<ImageAck> =>
  new Promise((resolve) => c.emit('image', payload as never, resolve));

Pictures('5. starved uploads: idle uploads hold what they received, and are dropped when idle', () => withServer(async (s) => {
  const idlers = Array.from({ length: 32 }, (_, i) => s.client({ name: `idle${i}` }));
  await Promise.all(idlers.map(welcomed));
  for (const [i, c] of idlers.entries()) {
    assert.equal(await chunk(c, { cid: `big${i}`, total: 512 * 1024, offset: 0, data: Buffer.from([0xff]) }), { ok: true, received: 1 });
  }
  const ann = s.client({ name: 'Ann' });
  await welcomed(ann);
  assert.ok((await sendImage(ann, fixture('tiny.jpg'))).ok, 'the class is not starved');
  await sleep(700); // past the idle deadline of this server
  const late = await chunk(idlers[0], { cid: 'big0', total: 512 * 1024, offset: 1, data: Buffer.from([0xd8]) });
  assert.equal(late, { ok: false, error: 'invalid_message' }, 'the idle upload was dropped');
}, { limits: { uploadIdleMs: 500 } }));

Pictures('6. a clear or a compaction never deletes a picture that an acked message points to', () => withServer(async (s) => {
  const teacher = teacherOf(s);
  const students = Array.from({ length: 6 }, (_, i) => s.client({ name: `p${i}` }));
  await Promise.all([teacher, ...students].map(welcomed));
  const png = fixture('tiny.png');
  const acks = students.map((c, i) => chunk(c, { cid: `pic${i}`, total: png.length, offset: 0, data: png }));
  const cleared = act(teacher, 'clear'); // sent in the same breath as the pictures' last chunks
  const results = await Promise.all(acks);
  await cleared;
  await sleep(300); // the clean-up after the clear has run
  const ids = results.map((a) => (a.ok && 'id' in a ? a.id : null));
  assert.ok(ids.every(Boolean), 'all acked');
  const history = (await welcomed(s.client({ name: 'reader' }))).history;
  for (const m of history.filter((m) => m.image)) assert.is((await fetch(s.url + m.image)).status, 200, m.image);
  const dir = join(s.dataDir, 'rooms', 'main', 'images');
  assert.is(fs.readdirSync(dir).length, history.filter((m) => m.image).length, 'no acked picture lost, no orphan kept');
}));

Pictures('6b. pictures in normal chatter while compaction runs are all kept', async () => {
  const dataDir = tempDir();
  const filler = Array.from({ length: 4990 }, (_, i) => JSON.stringify({ id: `old${i}`, name: 'old', avatar: 'cat', content: `old ${i}`, ts: 1, from: 'oldsession-0123456789' }));
  fs.writeFileSync(join(dataDir, 'messages.jsonl'), filler.join('\n') + '\n');
  const s = await startServer({ dataDir, rateLimit: false });
  try {
    const [ann, bob] = [s.client({ name: 'Ann' }), s.client({ name: 'Bob' })];
    await Promise.all([welcomed(ann), welcomed(bob)]);
    const png = fixture('tiny.png');
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 30; i++) {
      work.push(say(bob, `chatter ${i}`));
      work.push(chunk(ann, { cid: `c${i}`, total: png.length, offset: 0, data: png }));
      await sleep(5);
    }
    await Promise.all(work);
    await sleep(300);
    const pictures = (await welcomed(s.client({ name: 'reader' }))).history.filter((m) => m.image);
    assert.ok(pictures.length >= 9, `${pictures.length} pictures acked`);
    for (const m of pictures) assert.is((await fetch(s.url + m.image)).status, 200, m.image);
  } finally {
    await s.close();
  }
});

Pictures('a disk budget for pictures: past it the oldest go first, per room and overall', () => withServer(async (s) => {
  const ann = s.client({ name: 'Ann' });
  await welcomed(ann);
  const jpg = fixture('tiny.jpg');
  const urls: string[] = [];
  for (let i = 0; i < 6; i++) {
    const seen = waitFor(ann, 'textmsg');
    assert.ok((await sendImage(ann, jpg)).ok);
    urls.push((await seen).image!);
  }
  await sleep(100);
  const kept = await Promise.all(urls.map(async (u) => (await fetch(s.url + u)).status));
  const budget = Math.floor((3.5 * jpg.length));
  assert.equal(kept, [404, 404, 404, 200, 200, 200], `a room budget of ${budget} bytes keeps the newest three`);
}, { limits: { roomPictureBytes: Math.floor(3.5 * fixture('tiny.jpg').length), totalPictureBytes: 10 * 2 ** 20 } }));

Pictures.run();

// ---

const Sessions = suite('hardening: sessions and the log');

Sessions('7. a flood of throw-away sessions never wipes a conversation someone can still read', () => withServer(async (s) => {
  const [alice, bob] = [s.client({ name: 'alice' }), s.client({ name: 'bob' })];
  const [wAlice] = await Promise.all([welcomed(alice), welcomed(bob)]);
  assert.ok((await say(alice, 'our secret plan', 'bob')).ok);
  alice.close();
  for (let i = 0; i < 120; i++) { // the cap of this server is 50 sessions
    const c = s.client({ name: `flood${i}` });
    await welcomed(c);
    c.close();
  }
  await waitUntil(() => s.chat.stats().online === 1, 'the flood left');
  s.chat.sweepSessions();
  assert.ok(s.chat.stats().sessions <= 52, `the cap holds (${s.chat.stats().sessions} sessions)`);
  const aliceBack = await welcomed(s.client({ name: 'alice', session: wAlice.session }));
  assert.is(aliceBack.session, wAlice.session, 'alice\'s session was kept: she was active recently');
  assert.equal(aliceBack.history.map((m) => m.content), ['our secret plan']);
  bob.close();
  const bobBack = await welcomed(s.client({ name: 'bob2' }));
  assert.equal(bobBack.history, [], 'and nobody else sees it');
}, { limits: { maxSessions: 50 } }));

Sessions('7b. even a forgotten sender leaves the conversation to the one who is online', () => withServer(async (s) => {
  const [alice, bob] = [s.client({ name: 'alice' }), s.client({ name: 'bob' })];
  const [, wBob] = await Promise.all([welcomed(alice), welcomed(bob)]);
  assert.ok((await say(alice, 'hello bob', 'bob')).ok);
  alice.close();
  await waitUntil(() => s.chat.stats().online === 1, 'alice left');
  s.chat.sweepSessions(Date.now() + 2); // past this server's TTL: alice's session is forgotten
  bob.close();
  await waitUntil(() => s.chat.stats().online === 0, 'bob left');
  const bobBack = await welcomed(s.client({ name: 'bob', session: wBob.session }));
  assert.equal(bobBack.history.map((m) => m.content), ['hello bob'], 'bob can still read it');
}, { sessionTtlMs: 1 }));

Sessions('8. compaction is amortised: not a rewrite of the whole log on every message', async () => {
  const dataDir = tempDir();
  // 30 private conversations of 200 messages each: 6000 lines, all of them kept.
  const lines: string[] = [];
  for (let pair = 0; pair < 30; pair++) {
    for (let i = 0; i < 200; i++) {
      const from = `sender${String(pair).padStart(2, '0')}xxxxxxxxxxxxx`;
      lines.push(JSON.stringify({ id: `p${pair}-${i}`, name: `s${pair}`, avatar: 'cat', content: `m${i}`, ts: 1, to: `r${pair}`, from, toS: `recvr${String(pair).padStart(2, '0')}xxxxxxxxxxxxxx` }));
    }
  }
  fs.mkdirSync(join(dataDir, 'rooms', 'main'), { recursive: true });
  fs.writeFileSync(join(dataDir, 'rooms', 'main', 'messages.jsonl'), lines.join('\n') + '\n');
  const s = await startServer({ dataDir, rateLimit: false });
  try {
    const ann = s.client({ name: 'Ann' });
    await welcomed(ann);
    const file = join(dataDir, 'rooms', 'main', 'messages.jsonl');
    const inodes = new Set<number>();
    for (let i = 0; i < 300; i++) {
      assert.ok((await say(ann, `message ${i}`)).ok);
      inodes.add(fs.statSync(file).ino);
    }
    assert.ok(inodes.size <= 2, `the log was rewritten ${inodes.size - 1} times for 300 messages`);
    assert.is(fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).length, 6300, 'and nothing kept was dropped');
  } finally {
    await s.close();
  }
});

Sessions('a room-wide ceiling: many nicknames cannot flood a room together', () => withServer(async (s) => {
  const crowd = Array.from({ length: 40 }, (_, i) => s.client({ name: `n${i}` }));
  await Promise.all(crowd.map(welcomed));
  const started = Date.now();
  const acks = await Promise.all(crowd.flatMap((c) => Array.from({ length: 10 }, (_, i) => say(c, `spam ${i}`))));
  const seconds = (Date.now() - started) / 1000;
  const accepted = acks.filter((a) => a.ok).length;
  assert.ok(accepted <= 100 + 30 * seconds + 1, `${accepted} of 400 accepted in ${seconds.toFixed(2)} s`);
  assert.ok(acks.filter((a) => !a.ok).every((a) => !a.ok && a.error === 'rate_limited'));
}, { rateLimit: { burst: 10, perSecond: 1 } }));

Sessions.run();
