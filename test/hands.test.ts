// Raised hands: the teacher's queue, oldest first; a hand outlives a reconnect and drops when its person
// leaves; only the teacher lowers others'. Real server, real socket.io-client.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { HandAck } from '../chat/contract.ts';
import { act, collect, sleep, waitFor, welcomed, withServer, type Client, type TestServer } from './helpers.ts';

const hand = (c: Client, payload: unknown): Promise<HandAck> =>
  new Promise((resolve) => (c.emit as Function).call(c, 'hand', payload, resolve));
const teacherOf = (s: TestServer) => s.client({ name: 'Ms Li', avatar: 'owl', teacherKey: s.chat.teacherKey });
const names = (queue: { name: string }[]) => queue.map((h) => h.name);

const Hands = suite('raised hands');

Hands('the teacher sees a queue, oldest first; the student\'s tabs follow their hand; the teacher lowers one or all', () => withServer(async (s) => {
  const teacher = teacherOf(s);
  const sam = s.client({ name: 'Sam', avatar: 'fox' });
  const kim = s.client({ name: 'Kim' });
  const [first, { session }] = await Promise.all([waitFor(teacher, 'hands'), welcomed(sam), welcomed(kim)]);
  assert.equal(first, { queue: [] }, 'the teacher gets the queue on arrival');
  const samAgain = s.client({ name: 'Sam', session });
  await welcomed(samAgain);
  const otherTab = waitFor(samAgain, 'hand');
  let queue = waitFor(teacher, 'hands', (h) => h.queue.length === 1);
  assert.equal(await hand(sam, { up: true }), { ok: true });
  assert.equal(await otherTab, { up: true }, 'every tab of Sam');
  const [only] = (await queue).queue;
  assert.equal([only.name, only.avatar], ['Sam', 'fox']);
  assert.ok(Math.abs(only.at - Date.now()) < 2000);
  queue = waitFor(teacher, 'hands', (h) => h.queue.length === 2);
  assert.equal(await hand(kim, { up: true }), { ok: true });
  assert.equal(await hand(sam, { up: true }), { ok: true }, 'again: it keeps its place');
  assert.equal(names((await queue).queue), ['Sam', 'Kim']);
  const lowered = waitFor(sam, 'hand');
  queue = waitFor(teacher, 'hands', (h) => h.queue.length === 1);
  assert.equal(await act(teacher, 'lower', { name: 'Sam' }), { ok: true });
  assert.equal(await lowered, { up: false });
  assert.equal(names((await queue).queue), ['Kim']);
  assert.equal(await act(teacher, 'lower', { name: 'Sam' }), { ok: false, error: 'not_found' }, 'down already');
  queue = waitFor(teacher, 'hands', (h) => h.queue.length === 0);
  const kimTold = waitFor(kim, 'hand');
  assert.equal(await act(teacher, 'lowerAll'), { ok: true });
  await queue;
  assert.equal(await kimTold, { up: false });
  queue = waitFor(teacher, 'hands', (h) => h.queue.length === 1);
  assert.equal(await hand(kim, { up: true }), { ok: true });
  await queue;
  queue = waitFor(teacher, 'hands', (h) => h.queue.length === 0);
  assert.equal(await hand(kim, { up: false }), { ok: true }, 'a student lowers their own');
  await queue;
}));

Hands('a hand stays up across a reconnect of the same person, and drops once they have left', () => withServer(async (s) => {
  const teacher = teacherOf(s);
  const sam = s.client({ name: 'Sam' });
  const [, { session }] = await Promise.all([welcomed(teacher), welcomed(sam)]);
  await hand(sam, { up: true });
  sam.close(); // a phone locking its screen
  await sleep(100);
  const back = s.client({ name: 'Sam', session });
  const told = waitFor(back, 'hand');
  await welcomed(back);
  assert.equal(await told, { up: true }, 'still up');
  const dropped = waitFor(teacher, 'hands', (h) => h.queue.length === 0, 3000);
  back.close();
  await dropped; // after the grace, Sam is gone and so is the hand
  const fresh = s.client({ name: 'Sam', session });
  const heard = collect(fresh, 'hand');
  await welcomed(fresh);
  await sleep(100);
  assert.equal(heard, [], 'back later: the hand is down');
}, { limits: { leaveGraceMs: 600 } }));

Hands('bad or forged hand events get a code and change nothing', () => withServer(async (s) => {
  const teacher = teacherOf(s);
  const sam = s.client({ name: 'Sam' });
  await Promise.all([welcomed(teacher), welcomed(sam)]);
  const queues = collect(teacher, 'hands');
  for (const bad of [null, {}, { up: 'yes' }, { up: 1 }, 'up']) assert.equal(await hand(sam, bad), { ok: false, error: 'invalid_message' }, JSON.stringify(bad));
  assert.equal(await hand(teacher, { up: true }), { ok: false, error: 'not_allowed' }, 'the teacher has the floor already');
  await hand(sam, { up: true });
  await waitFor(teacher, 'hands', (h) => h.queue.length === 1);
  assert.equal(await act(sam, 'lower', { name: 'Sam' }), { ok: false, error: 'not_teacher' });
  assert.equal(await act(sam, 'lowerAll'), { ok: false, error: 'not_teacher' });
  await sleep(100);
  assert.equal(queues.map((q) => names(q.queue)), [['Sam']], 'only the real raise was told');
}));

Hands.run();
