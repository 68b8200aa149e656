// Replies: a message quoting an earlier one of its conversation. Real server, real socket.io-client, real
// files; the Redis half on a real redis-server (skipped with a loud line without one, failing under CI).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Ack, TextMsg } from '../chat/contract.ts';
import { collect, fixture, say, sendImage, sleep, startServer, tempDir, waitFor, welcomed, withServer, type Client } from './helpers.ts';
import { hasRedisServer, withRedis } from './redis-helpers.ts';

const send = (c: Client, payload: unknown): Promise<Ack> =>
  new Promise((resolve) => (c.emit as Function).call(c, 'textmsg', payload, resolve));
const recall = (c: Client, id: string) => new Promise((resolve) => (c.emit as Function).call(c, 'recall', { id }, resolve));
const idOf = (ack: Ack) => (ack.ok ? ack.id : '');

const Replies = suite('replies');

Replies('a reply carries a short quote of its original, live and in history; a picture is quoted as one', () => withServer(async (s) => {
  const ann = s.client({ name: 'Ann' });
  const bob = s.client({ name: 'Bob' });
  await Promise.all([welcomed(ann), welcomed(bob)]);
  const long = `Read\npage ${'4 '.repeat(60)}`;
  const original = await say(ann, long);
  const picture = await sendImage(ann, fixture('tiny.png'));
  const live = waitFor(ann, 'textmsg', (m) => m.content === 'Which page?');
  const reply = await send(bob, { content: 'Which page?', replyTo: idOf(original) });
  assert.ok(reply.ok);
  const quote = (await live).reply;
  assert.ok(quote && !('gone' in quote));
  assert.is(quote.id, idOf(original));
  assert.is(quote.name, 'Ann');
  assert.is([...quote.content].length, 80, 'cut to 80 code points');
  assert.ok(quote.content.startsWith('Read page 4 4'), 'on one line');
  assert.ok(quote.content.endsWith('…'));
  const toPicture = await send(bob, { content: 'Nice', replyTo: picture.ok && 'id' in picture ? picture.id : '' });
  assert.ok(toPicture.ok);
  const { history } = await welcomed(s.client({ name: 'Cy' }));
  const nice = history.find((m) => m.content === 'Nice');
  assert.equal(nice?.reply, { id: picture.ok && 'id' in picture ? picture.id : '', name: 'Ann', content: '', image: true });
  assert.equal(history.find((m) => m.content === 'Which page?')?.reply, quote);
}));

Replies('a private reply quotes only its own conversation; anything else is refused and reaches no one', () => withServer(async (s) => {
  const ann = s.client({ name: 'Ann' });
  const bob = s.client({ name: 'Bob' });
  const eve = s.client({ name: 'Eve' });
  await Promise.all([welcomed(ann), welcomed(bob), welcomed(eve)]);
  const group = await say(ann, 'to all');
  const bobHasIt = waitFor(bob, 'textmsg', (m) => m.content === 'for Bob only');
  const secret = await say(ann, 'for Bob only', 'Bob');
  await bobHasIt;
  const heard = [ann, bob, eve].map((c) => collect(c, 'textmsg'));
  const ok = await send(bob, { content: 'got it', to: 'Ann', replyTo: idOf(secret) });
  assert.ok(ok.ok, 'Bob replies privately to Ann\'s private message');
  const refusals: [Client, unknown, string][] = [
    [eve, { content: 'peek', replyTo: idOf(secret) }, 'not_found'], // a third person's private message, in the group
    [eve, { content: 'peek', to: 'Ann', replyTo: idOf(secret) }, 'not_found'], // ... or in a private one with one of them
    [bob, { content: 'mixed', replyTo: idOf(secret) }, 'not_found'], // a private message quoted in the group
    [bob, { content: 'mixed', to: 'Ann', replyTo: idOf(group) }, 'not_found'], // a group message quoted privately
    [bob, { content: 'what?', replyTo: 'no-such-message' }, 'not_found'],
    [bob, { content: 'what?', replyTo: 42 }, 'invalid_message'],
    [bob, { content: 'what?', replyTo: '' }, 'invalid_message'],
    [bob, { content: 'what?', replyTo: 'x'.repeat(65) }, 'invalid_message'],
  ];
  for (const [c, payload, error] of refusals) assert.equal(await send(c, payload), { ok: false, error }, JSON.stringify(payload));
  await sleep(100);
  const contents = heard.map((list) => list.map((m) => m.content));
  assert.equal(contents, [['got it'], ['got it'], []], 'only the two people got the one accepted reply');
  assert.is(heard[0][0].reply && 'content' in heard[0][0].reply ? heard[0][0].reply.content : '', 'for Bob only');
}));

Replies('the original recalled: its words leave every reply, in history, catch-up, the file and after a restart', async () => {
  const dataDir = tempDir();
  let s = await startServer({ dataDir, rateLimit: false });
  try {
    const ann = s.client({ name: 'Ann' });
    const bob = s.client({ name: 'Bob' });
    await Promise.all([welcomed(ann), welcomed(bob)]);
    const first = await say(ann, 'first');
    const oops = await say(ann, 'the secret answer is 42');
    const reply = await send(bob, { content: 'thanks!', replyTo: idOf(oops) });
    assert.equal(await recall(ann, idOf(oops)), { ok: true });
    const gone = { id: idOf(oops), gone: true };
    const replyIn = (history: TextMsg[]) => history.find((m) => m.id === idOf(reply))?.reply;
    assert.equal(replyIn((await welcomed(s.client({ name: 'Cy' }))).history), gone, 'in a fresh history');
    assert.equal(replyIn((await welcomed(s.client({ name: 'Dee', lastId: idOf(first) }))).history), gone, 'in a catch-up');
    const log = readFileSync(join(dataDir, 'rooms', 'main', 'messages.jsonl'), 'utf8');
    assert.not.ok(log.includes('secret answer'), 'not in the file');
    assert.ok(log.includes('thanks!'));
    await s.close({ keepData: true });
    s = await startServer({ dataDir, rateLimit: false });
    assert.equal(replyIn((await welcomed(s.client({ name: 'Eve' }))).history), gone, 'after a restart');
  } finally {
    await s.close();
  }
});

const RedisReplies = suite('replies: on Redis');
const isRedis = hasRedisServer();

(isRedis ? RedisReplies : RedisReplies.skip)('the original recalled: the quote leaves the Redis log too, and stays gone after a restart', () => withRedis(async (redis) => {
  const options = { redisUrl: redis.url, rateLimit: false as const, teacherKey: 'replies-redis-admin-key-0123456789' };
  let s = await startServer(options);
  try {
    const ann = s.client({ name: 'Ann' });
    const bob = s.client({ name: 'Bob' });
    await Promise.all([welcomed(ann), welcomed(bob)]);
    const oops = await say(ann, 'the secret answer is 42');
    const reply = await send(bob, { content: 'thanks!', replyTo: idOf(oops) });
    const before = (await redis.client().lrange('chat:room:main:log', 0, -1)).join('\n');
    assert.ok(before.includes('secret answer'), 'quoted in the reply\'s line first');
    assert.equal(await recall(ann, idOf(oops)), { ok: true });
    const lines = await redis.client().lrange('chat:room:main:log', 0, -1);
    assert.is(lines.length, 1);
    assert.not.ok(lines[0].includes('secret answer'));
    assert.equal(JSON.parse(lines[0]).reply, { id: idOf(oops), gone: true });
    await s.close({ keepData: true });
    s = await startServer(options);
    const { history } = await welcomed(s.client({ name: 'Cy' }));
    assert.equal(history.map((m) => [m.id, m.reply]), [[idOf(reply), { id: idOf(oops), gone: true }]]);
  } finally {
    await s.close();
  }
}));

Replies.run();
RedisReplies.run();
