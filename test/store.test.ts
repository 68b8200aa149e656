// What every ChatStore must do, run against both: the file store on a temporary folder and the Redis store on
// a real redis-server started by the test (without redis-server the Redis half is skipped with a loud line,
// and fails under CI). Then what only the Redis store faces: several nodes at once, and Redis going away.
import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import { rmSync } from 'node:fs';
import { createFileStore } from '../chat/file-store.ts';
import { createRedisStore } from '../chat/redis-store.ts';
import type { ChatStore, LogRecord, MessageLog, RoomMeta } from '../chat/store.ts';
import { sleep, tempDir } from './helpers.ts';
import { hasRedisServer, withRedis, type TestRedis } from './redis-helpers.ts';
import { waitUntil } from './stress-helpers.ts';

type Open = () => ChatStore; // one more store on the same data, as another start or another node
type Body = (open: Open, warnings: string[]) => Promise<void>;

const isRedis = hasRedisServer();

/** Runs `body` with stores made by `make`, always closing them, then `cleanUp`. */
async function withStores(make: (warn: (line: string) => void) => ChatStore, body: Body, cleanUp: () => void | Promise<void>) {
  const stores: ChatStore[] = [];
  const warnings: string[] = [];
  try {
    await body(() => { stores.push(make((line) => warnings.push(line))); return stores.at(-1)!; }, warnings);
  } finally {
    await Promise.all(stores.map((s) => s.close()));
    await cleanUp();
  }
}

/** Redis stores on a fresh redis-server of their own. */
const withRedisStores = (body: (open: Open, warnings: string[], redis: TestRedis) => Promise<void>) =>
  withRedis((redis) => withStores((warn) => createRedisStore(redis.url, warn), (open, warnings) => body(open, warnings, redis), () => {}));

const KINDS: Record<string, (body: Body) => Promise<void>> = {
  file: (body) => {
    const dir = tempDir('chat-store-');
    return withStores((warn) => createFileStore(dir, warn), body, () => rmSync(dir, { recursive: true, force: true }));
  },
  ...(isRedis && { redis: withRedisStores }),
};

/** The suite's tests, or skipped ones (counted as such) without redis-server. */
const onRedis = (test: Test) => (isRedis ? test : test.skip);

/** Adds the test once per kind of store. */
function each(test: Test, name: string, body: Body) {
  for (const [kind, using] of Object.entries(KINDS)) test(`${name} [${kind}]`, () => using(body));
}

const toMeta = (id: string, title = id.toUpperCase()): RoomMeta => ({
  id, title, teacherKey: `key-of-${id}`, createdAt: 1_700_000_000_000, quiet: false, pinned: null, muted: {}, kicked: {}, kickedSessions: [], mutedUntil: {}, slow: 0, locked: false, files: false,
});
const toRecord = (n: number): LogRecord => ({ id: `m${n}`, name: 'Ann', avatar: 'a1', content: `message ${n}`, ts: 1_700_000_000_000 + n, from: 's-ann' });
const idsOf = (records: LogRecord[]) => records.map((r) => r.id);
const byId = <T extends { id: string }>(list: T[]) => [...list].sort((a, b) => a.id.localeCompare(b.id));
const PIC_A = `${'a'.repeat(21)}.png`;
const PIC_B = `${'b'.repeat(21)}.jpg`;
const BYTES = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 256)); // every byte value, NUL included

/** The error `act` fails with; the test fails if it succeeds. */
async function refusalOf(act: () => unknown): Promise<Error> {
  try {
    await act();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a refusal, and it succeeded');
}

async function readLog(store: ChatStore, roomId: string) {
  const log = await store.openLog(roomId);
  await log.close();
  return { ids: idsOf(log.records), lineCount: log.lineCount };
}

// ---

const Key = suite('store: server key');

each(Key, 'made once and kept; another store on the same data gets the same; a given key wins and is not stored', async (open) => {
  const a = open();
  assert.is(await a.serverKey(undefined, () => 'made-first'), 'made-first');
  assert.is(await a.serverKey(undefined, () => 'made-again'), 'made-first');
  assert.is(await open().serverKey(undefined, () => 'made-elsewhere'), 'made-first');
  assert.is(await open().serverKey('given-key-0123456789', () => 'unused'), 'given-key-0123456789');
  assert.is(await open().serverKey(undefined, () => 'made-later'), 'made-first');
});

Key.run();

// ---

const Rooms = suite('store: rooms');

each(Rooms, 'saved rooms are listed by another store; saving one leaves the others; a deleted one is gone', async (open) => {
  const a = open();
  assert.equal(await a.rooms(), []);
  await a.saveRoom(toMeta('7b-maths'));
  await a.saveRoom(toMeta('main'));
  assert.equal(byId(await open().rooms()), [toMeta('7b-maths'), toMeta('main')]);
  const changed = { ...toMeta('main', 'Renamed'), quiet: true, pinned: { content: 'Read p. 4', ts: 5 }, muted: { ann: 'Ann' }, kickedSessions: ['s1'] };
  await open().saveRoom(changed);
  assert.equal(byId(await a.rooms()), [toMeta('7b-maths'), changed]);
  await a.deleteRoom('7b-maths');
  assert.equal(await open().rooms(), [changed]);
});

Rooms.run();

// ---

const Log = suite('store: message log');

each(Log, 'appended records are read back by another store, in order; lineCount counts them', async (open) => {
  const log = await open().openLog('main');
  assert.equal(log.records, []);
  assert.is(log.lineCount, 0);
  await log.append([toRecord(1), toRecord(2)]);
  await log.append([{ ...toRecord(3), to: 'Bob', toS: 's-bob', cid: 'c-3' }]);
  assert.is(log.lineCount, 3);
  await log.close();
  const reopened = await open().openLog('main');
  assert.equal(reopened.records, [toRecord(1), toRecord(2), { ...toRecord(3), to: 'Bob', toS: 's-bob', cid: 'c-3' }]);
  assert.is(reopened.lineCount, 3);
  await reopened.close();
});

each(Log, 'appends made without waiting land in the order they were made', async (open) => {
  const log = await open().openLog('main');
  const numbers = Array.from({ length: 300 }, (_, i) => i);
  await Promise.all(numbers.map((n) => log.append([toRecord(n)])));
  await log.close();
  assert.equal((await readLog(open(), 'main')).ids, numbers.map((n) => `m${n}`));
});

each(Log, 'a rewrite replaces the log with the kept records; later appends follow them', async (open) => {
  const log = await open().openLog('main');
  await log.append([1, 2, 3, 4].map(toRecord));
  await log.rewrite([toRecord(2), toRecord(4)]);
  assert.is(log.lineCount, 2);
  await log.append([toRecord(5)]);
  assert.is(log.lineCount, 3);
  await log.close();
  assert.equal(await readLog(open(), 'main'), { ids: ['m2', 'm4', 'm5'], lineCount: 3 });
  const again = await open().openLog('main');
  await again.rewrite([]);
  assert.is(again.lineCount, 0);
  await again.close();
  assert.equal(await readLog(open(), 'main'), { ids: [], lineCount: 0 });
});

each(Log, 'a rewrite made as one append is answered keeps the appends still on their way (the room compacts so)', async (open) => {
  const log = await open().openLog('main');
  await log.append([toRecord(1), toRecord(2)]);
  let rewritten: ReturnType<MessageLog['rewrite']>;
  const first = log.append([toRecord(3)]);
  const compact = () => { rewritten = log.rewrite([toRecord(3)]); }; // what the room keeps: 1 and 2 are dropped
  const firstDone = first ? first.then(compact) : compact(); // as Room.commitBatch: in the reaction to the answer
  const second = log.append([toRecord(4)]); // the next batch, sent before the first was answered
  await Promise.all([firstDone, second]);
  await rewritten!;
  assert.is(log.lineCount, 2);
  await log.close();
  assert.equal((await readLog(open(), 'main')).ids, ['m3', 'm4']);
});

Log.run();

// ---

const Pictures = suite('store: pictures');

each(Pictures, 'written pictures are read back byte for byte, listed with size and time, and deleted', async (open) => {
  const store = open();
  await store.saveRoom(toMeta('main')); // a room exists before its pictures (the file store makes its folder)
  assert.equal(await store.pictures('main'), []);
  const before = Date.now();
  await store.writePicture('main', PIC_A, BYTES);
  await store.writePicture('main', PIC_B, BYTES.subarray(0, 10));
  const after = Date.now();
  assert.ok(BYTES.equals((await open().readPicture('main', PIC_A))!));
  const listed = [...(await open().pictures('main'))].sort((a, b) => a.file.localeCompare(b.file));
  assert.equal(listed.map((p) => [p.file, p.size]), [[PIC_A, BYTES.length], [PIC_B, 10]]);
  for (const { at } of listed) assert.ok(at >= before - 1000 && at <= after + 1000, `stored at ${at}, written in ${before}..${after}`);
  await store.deletePictures('main', [PIC_A]);
  assert.is(await store.readPicture('main', PIC_A), null);
  assert.equal((await store.pictures('main')).map((p) => p.file), [PIC_B]);
});

each(Pictures, 'reading a missing picture, a bad file name or a bad room id answers null', async (open) => {
  const store = open();
  await store.saveRoom(toMeta('main'));
  await store.writePicture('main', PIC_A, BYTES);
  assert.is(await store.readPicture('main', PIC_B), null);
  assert.is(await store.readPicture('other', PIC_A), null);
  for (const file of ['../room.json', 'x.png', `${'a'.repeat(21)}.svg`, `${'a'.repeat(21)}.png/`]) assert.is(await store.readPicture('main', file), null, file);
  for (const room of ['../main', 'Main', 'main:log', '']) assert.is(await store.readPicture(room, PIC_A), null, room);
});

Pictures.run();

// ---

const Delete = suite('store: deleting a room');

each(Delete, 'takes its settings, messages and pictures, and nothing of another room', async (open) => {
  const store = open();
  for (const [id, n, file] of [['gone', 1, PIC_A], ['kept', 2, PIC_B]] as const) {
    await store.saveRoom(toMeta(id));
    const log = await store.openLog(id);
    await log.append([toRecord(n)]);
    await log.close();
    await store.writePicture(id, file, BYTES);
  }
  await store.deleteRoom('gone');
  const other = open();
  assert.equal(await other.rooms(), [toMeta('kept')]);
  assert.equal(await other.pictures('gone'), []);
  assert.is(await other.readPicture('gone', PIC_A), null);
  assert.equal(await readLog(other, 'gone'), { ids: [], lineCount: 0 });
  assert.equal((await readLog(other, 'kept')).ids, ['m2']);
  assert.ok(BYTES.equals((await other.readPicture('kept', PIC_B))!));
});

Delete.run();

// --- only the Redis store: several nodes on one Redis, and Redis going away

const Nodes = suite('store (redis): several nodes at once');

onRedis(Nodes)('stores racing for the server key all get the one stored first', async () => {
  await withRedisStores(async (open, _, redis) => {
    const raw = redis.client();
    for (let round = 0; round < 10; round++) {
      await raw.del('chat:server-key');
      const stores = [open(), open(), open(), open()]; // still connecting: the calls meet at Redis
      const keys = await Promise.all(stores.map((s, i) => s.serverKey(undefined, () => `made-${round}-${i}`)));
      assert.equal(new Set(keys).size, 1, `round ${round}: ${keys}`);
      assert.is(await raw.get('chat:server-key'), keys[0]);
    }
  });
});

onRedis(Nodes)('rooms saved by two stores at once are all kept', async () => {
  await withRedisStores(async (open) => {
    const [a, b] = [open(), open()];
    const ids = Array.from({ length: 40 }, (_, i) => `room-${i}`);
    await Promise.all(ids.map((id, i) => (i % 2 ? a : b).saveRoom(toMeta(id))));
    assert.equal(byId(await open().rooms()), byId(ids.map((id) => toMeta(id))));
  });
});

onRedis(Nodes)('the keys are the documented ones; an unreadable line is skipped with a warning', async () => {
  await withRedisStores(async (open, warnings, redis) => {
    const store = open();
    await store.serverKey(undefined, () => 'k');
    await store.saveRoom(toMeta('main'));
    await (await store.openLog('main')).append([toRecord(1)]);
    await store.writePicture('main', PIC_A, BYTES);
    const raw = redis.client();
    assert.equal((await raw.keys('*')).sort(), [
      'chat:events', 'chat:room:main', 'chat:room:main:log', 'chat:room:main:picture-sizes', `chat:room:main:picture:${PIC_A}`,
      'chat:room:main:pictures', 'chat:rooms', 'chat:server-key',
    ]);
    await raw.rpush('chat:room:main:log', '{"torn": ', JSON.stringify(toRecord(2)));
    assert.equal(await readLog(open(), 'main'), { ids: ['m1', 'm2'], lineCount: 3 });
    assert.ok(warnings.some((w) => w.includes('skipping unreadable line 2 of chat:room:main:log')), warnings.join('\n'));
    assert.ok(warnings.some((w) => w.includes('appendonly no')), 'a Redis that keeps nothing is said');
  });
});

onRedis(Nodes)('a rewrite in reaction to one append keeps the next append even when both answers come in one read', async () => {
  await withRedisStores(async (open, _, redis) => {
    for (let round = 0; round < 5; round++) {
      const log = await open().openLog(`room-${round}`);
      await log.append([toRecord(1), toRecord(2)]);
      redis.signal('SIGSTOP'); // both appends wait in Redis's socket: it answers them together
      let rewritten: ReturnType<MessageLog['rewrite']>;
      const first = log.append([toRecord(3)]) as Promise<unknown>;
      const firstDone = first.then(() => { rewritten = log.rewrite([toRecord(3)]); }); // as Room.commitBatch
      const second = log.append([toRecord(4)]);
      await sleep(50);
      redis.signal('SIGCONT');
      await Promise.all([firstDone, second]);
      await rewritten!;
      assert.is(log.lineCount, 2, `round ${round}`);
      assert.equal((await readLog(open(), `room-${round}`)).ids, ['m3', 'm4'], `round ${round}`);
    }
  });
});

Nodes.run();

// ---

const Outage = suite('store (redis): Redis going away');

onRedis(Outage)('an append while Redis is down is refused at once; once it is back, the same store appends again', async () => {
  await withRedisStores(async (open, warnings, redis) => {
    const store = open();
    const log = await store.openLog('main');
    await log.append([toRecord(1)]);
    await redis.stop();
    const started = Date.now();
    const refused = await refusalOf(() => log.append([toRecord(2)]));
    assert.match(refused.message, /not reachable/);
    assert.ok(Date.now() - started < 3000, `refused after ${Date.now() - started} ms`);
    await waitUntil(() => warnings.some((w) => w.startsWith('lost Redis')), 'the loss is said');
    await redis.start(); // empty: nothing is persisted
    await appendOnceBack(log, toRecord(3));
    await waitUntil(() => warnings.some((w) => w.endsWith('is back')), 'the return is said');
    assert.equal((await readLog(open(), 'main')).ids, ['m3'], 'the refused append did not land later');
  });
});

onRedis(Outage)('an append to a Redis that stopped answering (SIGSTOP) is refused within a few seconds', async () => {
  await withRedisStores(async (open, _, redis) => {
    const log = await open().openLog('main');
    await log.append([toRecord(1)]);
    redis.signal('SIGSTOP');
    try {
      const started = Date.now();
      await refusalOf(() => log.append([toRecord(2)]));
      assert.ok(Date.now() - started < 5000, `refused after ${Date.now() - started} ms`);
      assert.match((await refusalOf(() => log.append([toRecord(3)]))).message, /not reachable/, 'the dead connection was dropped: the next is refused at once');
    } finally {
      redis.signal('SIGCONT');
    }
    await appendOnceBack(log, toRecord(4));
  });
});

onRedis(Outage)('a store whose Redis is not there says so within a few seconds', async () => {
  await withRedis(async (redis) => {
    await redis.stop();
    await withStores((warn) => createRedisStore(redis.url, warn), async (open) => {
      const started = Date.now();
      const refused = await refusalOf(() => open().serverKey(undefined, () => 'k'));
      assert.match(refused.message, /^Redis at redis:\/\/127\.0\.0\.1:\d+ is not reachable \(.*ECONNREFUSED/);
      assert.ok(Date.now() - started < 5000, `refused after ${Date.now() - started} ms`);
    }, () => {});
  });
});

Outage.run();

/** Appends as soon as the store has reconnected by itself; fails if it has not within 10 s. */
async function appendOnceBack(log: Pick<MessageLog, 'append'>, record: LogRecord) {
  const end = Date.now() + 10_000;
  for (;;) {
    try {
      return await log.append([record]);
    } catch (err) {
      if (Date.now() > end) throw err;
      await sleep(50);
    }
  }
}
