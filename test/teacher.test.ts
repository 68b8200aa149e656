// Running a class: teacher controls, the push API, pictures and the transcript, end to end over sockets and HTTP.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  act, api, fixture, say, sendImage, withServer, waitFor, welcomed, refused, collect, sleep, type TestServer,
} from './helpers.ts';
import type { ImageAck } from '../chat/contract.ts';

const teacherOf = (s: TestServer, name = 'Ms Li') => s.client({ name, avatar: 'owl', teacherKey: s.chat.teacherKey });

// ---

const Teacher = suite('teacher: identity');

Teacher('the teacher key makes a teacher, marked for everyone; a wrong key does not', () => withServer(async (s) => {
  const student = s.client({ name: 'Sam' });
  await welcomed(student);
  const join = waitFor(student, 'online', (o) => o.count === 2);
  const teacher = teacherOf(s);
  const w = await welcomed(teacher);
  assert.is(w.teacher, true);
  assert.is((await join).joined?.find((u) => u.name === 'Ms Li')?.teacher, true);
  const msg = waitFor(student, 'textmsg');
  await say(teacher, 'Good morning');
  assert.is((await msg).teacher, true);
  const late = await welcomed(s.client({ name: 'Late' }));
  assert.equal(late.users.find((u) => u.name === 'Ms Li'), { name: 'Ms Li', avatar: 'owl', teacher: true });
  assert.is(late.history[0].teacher, true);
  const fake = await refused(s.client({ name: 'Fake', teacherKey: 'guess' }));
  assert.is(fake.message, 'bad_key', 'a wrong key is refused plainly rather than shown controls that fail');
}));

Teacher('a student cannot fake any teacher action', () => withServer(async (s) => {
  await welcomed(teacherOf(s));
  const victim = s.client({ name: 'Vic' });
  await welcomed(victim);
  const student = s.client({ name: 'Sly', teacherKey: '' });
  await welcomed(student);
  for (const action of ['mute', 'quiet', 'kick', 'clear', 'pin', 'allow', 'unpin', 'unquiet', 'unmute']) {
    assert.equal(await act(student, action, { name: 'Vic', content: 'fake' }), { ok: false, error: 'not_teacher' }, action);
  }
  assert.ok((await say(victim, 'still here')).ok, 'nothing happened to the victim');
  assert.ok(victim.connected);
}));

Teacher('malformed teacher requests are refused', () => withServer(async (s) => {
  const teacher = teacherOf(s);
  await welcomed(teacher);
  assert.equal(await act(teacher, 'explode'), { ok: false, error: 'invalid_message' });
  assert.equal(await act(teacher, 'toString'), { ok: false, error: 'invalid_message' });
  assert.equal(await act(teacher, 'mute', { name: 42 }), { ok: false, error: 'invalid_message' });
  assert.equal(await act(teacher, 'mute', { name: 'Nobody' }), { ok: false, error: 'not_online' });
  assert.equal(await act(teacher, 'kick', { name: 'Ms Li' }), { ok: false, error: 'not_allowed' });
  assert.equal(await act(teacher, 'pin', { content: '   ' }), { ok: false, error: 'empty' });
  assert.equal(await act(teacher, 'allow', { name: 'Nobody' }), { ok: false, error: 'not_found' });
}));

Teacher.run();

// ---

const Moderation = suite('teacher: mute, quiet, kick, clear, pin');

Moderation('mute and unmute one person; logged with names', () => withServer(async (s, lines) => {
  const teacher = teacherOf(s);
  const bob = s.client({ name: 'Bob' });
  const ann = s.client({ name: 'Ann' });
  const [{ session: teacherSession }, { session: bobSession }] = await Promise.all([welcomed(teacher), welcomed(bob), welcomed(ann)]);
  const [teacherView, bobView, annView] = [teacher, bob, ann].map((c) => waitFor(c, 'room'));
  assert.equal(await act(teacher, 'mute', { name: 'bob' }), { ok: true });
  assert.equal((await teacherView).muted, ['Bob']);
  assert.equal((await bobView).muted, ['Bob'], 'the muted person is told');
  assert.equal((await annView).muted, [], 'classmates are not told who is muted');
  const annSaw = collect(ann, 'textmsg');
  assert.equal(await say(bob, 'noise'), { ok: false, error: 'muted' });
  assert.equal(await say(bob, 'private noise', 'Ann'), { ok: false, error: 'muted' });
  assert.ok((await say(ann, 'I can talk')).ok);
  await sleep(50);
  assert.equal(annSaw.map((m) => m.content), ['I can talk']);
  bob.close();
  await sleep(50);
  const back = s.client({ name: 'Bob', session: bobSession });
  assert.equal((await welcomed(back)).room.muted, ['Bob'], 'a mute outlives a reconnect');
  assert.equal(await say(back, 'sneaky'), { ok: false, error: 'muted' });
  const teacherAgain = await welcomed(s.client({ name: 'Ms Li', teacherKey: s.chat.teacherKey, session: teacherSession }));
  assert.equal(teacherAgain.room.muted, ['Bob'], 'the teacher still sees the mute');
  assert.equal(await act(teacher, 'unmute', { name: 'Bob' }), { ok: true });
  assert.ok((await say(back, 'back')).ok);
  assert.ok(lines.some((l) => /\d.*Ms Li muted Bob/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /Ms Li unmuted Bob/.test(l)));
}));

Moderation('quiet mode mutes everyone but the teacher', () => withServer(async (s) => {
  const teacher = teacherOf(s);
  const bob = s.client({ name: 'Bob' });
  await Promise.all([welcomed(teacher), welcomed(bob)]);
  assert.equal(await act(teacher, 'quiet'), { ok: true });
  assert.equal(await say(bob, 'hi'), { ok: false, error: 'muted' });
  assert.ok((await say(teacher, 'Eyes on the board')).ok);
  const late = await welcomed(s.client({ name: 'Late' }));
  assert.is(late.room.quiet, true, 'late joiners know too');
  assert.equal(await act(teacher, 'unquiet'), { ok: true });
  assert.ok((await say(bob, 'hi')).ok);
}));

Moderation('kick: every tab is told and disconnected, and the session stays out until allowed', () => withServer(async (s, lines) => {
  const teacher = teacherOf(s);
  await welcomed(teacher);
  const kayArrived = waitFor(teacher, 'online', (o) => !!o.joined?.some((u) => u.name === 'Kay'));
  const tab1 = s.client({ name: 'Kay' });
  const { session } = await welcomed(tab1);
  const tab2 = s.client({ name: 'Kay', session });
  await welcomed(tab2);
  const told = [waitFor(tab1, 'kicked'), waitFor(tab2, 'kicked')];
  const gone = [tab1, tab2].map((t) => new Promise((resolve) => t.once('disconnect', resolve)));
  await kayArrived;
  const left = waitFor(teacher, 'online', (o) => !!o.left);
  assert.equal(await act(teacher, 'kick', { name: 'Kay' }), { ok: true });
  await Promise.all([...told, ...gone]);
  assert.equal((await left).left, ['Kay']);
  const back = await refused(s.client({ name: 'Kay', session }));
  assert.is(back.message, 'kicked');
  assert.match(back.data?.message ?? '', /teacher/);
  assert.is((await refused(s.client({ name: 'Other name', session }))).message, 'kicked', 'not by another nickname either');
  assert.equal(await act(teacher, 'allow', { name: 'kay' }), { ok: true });
  assert.is((await welcomed(s.client({ name: 'Kay', session }))).session, session);
  assert.ok(lines.some((l) => /Ms Li removed Kay/.test(l)));
}));

Moderation('clear empties the group history for everyone, in memory and in the file; private stays', () => withServer(async (s) => {
  const teacher = teacherOf(s);
  const ann = s.client({ name: 'Ann' });
  const { session } = await welcomed(ann);
  await welcomed(teacher);
  await say(ann, 'group words');
  await say(ann, 'private words', 'Ms Li');
  const image = await sendImage(ann, fixture('tiny.png'));
  assert.ok(image.ok && 'id' in image);
  const cleared = waitFor(ann, 'cleared');
  assert.equal(await act(teacher, 'clear'), { ok: true });
  await cleared;
  const file = readFileSync(join(s.dataDir, 'rooms', 'main', 'messages.jsonl'), 'utf8');
  assert.not.match(file, /group words/);
  assert.match(file, /private words/);
  const again = await welcomed(s.client({ name: 'Ann', session }));
  assert.equal(again.history.map((m) => m.content), ['private words']);
  assert.equal(await welcomed(s.client({ name: 'New' })).then((w) => w.history), []);
  assert.is((await fetch(`${s.url}/images/main/missing.png`)).status, 404);
}));

Moderation('pin shows one announcement to everyone, late joiners included', () => withServer(async (s) => {
  const teacher = teacherOf(s);
  const ann = s.client({ name: 'Ann' });
  await Promise.all([welcomed(teacher), welcomed(ann)]);
  const update = waitFor(ann, 'room', (r) => r.pinned !== null);
  assert.equal(await act(teacher, 'pin', { content: 'Homework: page 42' }), { ok: true });
  assert.is((await update).pinned?.content, 'Homework: page 42');
  assert.is((await welcomed(s.client({ name: 'Late' }))).room.pinned?.content, 'Homework: page 42');
  const removed = waitFor(ann, 'room', (r) => r.pinned === null);
  assert.equal(await act(teacher, 'unpin'), { ok: true });
  await removed;
}));

Moderation.run();

// ---

const Push = suite('POST /api/push');

Push('needs the teacher key', () => withServer(async (s) => {
  const body = JSON.stringify({ content: 'hi' });
  assert.is((await api(s, '/api/push', { method: 'POST', body, key: null })).status, 401);
  assert.is((await api(s, '/api/push', { method: 'POST', body, key: 'wrong' })).status, 401);
  const basic = await api(s, '/api/push', { method: 'POST', body, key: null, headers: { authorization: `Basic ${s.chat.teacherKey}` } });
  assert.is(basic.status, 401);
}));

Push('delivers to every tab of the named people and answers who was offline', () => withServer(async (s) => {
  const ann = s.client({ name: 'Ann' });
  const { session } = await welcomed(ann);
  const ann2 = s.client({ name: 'Ann', session });
  const bob = s.client({ name: 'Bob' });
  await Promise.all([welcomed(ann2), welcomed(bob)]);
  const bobSaw = collect(bob, 'announce');
  const got = [waitFor(ann, 'announce'), waitFor(ann2, 'announce')];
  const res = await api(s, '/api/push', { method: 'POST', body: JSON.stringify({ content: 'Your quiz is graded', to: ['ann', 'Zed'] }) });
  assert.is(res.status, 200);
  assert.equal(res.json(), { delivered: ['Ann'], offline: ['Zed'] });
  for (const a of await Promise.all(got)) assert.is(a.content, 'Your quiz is graded');
  await sleep(50);
  assert.equal(bobSaw, []);
  const all = waitFor(bob, 'announce');
  const everyone = await api(s, '/api/push', { method: 'POST', body: JSON.stringify({ content: 'Break time' }) });
  assert.equal(everyone.json().delivered.sort(), ['Ann', 'Bob']);
  assert.is((await all).content, 'Break time');
}));

Push('refuses malformed and oversized bodies with a sentence', () => withServer(async (s) => {
  const cases: [string, number, RegExp][] = [
    ['{not json', 400, /not valid JSON/],
    [JSON.stringify({}), 400, /content/],
    [JSON.stringify({ content: 42 }), 400, /content/],
    [JSON.stringify({ content: '' }), 400, /content/],
    [JSON.stringify({ content: 'x'.repeat(2001) }), 400, /content/],
    [JSON.stringify({ content: 'hi', to: 'Ann' }), 400, /"to"/],
    [JSON.stringify({ content: 'hi', to: [1] }), 400, /"to"/],
    [JSON.stringify(['content']), 400, /content/],
    [JSON.stringify({ content: 'x'.repeat(40_000) }), 413, /larger/],
  ];
  for (const [body, status, sentence] of cases) {
    const res = await api(s, '/api/push', { method: 'POST', body });
    assert.is(res.status, status, body.slice(0, 40));
    assert.match(res.json().error, sentence);
  }
}));

Push.run();

// ---

const Pictures = suite('pictures');

Pictures('a real PNG and JPEG are accepted, stored, and served as pictures only', () => withServer(async (s) => {
  const ann = s.client({ name: 'Ann' });
  const bob = s.client({ name: 'Bob' });
  await Promise.all([welcomed(ann), welcomed(bob)]);
  for (const [file, type] of [['tiny.png', 'image/png'], ['tiny.jpg', 'image/jpeg']]) {
    const bytes = fixture(file);
    const seen = waitFor(bob, 'textmsg');
    const ack = await sendImage(ann, bytes);
    assert.ok(ack.ok && 'id' in ack, JSON.stringify(ack));
    const msg = await seen;
    assert.match(msg.image ?? '', /^\/images\/main\/[\w-]{21}\.(png|jpg)$/);
    assert.is(msg.content, '');
    const res = await fetch(s.url + msg.image);
    assert.is(res.headers.get('content-type'), type);
    assert.is(res.headers.get('x-content-type-options'), 'nosniff');
    assert.match(res.headers.get('content-security-policy') ?? '', /sandbox/);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes));
  }
  const late = await welcomed(s.client({ name: 'Late' }));
  assert.is(late.history.filter((m) => m.image).length, 2, 'late joiners see pictures like text');
}));

Pictures('an SVG or HTML file named .png, or an oversized file, is refused and reaches no one', () => withServer(async (s) => {
  const ann = s.client({ name: 'Ann' });
  const bob = s.client({ name: 'Bob' });
  await Promise.all([welcomed(ann), welcomed(bob)]);
  const bobSaw = collect(bob, 'textmsg');
  assert.equal(await sendImage(ann, fixture('evil-svg.png')), { ok: false, error: 'bad_image' });
  assert.equal(await sendImage(ann, fixture('evil-html.png')), { ok: false, error: 'bad_image' });
  const huge = Buffer.concat([fixture('tiny.png'), Buffer.alloc(600 * 1024)]);
  assert.equal(await sendImage(ann, huge), { ok: false, error: 'too_large' });
  const first = await new Promise<ImageAck>((resolve) =>
    ann.emit('image', { cid: 'gap', total: 100, offset: 10, data: Buffer.alloc(10) }, resolve));
  assert.equal(first, { ok: false, error: 'invalid_message' }, 'chunks must come in order');
  await sleep(50);
  assert.equal(bobSaw, []);
}));

Pictures('a private picture\'s URL reaches only the two people', () => withServer(async (s) => {
  const ann = s.client({ name: 'Ann' });
  const bob = s.client({ name: 'Bob' });
  const eve = s.client({ name: 'Eve' });
  await Promise.all([welcomed(ann), welcomed(bob), welcomed(eve)]);
  const eveSaw = collect(eve, 'textmsg');
  const bobGot = waitFor(bob, 'textmsg');
  const ack = await sendImage(ann, fixture('tiny.jpg'), { to: 'Bob' });
  assert.ok(ack.ok);
  const msg = await bobGot;
  assert.is(msg.to, 'Bob');
  await sleep(50);
  assert.equal(eveSaw, []);
  const late = await welcomed(s.client({ name: 'Late' }));
  assert.ok(!JSON.stringify(late).includes(msg.image!), 'nor in anyone else\'s history');
  const transcript = await api(s, '/api/transcript?format=json');
  assert.ok(!transcript.text.includes(msg.image!), 'nor in the transcript');
}));

Pictures('clearing the history removes the group picture files', () => withServer(async (s) => {
  const teacher = teacherOf(s);
  await welcomed(teacher);
  const seen = waitFor(teacher, 'textmsg');
  await sendImage(teacher, fixture('tiny.png'));
  const { image } = await seen;
  const path = join(s.dataDir, 'rooms', 'main', 'images', basename(image!));
  assert.ok(existsSync(path));
  await act(teacher, 'clear');
  for (let i = 0; i < 50 && existsSync(path); i++) await sleep(20); // deleted right after the ack, not before it
  assert.not.ok(existsSync(path));
  assert.is((await fetch(s.url + image)).status, 404);
}));

Pictures.run();

// ---

const Transcript = suite('GET /api/transcript');

Transcript('the group conversation with times and names, never private messages', () => withServer(async (s) => {
  const ann = s.client({ name: 'Ann' });
  const bob = s.client({ name: 'Bob' });
  await Promise.all([welcomed(ann), welcomed(bob)]);
  await say(ann, 'Hello class');
  await say(bob, 'secret to ann', 'Ann');
  await say(bob, 'Hi **all**');
  assert.is((await api(s, '/api/transcript', { key: null })).status, 401);
  assert.is((await api(s, '/api/transcript?format=pdf')).status, 400);
  const md = await api(s, '/api/transcript?format=md');
  assert.is(md.status, 200);
  assert.match(md.headers.get('content-disposition') ?? '', /attachment; filename="?transcript-main-\d{4}-\d{2}-\d{2}\.md/);
  assert.match(md.text, /\*\*Ann\*\*: Hello class/);
  assert.match(md.text, /\*\*Bob\*\*: Hi \*\*all\*\*/);
  assert.match(md.text, /\d{1,2}:\d{2}/);
  assert.not.match(md.text, /secret/);
  const json = (await api(s, '/api/transcript?format=json')).json();
  assert.equal(json.map((m: { name: string; content: string }) => [m.name, m.content]), [['Ann', 'Hello class'], ['Bob', 'Hi **all**']]);
  assert.type(json[0].ts, 'number');
}));

Transcript.run();
