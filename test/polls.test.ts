// Polls: the teacher asks, each person votes once (and may change it) until the teacher closes the poll; the
// teacher sees live counts (and who, unless anonymous), everyone sees the results once closed. Real server,
// real socket.io-client, real files; the Redis half on a real redis-server.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { TextMsg, VoteAck } from '../chat/contract.ts';
import { act, api, collect, sleep, startServer, tempDir, waitFor, welcomed, withServer, type Client, type TestServer } from './helpers.ts';
import { hasRedisServer, withRedis } from './redis-helpers.ts';

const vote = (c: Client, payload: unknown): Promise<VoteAck> => new Promise((resolve) => (c.emit as Function).call(c, 'vote', payload, resolve));
const teacherOf = (s: TestServer) => s.client({ name: 'Ms Li', avatar: 'owl', teacherKey: s.chat.teacherKey });
const OPTIONS = ['Paris', 'Rome', 'Berlin'];

/** The teacher asks; resolves with the poll message as a student received it. */
async function ask(teacher: Client, student: Client, extra: Record<string, unknown> = {}): Promise<TextMsg> {
  const shown = waitFor(student, 'textmsg', (m) => !!m.poll);
  assert.equal(await act(teacher, 'poll', { content: 'Capital of France?', options: OPTIONS, ...extra }), { ok: true });
  return shown;
}

const Polls = suite('polls');

Polls('a poll: votes (changed once), live counts and who chose what for the teacher only, then the results for all', () => withServer(async (s, lines) => {
  const teacher = teacherOf(s);
  const sam = s.client({ name: 'Sam' });
  const kim = s.client({ name: 'Kim' });
  const [, { session: samSession }] = await Promise.all([welcomed(teacher), welcomed(sam), welcomed(kim)]);
  const poll = await ask(teacher, sam);
  assert.equal([poll.content, poll.poll], ['Capital of France?', { options: OPTIONS }]);
  const samCounts = collect(sam, 'pollVotes');
  const samTab2 = s.client({ name: 'Sam', session: samSession });
  await welcomed(samTab2);
  const voted = waitFor(samTab2, 'voted');
  assert.equal(await vote(sam, { poll: poll.id, option: 1 }), { ok: true });
  assert.equal(await voted, { id: poll.id, option: 1 }, 'every tab of the voter');
  assert.equal(await vote(sam, { poll: poll.id, option: 0 }), { ok: true }, 'a vote may change');
  const live = waitFor(teacher, 'pollVotes', (v) => v.counts[0] === 2);
  assert.equal(await vote(kim, { poll: poll.id, option: 0 }), { ok: true });
  const counts = await live;
  assert.equal(counts.counts, [2, 0, 0]);
  assert.equal(counts.voters?.map((v) => `${v.name}:${v.option}`).sort(), ['Kim:0', 'Sam:0']);
  const before = (await welcomed(s.client({ name: 'Sam', session: samSession }))).history.find((m) => m.id === poll.id)!;
  assert.equal(before.poll, { options: OPTIONS, mine: 0 }, 'a student sees their vote, not the counts, while it is open');
  const closed = [sam, kim].map((c) => waitFor(c, 'pollClosed'));
  assert.equal(await act(teacher, 'closePoll', { id: poll.id }), { ok: true });
  for (const c of await Promise.all(closed)) assert.equal(c, { id: poll.id, counts: [2, 0, 0] });
  assert.equal(await vote(kim, { poll: poll.id, option: 2 }), { ok: false, error: 'closed' });
  const after = (await welcomed(s.client({ name: 'Lee' }))).history.find((m) => m.id === poll.id)!;
  assert.equal(after.poll, { options: OPTIONS, closed: true, counts: [2, 0, 0] }, 'closed: the results for everyone');
  assert.equal(samCounts, [], 'students never get the live counts');
  assert.ok(lines.some((l) => l.includes('Ms Li asked: Capital of France? (Paris / Rome / Berlin)')));
  assert.ok(lines.some((l) => l.includes('closed the poll "Capital of France?": Paris 2, Rome 0, Berlin 0')));
}));

Polls('anonymous: the teacher gets counts but never who; bad votes and forged polls are refused and count nothing', () => withServer(async (s) => {
  const teacher = teacherOf(s);
  const sam = s.client({ name: 'Sam' });
  const [{ session: teacherSession }] = await Promise.all([welcomed(teacher), welcomed(sam)]);
  const poll = await ask(teacher, sam, { anonymous: true });
  assert.equal(poll.poll, { options: OPTIONS, anonymous: true });
  const live = waitFor(teacher, 'pollVotes');
  assert.equal(await vote(sam, { poll: poll.id, option: 2 }), { ok: true });
  assert.equal(await live, { id: poll.id, counts: [0, 0, 1] }, 'no voters');
  const refusals: [Client, unknown, string][] = [
    [sam, { poll: 'no-such-poll', option: 0 }, 'not_found'],
    [sam, { poll: poll.id, option: 3 }, 'invalid_message'],
    [sam, { poll: poll.id, option: -1 }, 'invalid_message'],
    [sam, { poll: poll.id, option: 1.5 }, 'invalid_message'],
    [sam, { poll: poll.id, option: '1' }, 'invalid_message'],
    [sam, { poll: poll.id }, 'invalid_message'],
    [sam, null, 'invalid_message'],
    [teacher, { poll: poll.id, option: 0 }, 'not_allowed'],
  ];
  for (const [c, payload, error] of refusals) assert.equal(await vote(c, payload), { ok: false, error }, JSON.stringify(payload));
  const plain = await new Promise<{ ok: boolean; id?: string }>((resolve) => sam.emit('textmsg', { content: 'not a poll' }, resolve as never));
  assert.equal(await vote(sam, { poll: plain.id, option: 0 }), { ok: false, error: 'not_found' }, 'a message that is no poll');
  const badPolls: [Record<string, unknown>, string][] = [
    [{ content: 'Q?', options: ['only one'] }, 'invalid_message'],
    [{ content: 'Q?', options: ['1', '2', '3', '4', '5', '6', '7'] }, 'invalid_message'],
    [{ content: 'Q?', options: ['a', ''] }, 'invalid_message'],
    [{ content: 'Q?', options: ['a', 'x'.repeat(101)] }, 'invalid_message'],
    [{ content: 'Q?', options: ['a', 'b\nc'] }, 'invalid_message'],
    [{ content: 'Q?', options: 'a,b' }, 'invalid_message'],
    [{ content: 'Q?', options: ['a', 'b'], anonymous: 'yes' }, 'invalid_message'],
    [{ content: '  ', options: ['a', 'b'] }, 'empty'],
  ];
  for (const [extra, error] of badPolls) assert.equal(await act(teacher, 'poll', extra), { ok: false, error }, JSON.stringify(extra));
  assert.equal(await act(sam, 'poll', { content: 'Q?', options: ['a', 'b'] }), { ok: false, error: 'not_teacher' });
  assert.equal(await act(sam, 'closePoll', { id: poll.id }), { ok: false, error: 'not_teacher' });
  assert.equal(await act(teacher, 'closePoll', { id: 'nope' }), { ok: false, error: 'not_found' });
  await sleep(300);
  const { history } = await welcomed(s.client({ name: 'Ms Li', teacherKey: s.chat.teacherKey, session: teacherSession }));
  assert.equal(history.find((m) => m.id === poll.id)?.poll, { options: OPTIONS, anonymous: true, counts: [0, 0, 1] }, 'one vote counted, nobody named');
}));

Polls('votes and the closing outlive a restart; the transcript has the counts', async () => {
  const dataDir = tempDir();
  let s = await startServer({ dataDir, rateLimit: false });
  try {
    const teacher = teacherOf(s);
    const sam = s.client({ name: 'Sam' });
    const [, { session }] = await Promise.all([welcomed(teacher), welcomed(sam)]);
    await new Promise((resolve) => sam.emit('textmsg', { content: 'I am here' }, resolve)); // a session with a message is kept
    const poll = await ask(teacher, sam);
    await vote(sam, { poll: poll.id, option: 1 });
    await act(teacher, 'closePoll', { id: poll.id });
    await s.close({ keepData: true });
    s = await startServer({ dataDir, rateLimit: false });
    const back = (await welcomed(s.client({ name: 'Sam', session }))).history.find((m) => m.id === poll.id);
    assert.equal(back?.poll, { options: OPTIONS, closed: true, counts: [0, 1, 0], mine: 1 });
    const transcript = await api(s, '/api/transcript?format=md');
    assert.match(transcript.text, '(poll, closed: Paris 0 · Rome 1 · Berlin 0)');
  } finally {
    await s.close();
  }
});

const RedisPolls = suite('polls: on Redis');
(hasRedisServer() ? RedisPolls : RedisPolls.skip)('votes are stored in Redis and read back at the next start', () => withRedis(async (redis) => {
  const options = { redisUrl: redis.url, rateLimit: false as const, teacherKey: 'polls-redis-admin-key-0123456789' };
  let s = await startServer(options);
  try {
    const teacher = teacherOf(s);
    const sam = s.client({ name: 'Sam' });
    const [, { session }] = await Promise.all([welcomed(teacher), welcomed(sam)]);
    const poll = await ask(teacher, sam);
    assert.equal(await vote(sam, { poll: poll.id, option: 2 }), { ok: true });
    assert.equal(await redis.client().hget('chat:room:main:polls', `${poll.id} ${session}`), '2');
    await s.close({ keepData: true });
    s = await startServer(options);
    const back = (await welcomed(s.client({ name: 'Sam', session }))).history.find((m) => m.id === poll.id);
    assert.equal(back?.poll, { options: OPTIONS, mine: 2 });
  } finally {
    await s.close();
  }
}));

Polls.run();
RedisPolls.run();
