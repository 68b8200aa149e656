// Recall: taking back one's own message within two minutes, as WeChat does. Real server, real socket.io-client.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RecallAck } from '../chat/contract.ts';
import { collect, say, sendImage, fixture, sleep, startServer, tempDir, waitFor, welcomed, withServer, type Client } from './helpers.ts';

const recall = (c: Client, payload: unknown): Promise<RecallAck> =>
  new Promise((resolve) => (c.emit as Function).call(c, 'recall', payload, resolve));
const idOf = (ack: { ok: boolean; id?: string }) => (ack.ok && ack.id) || '';

const Recall = suite('recall');

Recall('one\'s own group message: everyone is told, and it is gone from history, catch-up and the file', async () => {
  const dataDir = tempDir();
  let s = await startServer({ dataDir, rateLimit: false });
  try {
    const ann = s.client({ name: 'Ann' });
    const bob = s.client({ name: 'Bob' });
    await Promise.all([welcomed(ann), welcomed(bob)]);
    const keep = await say(ann, 'this one stays');
    const oops = await say(ann, 'oops, wrong class');
    const told = [ann, bob].map((c) => waitFor(c, 'recalled'));
    assert.equal(await recall(ann, { id: idOf(oops) }), { ok: true });
    for (const t of await Promise.all(told)) assert.equal(t, { id: idOf(oops), name: 'Ann' });
    const late = s.client({ name: 'Cy', lastId: idOf(keep) });
    const { history } = await welcomed(late);
    assert.not.ok(history.some((m) => m.id === idOf(oops)), 'not in a catch-up');
    const log = readFileSync(join(dataDir, 'rooms', 'main', 'messages.jsonl'), 'utf8');
    assert.not.ok(log.includes('wrong class'), 'not in the file');
    assert.ok(log.includes('this one stays'));
    await s.close({ keepData: true });
    s = await startServer({ dataDir, rateLimit: false });
    const again = s.client({ name: 'Dee' });
    const after = await welcomed(again);
    assert.equal(after.history.map((m) => m.content), ['this one stays'], 'not back after a restart');
  } finally {
    await s.close();
  }
});

Recall('someone else\'s message is not_allowed, an unknown or unseen one not_found, a bad payload invalid_message; none is told', () => withServer(async (s) => {
  const ann = s.client({ name: 'Ann' });
  const bob = s.client({ name: 'Bob' });
  const eve = s.client({ name: 'Eve' });
  await Promise.all([welcomed(ann), welcomed(bob), welcomed(eve)]);
  const heard = [ann, bob, eve].map((c) => collect(c, 'recalled'));
  const group = await say(ann, 'mine');
  const secret = await say(ann, 'for Bob only', 'Bob');
  assert.equal(await recall(bob, { id: idOf(group) }), { ok: false, error: 'not_allowed' });
  assert.equal(await recall(eve, { id: idOf(secret) }), { ok: false, error: 'not_found' }, 'a private message is not even seen by a third person');
  assert.equal(await recall(ann, { id: 'no-such-message' }), { ok: false, error: 'not_found' });
  for (const bad of [null, {}, { id: 5 }, { id: '' }, { id: 'x'.repeat(65) }, 'id']) {
    assert.equal(await recall(ann, bad), { ok: false, error: 'invalid_message' }, JSON.stringify(bad));
  }
  await sleep(100);
  assert.equal(heard.flat(), []);
}));

Recall('a private message: both people\'s tabs are told, nobody else', () => withServer(async (s) => {
  const ann = s.client({ name: 'Ann' });
  const { session } = await welcomed(ann);
  const ann2 = s.client({ name: 'Ann', session });
  const bob = s.client({ name: 'Bob' });
  const eve = s.client({ name: 'Eve' });
  const [, { session: bobSession }] = await Promise.all([welcomed(ann2), welcomed(bob), welcomed(eve)]);
  const eveHeard = collect(eve, 'recalled');
  const secret = await say(ann, 'for Bob only', 'Bob');
  const told = [ann, ann2, bob].map((c) => waitFor(c, 'recalled'));
  assert.equal(await recall(ann2, { id: idOf(secret) }), { ok: true });
  await Promise.all(told);
  await sleep(100);
  assert.equal(eveHeard, []);
  const { history } = await welcomed(s.client({ name: 'Bob', session: bobSession }));
  assert.not.ok(history.some((m) => m.id === idOf(secret)), 'not in Bob\'s history');
}));

Recall('after two minutes it is too_late', async () => {
  const dataDir = tempDir();
  const old = Date.now() - 3 * 60_000;
  mkdirSync(join(dataDir, 'rooms', 'main'), { recursive: true });
  const record = { id: 'old-message-0000000001', name: 'Ann', avatar: 'cat', content: 'said long ago', ts: old, from: 'AnnOldSession00000001' };
  writeFileSync(join(dataDir, 'rooms', 'main', 'messages.jsonl'), JSON.stringify(record) + '\n');
  const s = await startServer({ dataDir, rateLimit: false });
  try {
    const ann = s.client({ name: 'Ann', session: record.from });
    const w = await welcomed(ann);
    assert.is(w.session, record.from, 'the same person as the one who wrote it');
    assert.equal(await recall(ann, { id: record.id }), { ok: false, error: 'too_late' });
  } finally {
    await s.close();
  }
});

Recall('a recalled picture\'s file is deleted', () => withServer(async (s) => {
  const ann = s.client({ name: 'Ann' });
  await welcomed(ann);
  const sent = await sendImage(ann, fixture('tiny.png'));
  assert.ok(sent.ok && 'id' in sent, JSON.stringify(sent));
  const { history } = await welcomed(s.client({ name: 'Watcher' }));
  const url = history.find((m) => m.image)!.image!;
  const file = join(s.dataDir, 'rooms', 'main', 'images', url.split('/').pop()!);
  assert.ok(existsSync(file));
  assert.equal(await recall(ann, { id: 'id' in sent ? sent.id : '' }), { ok: true });
  await sleep(200);
  assert.not.ok(existsSync(file), 'the picture file is gone');
  assert.is((await fetch(s.url + url)).status, 404);
}));

Recall.run();
