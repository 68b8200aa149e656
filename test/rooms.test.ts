// Rooms: one server for every class. Nothing crosses from one room to another; rooms, keys and rules
// survive a restart; a DATA_DIR from before rooms becomes the default room's.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { act, api, collect, fixture, refused, say, sendImage, sleep, startServer, tempDir, waitFor, welcomed, withServer, type TestServer } from './helpers.ts';
import { createChatServer } from '../server.ts';

type RoomInfo = { id: string; title: string; teacherKey: string; url: string; teacherUrl: string; online?: number };

async function createRoom(s: TestServer, body: Record<string, unknown>): Promise<RoomInfo> {
  const res = await api(s, '/api/rooms', { method: 'POST', body: JSON.stringify(body) });
  assert.is(res.status, 201, res.text);
  return res.json();
}

// ---

const Isolation = suite('rooms: nothing crosses');

Isolation('group, private, typing, presence, counts, names and sessions stay in their room', () => withServer(async (s) => {
  await createRoom(s, { id: '7b', title: '7B Maths' });
  const annMain = s.client({ name: 'Ann' });
  const wMain = await welcomed(annMain);
  assert.equal([wMain.room.id, wMain.room.title], ['main', 'Class chat']);
  await waitFor(annMain, 'online'); // her own arrival
  const presenceMain = collect(annMain, 'online');
  const seenMain = collect(annMain, 'textmsg');
  const typingMain = collect(annMain, 'typing');
  const ann7b = s.client({ name: 'Ann', room: '7b' }); // the same nickname, another person, another room
  const w7b = await welcomed(ann7b);
  assert.equal([w7b.room.id, w7b.room.title, w7b.count], ['7b', '7B Maths', 1]);
  assert.is.not(w7b.session, wMain.session);
  const bob = s.client({ name: 'Bob', room: '7b', avatar: 'owl' });
  const wBob = await welcomed(bob);
  assert.equal(wBob.users.map((u) => u.name).sort(), ['Ann', 'Bob']);
  assert.is(wBob.count, 2);

  const inRoom = waitFor(ann7b, 'textmsg');
  assert.ok((await say(bob, 'hello 7b')).ok);
  assert.is((await inRoom).content, 'hello 7b');
  assert.equal(await say(annMain, 'psst', 'Bob'), { ok: false, error: 'not_online' }, 'Bob is online in 7b only');
  const typing = waitFor(ann7b, 'typing');
  bob.emit('typing', {});
  await typing;
  const main2 = s.client({ name: 'Bob' }); // "Bob" is free in main
  const wMain2 = await welcomed(main2);
  assert.is(wMain2.count, 2);
  assert.equal(wMain2.history, [], 'no message of 7b in the history of main');
  await sleep(400); // past the coalesced online count
  assert.equal(seenMain, []);
  assert.equal(typingMain, []);
  assert.equal(presenceMain.flatMap((o) => o.joined ?? []).map((j) => j.name), ['Bob'], 'only main\'s own Bob');
  assert.ok(presenceMain.every((o) => o.count <= 2));

  const stranger = s.client({ name: 'Dee', room: '7b', session: wMain.session }); // a session of main presented in 7b
  assert.is.not((await welcomed(stranger)).session, wMain.session, 'a session of another room is a new person');
}));

Isolation('pictures belong to their room', () => withServer(async (s) => {
  await createRoom(s, { id: '7b', title: '7B' });
  const ann = s.client({ name: 'Ann', room: '7b' });
  await welcomed(ann);
  const seen = waitFor(ann, 'textmsg');
  assert.ok((await sendImage(ann, fixture('tiny.png'))).ok);
  const { image } = await seen;
  assert.match(image ?? '', /^\/images\/7b\/[\w-]{21}\.png$/);
  assert.is((await fetch(s.url + image)).status, 200);
  assert.is((await fetch(s.url + image!.replace('/7b/', '/main/'))).status, 404);
  assert.ok(existsSync(join(s.dataDir, 'rooms', '7b', 'images', image!.split('/').pop()!)));
  assert.equal((await welcomed(s.client({ name: 'Eve' }))).history, []);
}));

Isolation('teacher keys and actions hold in their own room only', () => withServer(async (s) => {
  const b7 = await createRoom(s, { id: '7b', title: '7B' });
  const teacher7b = s.client({ name: 'Ms Lee', room: '7b', teacherKey: b7.teacherKey });
  assert.is((await welcomed(teacher7b)).teacher, true);
  assert.is((await refused(s.client({ name: 'Ms Lee', teacherKey: b7.teacherKey }))).message, 'bad_key', '7b\'s key in main');
  const admin = s.client({ name: 'Head', teacherKey: s.chat.teacherKey });
  assert.is((await welcomed(admin)).teacher, true, 'the admin key is teacher everywhere');
  const ann7b = s.client({ name: 'Ann', room: '7b' });
  const annMain = s.client({ name: 'Ann' });
  await Promise.all([welcomed(ann7b), welcomed(annMain)]);
  assert.equal(await act(teacher7b, 'mute', { name: 'Ann' }), { ok: true });
  assert.equal(await act(teacher7b, 'quiet'), { ok: true });
  assert.equal(await say(ann7b, 'x'), { ok: false, error: 'muted' });
  assert.ok((await say(annMain, 'main is not quiet')).ok);
  assert.equal(await act(teacher7b, 'kick', { name: 'Head' }), { ok: false, error: 'not_online' }, 'nobody of main can be removed from 7b');
  const cleared = collect(annMain, 'cleared');
  await act(teacher7b, 'clear');
  await sleep(50);
  assert.equal(cleared, []);
  assert.equal((await welcomed(s.client({ name: 'Late' }))).history.map((m) => m.content), ['main is not quiet']);
}));

Isolation('an unknown room is refused as no_room, in both languages', () => withServer(async (s) => {
  for (const room of ['nope', '../main', 'MAIN', '', 42, { id: 'main' }]) {
    const err = await refused(s.client({ name: 'Ann', room }));
    assert.is(err.message, 'no_room', JSON.stringify(room));
    assert.match(err.data?.message ?? '', /class/);
  }
  assert.match((await refused(s.client({ name: 'Ann', room: 'nope', lang: 'zh' }))).data?.message ?? '', /班级/);
}));

Isolation.run();

// ---

const Api = suite('rooms: the admin API');

Api('creating rooms: the admin key only, ids and titles checked', () => withServer(async (s) => {
  const body = JSON.stringify({ title: '7B Maths', id: '7b' });
  assert.is((await api(s, '/api/rooms', { method: 'POST', body, key: null })).status, 401);
  assert.is((await api(s, '/api/rooms', { method: 'POST', body, key: 'not-the-key-at-all' })).status, 401);
  const room = await createRoom(s, { title: '7B Maths', id: '7b' });
  assert.equal([room.id, room.title], ['7b', '7B Maths']);
  assert.match(room.url, /^http:\/\/.+:\d+\/\?room=7b$/);
  assert.is(room.teacherUrl, `${room.url}#teacher=${room.teacherKey}`);
  assert.is((await api(s, '/api/rooms', { method: 'POST', body: JSON.stringify({ title: 'x' }), key: room.teacherKey })).status, 403);
  assert.is((await api(s, '/api/rooms', { key: room.teacherKey })).status, 403);
  assert.is((await api(s, '/api/rooms', { method: 'POST', body })).status, 409);
  for (const bad of [{ title: 'x', id: 'Bad Id' }, { title: 'x', id: '-x' }, { title: 'x', id: 'a'.repeat(33) }, { title: '' }, { title: 'x'.repeat(61) }, { id: 'y' }, { title: 42 }]) {
    const res = await api(s, '/api/rooms', { method: 'POST', body: JSON.stringify(bad) });
    assert.is(res.status, 400, JSON.stringify(bad));
    assert.match(res.json().error, /"(id|title)"/);
  }
  const auto = await createRoom(s, { title: '7B Maths' });
  assert.is(auto.id, '7b-maths', 'an id is made from the title');
  const list = (await api(s, '/api/rooms')).json() as RoomInfo[];
  assert.equal(list.map((r) => [r.id, r.online]).sort(), [['7b', 0], ['7b-maths', 0], ['main', 0]]);
  assert.equal((await api(s, '/api/rooms/7b', { key: null })).json(), { id: '7b', title: '7B Maths' }, 'the title is public');
  assert.is((await api(s, '/api/rooms/nope', { key: null })).status, 404);
}));

Api('a sensible cap on the number of rooms', () => withServer(async (s) => {
  let status = 201;
  let made = 1;
  while (status === 201 && made < 500) {
    status = (await api(s, '/api/rooms', { method: 'POST', body: JSON.stringify({ title: `Room ${made}` }) })).status;
    if (status === 201) made++;
  }
  assert.is(status, 409);
  assert.is(made, 200);
}));

Api('deleting a room tells everyone in it, disconnects them and deletes its data', () => withServer(async (s) => {
  const room = await createRoom(s, { id: '7b', title: '7B' });
  const ann = s.client({ name: 'Ann', room: '7b' });
  const annMain = s.client({ name: 'Ann' });
  await Promise.all([welcomed(ann), welcomed(annMain)]);
  await sendImage(ann, fixture('tiny.png'));
  const closed = waitFor(ann, 'closed');
  const gone = new Promise((resolve) => ann.once('disconnect', resolve));
  assert.is((await api(s, '/api/rooms/7b', { method: 'DELETE', key: room.teacherKey })).status, 403);
  assert.is((await api(s, '/api/rooms/main', { method: 'DELETE' })).status, 409);
  assert.is((await api(s, '/api/rooms/nope', { method: 'DELETE' })).status, 404);
  assert.is((await api(s, '/api/rooms/7b', { method: 'DELETE' })).status, 204);
  await closed;
  await gone;
  assert.ok(annMain.connected, 'the other room is untouched');
  assert.not.ok(existsSync(join(s.dataDir, 'rooms', '7b')));
  assert.is((await refused(s.client({ name: 'Ann', room: '7b' }))).message, 'no_room');
  assert.is((await api(s, '/api/transcript?room=7b')).status, 404);
}));

Api('push and transcript: a room teacher key for its own room, the admin key for any', () => withServer(async (s) => {
  const room = await createRoom(s, { id: '7b', title: '7B Maths' });
  const ann = s.client({ name: 'Ann', room: '7b' });
  const annMain = s.client({ name: 'Ann' });
  await Promise.all([welcomed(ann), welcomed(annMain)]);
  await say(ann, 'in 7b');
  await say(annMain, 'in main');
  const heard = waitFor(ann, 'announce');
  const mainHeard = collect(annMain, 'announce');
  const push = await api(s, '/api/push', { method: 'POST', body: JSON.stringify({ content: 'Test at 10', room: '7b' }), key: room.teacherKey });
  assert.equal(push.json(), { delivered: ['Ann'], offline: [] });
  assert.is((await heard).content, 'Test at 10');
  assert.is((await api(s, '/api/push', { method: 'POST', body: JSON.stringify({ content: 'x' }), key: room.teacherKey })).status, 403, 'not main');
  const own = await api(s, '/api/transcript?room=7b&format=json', { key: room.teacherKey });
  assert.equal((own.json() as { content: string }[]).map((m) => m.content), ['in 7b']);
  assert.match(own.headers.get('content-disposition') ?? '', /transcript-7b-/);
  assert.is((await api(s, '/api/transcript', { key: room.teacherKey })).status, 403);
  const byAdmin = await api(s, '/api/transcript?format=json');
  assert.equal((byAdmin.json() as { content: string }[]).map((m) => m.content), ['in main']);
  await sleep(50);
  assert.equal(mainHeard, []);
}));

Api('the projector page of a room: its title, its address and QR code', () => withServer(async (s) => {
  await createRoom(s, { id: '7b', title: '7B <Maths>' });
  const page = await api(s, '/join?room=7b', { key: null });
  assert.is(page.status, 200);
  assert.match(page.text, /7B &#60;Maths&#62;/);
  assert.match(page.text, /\/\?room=7b/);
  assert.match(page.text, /src="\/join\.svg\?room=7b"/);
  assert.not.match(page.text, /localhost/);
  const qr = await fetch(`${s.url}/join.svg?room=7b`);
  assert.is(qr.headers.get('content-type'), 'image/svg+xml; charset=utf-8');
  assert.is((await api(s, '/join?room=nope', { key: null })).status, 404);
}));

Api.run();

// ---

const Restart = suite('rooms: restart and upgrade');

Restart('rooms, keys and the teacher\'s rules survive a restart', async () => {
  const dataDir = tempDir();
  let s = await startServer({ dataDir, rateLimit: false });
  const adminKey = s.chat.teacherKey;
  try {
    const room = await createRoom(s, { id: '7b', title: '7B Maths' });
    const teacher = s.client({ name: 'Ms Lee', room: '7b', teacherKey: room.teacherKey });
    const [ann, bob] = [s.client({ name: 'Ann', room: '7b' }), s.client({ name: 'Bob', room: '7b' })];
    await Promise.all([welcomed(teacher), welcomed(ann), welcomed(bob)]);
    for (const [action, extra] of [['mute', { name: 'Ann' }], ['kick', { name: 'Bob' }], ['quiet', {}], ['pin', { content: 'Be kind' }]] as const) {
      assert.equal(await act(teacher, action, extra), { ok: true }, action);
    }
    await s.close({ keepData: true });
    s = await startServer({ dataDir, rateLimit: false });
    assert.is(s.chat.teacherKey, adminKey, 'the admin key is kept in DATA_DIR');
    const back = await welcomed(s.client({ name: 'Ms Lee', room: '7b', teacherKey: room.teacherKey }));
    assert.is(back.teacher, true, 'the room\'s teacher key still works');
    assert.equal([back.room.quiet, back.room.pinned?.content, back.room.muted, back.room.kicked], [true, 'Be kind', ['Ann'], ['Bob']]);
    assert.is((await refused(s.client({ name: 'bob', room: '7b' }))).message, 'kicked', 'a removal holds for the nickname');
    const annBack = s.client({ name: 'Ann', room: '7b' });
    assert.equal((await welcomed(annBack)).room.muted, ['Ann'], 'a mute holds for the nickname');
    assert.equal((await api(s, '/api/rooms/7b', { key: null })).json(), { id: '7b', title: '7B Maths' });
  } finally {
    await s.close();
  }
});

Restart('a DATA_DIR written before rooms becomes the default room\'s, losing nothing', async () => {
  const dataDir = tempDir();
  cpSync(new URL('./fixtures/data-before-rooms', import.meta.url), dataDir, { recursive: true });
  const s = await startServer({ dataDir, rateLimit: false });
  try {
    assert.not.ok(existsSync(join(dataDir, 'messages.jsonl')));
    assert.equal(readdirSync(join(dataDir, 'rooms', 'main', 'images')), ['BGNZ6EKFKRQt1X0K-WwU_.png']);
    const ann = await welcomed(s.client({ name: 'Ann', session: 'dI6VCxr8ZDcTB_zCFtln3' }));
    assert.is(ann.session, 'dI6VCxr8ZDcTB_zCFtln3', 'her session is still hers');
    assert.equal(ann.history.map((m) => m.content), ['Hello from before rooms', 'a private word for Ann', 'Homework: page 12', '']);
    const picture = ann.history[3].image!;
    assert.is(picture, '/images/main/BGNZ6EKFKRQt1X0K-WwU_.png');
    const res = await fetch(s.url + picture);
    assert.equal([res.status, res.headers.get('content-type')], [200, 'image/png']);
    assert.equal(Buffer.from(await res.arrayBuffer()), fixture('data-before-rooms/images/BGNZ6EKFKRQt1X0K-WwU_.png'));
    const fresh = await welcomed(s.client({ name: 'Cleo' }));
    assert.equal(fresh.history.map((m) => m.content), ['Hello from before rooms', 'Homework: page 12', ''], 'no private line for others');
  } finally {
    await s.close();
  }
});

Restart.run();

// ---

const Keys = suite('keys');

Keys('a TEACHER_KEY shorter than 16 characters is refused at start', async () => {
  const chat = createChatServer({ dataDir: tempDir(), teacherKey: 'short-key', log: () => {} });
  try {
    await chat.listen(0);
    assert.unreachable('it started');
  } catch (err) {
    assert.match((err as Error).message, /at least 16 characters/);
  }
});

Keys('guessing keys is slowed down per address: handshake and HTTP alike, the right key too while blocked', () => withServer(async (s) => {
  const refusals: string[] = [];
  for (let i = 0; i < 20; i++) refusals.push((await refused(s.client({ name: `g${i}`, teacherKey: `guess-number-${i}` }))).message);
  assert.ok(refusals.every((r) => r === 'bad_key'));
  assert.is((await refused(s.client({ name: 'g', teacherKey: 'one-more-guess' }))).message, 'rate_limited');
  assert.is((await refused(s.client({ name: 'g', teacherKey: s.chat.teacherKey }))).message, 'rate_limited');
  assert.is((await api(s, '/api/rooms', { key: 'another-guess' })).status, 429);
  assert.ok((await welcomed(s.client({ name: 'student' }))).name, 'students without a key are not affected');
}));

Keys.run();
