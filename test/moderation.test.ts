// Moderation where the teacher looks: timed mutes, deleting a message for everyone, slow mode, and a muted
// student still able to write to the teacher. Real server, real socket.io-client, real files.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Ack } from '../chat/contract.ts';
import { act, collect, say, sleep, startServer, tempDir, waitFor, welcomed, withServer, type TestServer } from './helpers.ts';

const teacherOf = (s: TestServer) => s.client({ name: 'Ms Li', avatar: 'owl', teacherKey: s.chat.teacherKey });
const idOf = (ack: Ack) => (ack.ok ? ack.id : '');

const Moderation = suite('moderation');

Moderation('a mute for 5 minutes: the student is told when it ends, can still write to the teacher, and it ends by itself', () => withServer(async (s, lines) => {
  const teacher = teacherOf(s);
  const sam = s.client({ name: 'Sam' });
  const kim = s.client({ name: 'Kim' });
  await Promise.all([welcomed(teacher), welcomed(sam), welcomed(kim)]);
  const told = waitFor(sam, 'room', (r) => r.muted.length === 1);
  const before = Date.now();
  assert.equal(await act(teacher, 'mute', { name: 'Sam', minutes: 5 }), { ok: true });
  const state = await told;
  assert.ok(state.mutedUntil && state.mutedUntil >= before + 5 * 60_000 && state.mutedUntil <= Date.now() + 5 * 60_000);
  assert.equal(await say(sam, 'hello?'), { ok: false, error: 'muted' });
  assert.equal(await say(sam, 'hello?', 'Kim'), { ok: false, error: 'muted' }, 'not to another student either');
  assert.ok((await say(sam, 'may I ask something?', 'Ms Li')).ok, 'but to the teacher, yes');
  assert.ok(lines.some((l) => l.includes('Ms Li muted Sam for 5 minutes')), 'said in the terminal');
  for (const bad of [1, 0, '5', 60, -5, null]) {
    assert.equal(await act(teacher, 'mute', { name: 'Kim', minutes: bad }), { ok: false, error: 'invalid_message' }, String(bad));
  }
}));

Moderation('a timed mute ends by itself: the room is told, the student writes again, and after a restart too', async () => {
  const dataDir = tempDir();
  let s = await startServer({ dataDir, rateLimit: false });
  try {
    const teacher = teacherOf(s);
    const sam = s.client({ name: 'Sam' });
    await Promise.all([welcomed(teacher), welcomed(sam)]);
    // A mute that ends 300 ms from now, as a stored rule would after most of its 5 minutes: written as the room keeps it.
    const room = s.chat.school.get('main')!;
    room.rules.mute(room.people.byName('Sam')!, 5, Date.now() - 5 * 60_000 + 300);
    room.watchMutes();
    room.saveMeta();
    room.broadcastState();
    assert.equal(await say(sam, 'now?'), { ok: false, error: 'muted' });
    await waitFor(sam, 'room', (r) => r.muted.length === 0, 2000);
    assert.ok((await say(sam, 'free again')).ok);
    room.rules.mute(room.people.byName('Sam')!, 15);
    room.saveMeta();
    await sleep(100);
    await s.close({ keepData: true });
    s = await startServer({ dataDir, rateLimit: false });
    const again = s.client({ name: 'Sam' });
    const { room: state } = await welcomed(again);
    assert.ok(state.mutedUntil && state.mutedUntil > Date.now() + 14 * 60_000, 'the timed mute is kept');
    assert.equal(await say(again, 'still?'), { ok: false, error: 'muted' });
  } finally {
    await s.close();
  }
});

Moderation('the teacher deletes any message for everyone: gone from pages, history and the file; a student cannot', async () => {
  const dataDir = tempDir();
  const s = await startServer({ dataDir, rateLimit: false });
  try {
    const teacher = teacherOf(s);
    const sam = s.client({ name: 'Sam' });
    const kim = s.client({ name: 'Kim' });
    await Promise.all([welcomed(teacher), welcomed(sam), welcomed(kim)]);
    const rude = await say(sam, 'something rude');
    const told = [teacher, sam, kim].map((c) => waitFor(c, 'recalled'));
    assert.equal(await act(kim, 'delete', { id: idOf(rude) }), { ok: false, error: 'not_teacher' });
    assert.equal(await act(teacher, 'delete', { id: idOf(rude) }), { ok: true });
    for (const t of await Promise.all(told)) assert.equal(t, { id: idOf(rude), name: 'Sam', byTeacher: true });
    assert.equal(await act(teacher, 'delete', { id: idOf(rude) }), { ok: false, error: 'not_found' });
    for (const bad of [undefined, 5, '', 'x'.repeat(65)]) assert.equal(await act(teacher, 'delete', { id: bad }), { ok: false, error: 'invalid_message' });
    const secret = await say(sam, 'between us', 'Kim');
    assert.equal(await act(teacher, 'delete', { id: idOf(secret) }), { ok: false, error: 'not_found' }, 'a private message of others is not the teacher\'s to see');
    const { history } = await welcomed(s.client({ name: 'Lee' }));
    assert.not.ok(history.some((m) => m.id === idOf(rude)));
    assert.not.ok(readFileSync(join(dataDir, 'rooms', 'main', 'messages.jsonl'), 'utf8').includes('something rude'));
  } finally {
    await s.close();
  }
});

Moderation('slow mode: a student waits between messages (slow_mode), the teacher does not; off again', () => withServer(async (s, lines) => {
  const teacher = teacherOf(s);
  const sam = s.client({ name: 'Sam' });
  const [, { room }] = await Promise.all([welcomed(teacher), welcomed(sam)]);
  assert.is(room.slow, 0);
  const told = waitFor(sam, 'room', (r) => r.slow === 10);
  assert.equal(await act(teacher, 'slow', { seconds: 10 }), { ok: true });
  await told;
  assert.ok((await say(sam, 'first')).ok);
  assert.equal(await say(sam, 'second'), { ok: false, error: 'slow_mode' });
  assert.ok((await say(sam, 'a question', 'Ms Li')).ok, 'the teacher can always be asked');
  assert.ok((await say(teacher, 'one')).ok && (await say(teacher, 'two')).ok, 'the teacher is not slowed');
  assert.ok(lines.some((l) => l.includes('slow mode on: one message every 10 s')));
  for (const bad of [5, '10', -1, null, undefined]) assert.equal(await act(teacher, 'slow', { seconds: bad }), { ok: false, error: 'invalid_message' });
  const off = waitFor(sam, 'room', (r) => r.slow === 0);
  assert.equal(await act(teacher, 'slow', { seconds: 0 }), { ok: true });
  await off;
  assert.ok((await say(sam, 'second, now')).ok);
}));

Moderation('a student forging the new teacher actions gets not_teacher, and nothing changes', () => withServer(async (s) => {
  const teacher = teacherOf(s);
  const sam = s.client({ name: 'Sam' });
  const kim = s.client({ name: 'Kim' });
  await Promise.all([welcomed(teacher), welcomed(sam), welcomed(kim)]);
  const mine = await say(kim, 'mine');
  const rooms = collect(sam, 'room');
  const recalls = collect(sam, 'recalled');
  const forged: [string, Record<string, unknown>][] = [
    ['mute', { name: 'Kim', minutes: 5 }], ['slow', { seconds: 60 }], ['delete', { id: idOf(mine) }], ['unmute', { name: 'Sam' }],
  ];
  for (const [action, extra] of forged) assert.equal(await act(sam, action, extra), { ok: false, error: 'not_teacher' }, action);
  await sleep(100);
  assert.equal([rooms, recalls], [[], []]);
  assert.ok((await say(kim, 'still free')).ok);
}));

Moderation.run();
