// The waiting room: a locked room lets the people it knows in as usual; anyone new waits, connected but in no
// room, until the teacher admits or refuses them; a waiting page keeps its place across a reconnect.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { act, collect, say, sleep, waitFor, welcomed, withServer, type Client, type TestServer } from './helpers.ts';
import { disconnected } from './stress-helpers.ts';

const teacherOf = (s: TestServer) => s.client({ name: 'Ms Li', avatar: 'owl', teacherKey: s.chat.teacherKey });
const names = (queue: { name: string }[]) => queue.map((w) => w.name);

/** A client that must be told to wait (and not be welcomed); resolves with its token. */
async function waits(c: Client): Promise<string> {
  const welcomes = collect(c, 'welcome');
  const { token } = await waitFor(c, 'waiting');
  await sleep(50);
  assert.equal(welcomes, [], 'no welcome while waiting');
  return token;
}

const Waiting = suite('waiting room');

Waiting('locked: the people the room knows come in as usual; someone new waits, hears nothing, and is let in by the teacher', () => withServer(async (s, lines) => {
  const teacher = teacherOf(s);
  const ann = s.client({ name: 'Ann' });
  const [, { session: annSession, room }] = await Promise.all([welcomed(teacher), welcomed(ann)]);
  assert.is(room.locked, false);
  const told = waitFor(ann, 'room', (r) => r.locked);
  assert.equal(await act(teacher, 'lock'), { ok: true });
  await told;
  ann.close();
  const annAgain = s.client({ name: 'Ann', session: annSession });
  await welcomed(annAgain); // known: straight in
  const listed = waitFor(teacher, 'waitlist', (w) => w.queue.length === 1);
  const bob = s.client({ name: 'Bob', avatar: 'fox' });
  await waits(bob);
  const [entry] = (await listed).queue;
  assert.equal([entry.name, entry.avatar], ['Bob', 'fox']);
  const bobHears = collect(bob, 'textmsg');
  await say(annAgain, 'only for the class');
  assert.equal(await say(bob, 'let me in!'), { ok: false, error: 'invalid_message' }, 'a waiting page may not write');
  await sleep(100);
  assert.equal(bobHears, [], 'a waiting page hears nothing of the room');
  const welcome = waitFor(bob, 'welcome');
  const emptied = waitFor(teacher, 'waitlist', (w) => w.queue.length === 0);
  assert.equal(await act(teacher, 'admit', { name: 'Bob' }), { ok: true });
  const w = await welcome;
  assert.equal([w.name, w.history.map((m) => m.content)], ['Bob', ['only for the class']]);
  await emptied;
  assert.ok((await say(bob, 'thank you')).ok);
  assert.ok(lines.some((l) => l.includes('Ms Li let Bob in')));
}));

Waiting('the teacher refuses someone: their page is told and disconnected; a wrong name is not_found', () => withServer(async (s) => {
  const teacher = teacherOf(s);
  await welcomed(teacher);
  await act(teacher, 'lock');
  const cy = s.client({ name: 'Cy' });
  await waits(cy);
  assert.equal(await act(teacher, 'refuse', { name: 'Nobody' }), { ok: false, error: 'not_found' });
  const turned = waitFor(cy, 'turnedAway');
  const gone = disconnected(cy);
  assert.equal(await act(teacher, 'refuse', { name: 'Cy' }), { ok: true });
  assert.equal(await turned, { why: 'refused' });
  await gone;
}));

Waiting('a waiting page keeps its place across a reconnect; let in while away, it comes straight in', () => withServer(async (s) => {
  const teacher = teacherOf(s);
  await welcomed(teacher);
  await act(teacher, 'lock');
  const dee = s.client({ name: 'Dee' });
  const token = await waits(dee);
  const eve = s.client({ name: 'Eve' });
  await waits(eve);
  dee.close(); // a phone locking its screen
  await sleep(100);
  const deeBack = s.client({ name: 'Dee', waitToken: token });
  const listed = waitFor(teacher, 'waitlist');
  assert.is(await waits(deeBack), token, 'the same place');
  assert.equal(names((await listed).queue), ['Dee', 'Eve'], 'still first');
  deeBack.close();
  await sleep(100);
  assert.equal(await act(teacher, 'admit', { name: 'Dee' }), { ok: true });
  const deeLater = s.client({ name: 'Dee', waitToken: token });
  assert.is((await welcomed(deeLater)).name, 'Dee', 'let in while away: straight in');
  const stranger = s.client({ name: 'Zed', waitToken: token });
  await waits(stranger); // the token was used: anyone else with it waits
}));

Waiting('unlocking lets everyone waiting in; a student cannot lock, admit or refuse; the lock outlives a restart', () => withServer(async (s) => {
  const teacher = teacherOf(s);
  const sam = s.client({ name: 'Sam' });
  await Promise.all([welcomed(teacher), welcomed(sam)]);
  for (const action of ['lock', 'unlock', 'admitAll']) assert.equal(await act(sam, action), { ok: false, error: 'not_teacher' }, action);
  await act(teacher, 'lock');
  const fay = s.client({ name: 'Fay' });
  await waits(fay);
  assert.equal(await act(sam, 'admit', { name: 'Fay' }), { ok: false, error: 'not_teacher' });
  assert.equal(await act(sam, 'refuse', { name: 'Fay' }), { ok: false, error: 'not_teacher' });
  const room = s.chat.school.get('main')!;
  assert.is(room.meta.locked, true, 'kept with the rules');
  const welcome = waitFor(fay, 'welcome');
  assert.equal(await act(teacher, 'unlock'), { ok: true });
  assert.is((await welcome).name, 'Fay');
  const gil = s.client({ name: 'Gil' });
  await welcomed(gil); // open again
}));

Waiting.run();
