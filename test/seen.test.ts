// "Seen by": pages report one read position per conversation; the teacher gets "seen by N of M" for what the
// teacher wrote, pinned or announced, coalesced, and who has not seen it on demand. Students never see anyone's
// read state, and a position for a message the person cannot see counts for nothing. Real server, real
// socket.io-client, real files; the Redis half on a real redis-server.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ReadAck, SeenItem, UnseenAck } from '../chat/contract.ts';
import { act, api, collect, say, sleep, startServer, tempDir, waitFor, welcomed, withServer, type Client, type TestServer } from './helpers.ts';
import { hasRedisServer, withRedis } from './redis-helpers.ts';

const read = (c: Client, payload: unknown): Promise<ReadAck> => new Promise((resolve) => (c.emit as Function).call(c, 'read', payload, resolve));
const unseen = (c: Client, id: unknown): Promise<UnseenAck> => new Promise((resolve) => (c.emit as Function).call(c, 'unseen', { id }, resolve));
const teacherOf = (s: TestServer) => s.client({ name: 'Ms Li', avatar: 'owl', teacherKey: s.chat.teacherKey });
const idOf = async (ack: Promise<{ ok: boolean; id?: string }>) => {
  const a = await ack;
  assert.ok(a.ok && a.id, JSON.stringify(a));
  return a.id!;
};
/** The teacher's next `seen` frame that says this of `id`. */
const counted = (teacher: Client, id: string, n: number, of: number, ms = 3000) =>
  waitFor(teacher, 'seen', (s) => s.items.some((i: SeenItem) => i.id === id && i.n === n && i.of === of), ms);

const Seen = suite('seen by');

Seen('the teacher\'s group message: seen by N of M, who has not seen it, positions only move forward', () => withServer(async (s) => {
  const teacher = teacherOf(s);
  const sam = s.client({ name: 'Sam' });
  const kim = s.client({ name: 'Kim' });
  await Promise.all([welcomed(teacher), welcomed(sam), welcomed(kim)]);
  const studentFrames = [collect(sam, 'seen'), collect(kim, 'seen')];
  const early = await idOf(say(sam, 'Good morning'));
  let frame = waitFor(teacher, 'seen');
  const task = await idOf(say(teacher, 'Open page 12'));
  assert.ok((await frame).items.some((i) => i.id === task && i.n === 0 && i.of === 2), 'seen by 0 of 2 at first');
  assert.equal(await unseen(teacher, task), { ok: true, names: ['Sam', 'Kim'] });
  frame = counted(teacher, task, 1, 2);
  assert.equal(await read(sam, { id: task }), { ok: true });
  await frame;
  assert.equal(await unseen(teacher, task), { ok: true, names: ['Kim'] });
  assert.equal(await read(sam, { id: early }), { ok: true }, 'an older position is no news');
  const later = await idOf(say(kim, 'Done'));
  frame = counted(teacher, task, 2, 2);
  assert.equal(await read(kim, { id: later }), { ok: true }, 'a line after it: everything before was shown too');
  await frame;
  assert.equal(await unseen(teacher, task), { ok: true, names: [] });
  assert.equal(await read(teacher, { id: later }), { ok: true }, 'the teacher reads too, and is not counted');
  await sleep(300);
  assert.equal(studentFrames.flat(), [], 'students never get read state');
  assert.equal(await unseen(teacher, early), { ok: false, error: 'not_found' }, 'a student\'s message has no count');
}));

Seen('the pin, an announcement to some, and a private message of the teacher', () => withServer(async (s) => {
  const teacher = teacherOf(s);
  const sam = s.client({ name: 'Sam' });
  const kim = s.client({ name: 'Kim' });
  await Promise.all([welcomed(teacher), welcomed(sam), welcomed(kim)]);
  const roomState = waitFor(sam, 'room', (r) => !!r.pinned);
  assert.equal(await act(teacher, 'pin', { content: 'Test on Friday' }), { ok: true });
  const { pinned } = await roomState;
  const hello = await idOf(say(kim, 'hello'));
  let frame = counted(teacher, 'pin', 1, 2);
  assert.equal(await read(kim, { id: hello, pin: pinned!.ts }), { ok: true });
  await frame;
  assert.equal(await read(sam, { id: hello, pin: 12345 }), { ok: true }, 'an old pin is not this one');
  assert.equal(await unseen(teacher, 'pin'), { ok: true, names: ['Sam'] });

  const heard = waitFor(sam, 'announce');
  const push = await api(s, '/api/push', { method: 'POST', body: JSON.stringify({ content: 'Bring your book', to: ['Sam'] }) });
  assert.is(push.status, 200);
  const announcement = await heard;
  assert.equal(await read(kim, { id: announcement.id }), { ok: false, error: 'not_found' }, 'it never reached Kim');
  frame = counted(teacher, announcement.id, 1, 1);
  assert.equal(await read(sam, { id: announcement.id }), { ok: true });
  await frame;

  const note = await idOf(say(teacher, 'See me after class', 'Sam'));
  const chat = await idOf(say(sam, 'psst', 'Kim'));
  assert.equal(await read(kim, { id: note }), { ok: false, error: 'not_found' }, 'a private message of others, as if in the group');
  assert.equal(await read(kim, { id: note, to: 'Ms Li' }), { ok: false, error: 'not_found' }, 'a private message of others');
  assert.equal(await read(sam, { id: chat, to: 'Kim' }), { ok: false, error: 'not_allowed' }, 'only a teacher\'s conversation has a "seen"');
  assert.equal(await unseen(teacher, note), { ok: true, names: ['Sam'] });
  frame = counted(teacher, note, 1, 1);
  assert.equal(await read(sam, { id: note, to: 'Ms Li' }), { ok: true });
  await frame;
  assert.equal(await unseen(teacher, note), { ok: true, names: [] });
}));

Seen('forged and malformed: a clear error, nothing counted', () => withServer(async (s) => {
  const teacher = teacherOf(s);
  const sam = s.client({ name: 'Sam' });
  await Promise.all([welcomed(teacher), welcomed(sam)]);
  const task = await idOf(say(teacher, 'Read chapter 3'));
  assert.equal(await unseen(sam, task), { ok: false, error: 'not_teacher' });
  for (const bad of [null, 'x', {}, { id: 5 }, { id: '' }, { id: 'a'.repeat(65) }, { id: task, to: 7 }, { id: task, pin: 'soon' }, { id: task, pin: 1.5 }]) {
    assert.equal(await read(sam, bad), { ok: false, error: 'invalid_message' }, JSON.stringify(bad));
  }
  assert.equal(await read(sam, { id: 'no-such-message' }), { ok: false, error: 'not_found' });
  assert.equal(await read(sam, { id: task, to: 'Nobody' }), { ok: false, error: 'not_found' });
  assert.equal(await unseen(teacher, 42), { ok: false, error: 'invalid_message' });
  assert.equal(await unseen(teacher, 'nope'), { ok: false, error: 'not_found' });
  assert.equal(await unseen(teacher, task), { ok: true, names: ['Sam'] }, 'nothing counted');
}));

Seen('reports are coalesced: many reads, at most about one push a second', () => withServer(async (s) => {
  const teacher = teacherOf(s);
  const students = Array.from({ length: 10 }, (_, i) => s.client({ name: `S${i}` }));
  await Promise.all([welcomed(teacher), ...students.map((c) => welcomed(c))]);
  const ids: string[] = [];
  for (let k = 0; k < 5; k++) ids.push(await idOf(say(teacher, `Step ${k}`)));
  await sleep(1100); // the counts of the new messages went out
  const frames = collect(teacher, 'seen');
  const start = Date.now();
  for (let k = 0; k < 5; k++) { // every student reports each step, 50 reports within about half a second
    await Promise.all(students.map((c) => read(c, { id: ids[k] })));
    await sleep(100);
  }
  await counted(teacher, ids[4], 10, 10);
  const elapsed = Date.now() - start;
  assert.ok(frames.length <= Math.ceil(elapsed / 1000) + 1, `${frames.length} pushes in ${elapsed} ms`);
  assert.equal(await unseen(teacher, ids[0]), { ok: true, names: [] });
}));

Seen('positions outlive a restart', async () => {
  const dataDir = tempDir();
  let s = await startServer({ dataDir, rateLimit: false });
  try {
    const teacher = teacherOf(s);
    const sam = s.client({ name: 'Sam' });
    const [{ session }] = await Promise.all([welcomed(teacher), welcomed(sam)]);
    await idOf(say(sam, 'I am here')); // a session with a message is known after a restart
    const task = await idOf(say(teacher, 'Homework: page 40'));
    await read(sam, { id: task });
    await sleep(1300); // stored within a second
    await s.close({ keepData: true });
    s = await startServer({ dataDir, rateLimit: false });
    const back = s.client({ name: 'Ms Li', teacherKey: s.chat.teacherKey, session });
    const frame = await waitFor(back, 'seen');
    assert.ok(frame.items.some((i) => i.id === task && i.n === 1 && i.of === 1), JSON.stringify(frame));
  } finally {
    await s.close();
  }
});

Seen.run();

const RedisSeen = suite('seen by: on Redis');
(hasRedisServer() ? RedisSeen : RedisSeen.skip)('positions are stored in Redis and read back at the next start', () => withRedis(async (redis) => {
  const options = { redisUrl: redis.url, rateLimit: false as const, teacherKey: 'seen-redis-admin-key-0123456789' };
  let s = await startServer(options);
  try {
    const teacher = teacherOf(s);
    const sam = s.client({ name: 'Sam' });
    const [{ session }, { session: samSession }] = await Promise.all([welcomed(teacher), welcomed(sam)]);
    const task = await idOf(say(teacher, 'Homework: page 41'));
    await read(sam, { id: task });
    await sleep(1300);
    assert.equal(await redis.client().hget('chat:room:main:reads', `${samSession} g`), task);
    await s.close({ keepData: true });
    s = await startServer(options);
    const frame = await waitFor(s.client({ name: 'Ms Li', teacherKey: options.teacherKey, session }), 'seen');
    assert.ok(frame.items.some((i) => i.id === task && i.n === 1 && i.of === 1), JSON.stringify(frame));
  } finally {
    await s.close();
  }
}));

RedisSeen.run();
