// The Redis store, for several server nodes sharing one Redis (REDIS_URL=redis://host:port[/db]); where it
// keeps what is in redis-keys.ts, the message log's scripts in redis-log.ts.
// An ack means Redis answered the RPUSH: the line is in its memory. What that survives is Redis's persistence,
// which this store cannot choose: with `appendonly yes` and `appendfsync everysec` (Redis's default fsync) the
// line is in the AOF, in the page cache, as Redis answers, so a crash of Redis loses nothing and a crash of its
// machine up to about a second of acked messages (two if the disk stalls): the file store's own promise.
// `appendfsync always` loses nothing but makes every write wait for the disk. Without the AOF a restart of
// Redis loses everything since its last snapshot (said at start, when CONFIG may be read).
import { Redis } from 'ioredis';
import { ROOM_ID_RE } from './contract.ts';
import { MEDIA_FILE_RE, toRoomMeta, toStoredReads, type ChatStore, type RoomMeta, type StoredPolls } from './store.ts';
import { EVENTS, EVENTS_KEEP, exec, ROOMS, SERVER_KEY, toKeys } from './redis-keys.ts';
import { openLog, toRecords } from './redis-log.ts';

const TIMEOUT_MS = 3000; // a connection with a command unanswered this long is dropped and made anew
const READY_WAIT_MS = 3000; // calls other than the log's wait this long for a connection (at start, after a cut)
const RETRY_MAX_MS = 1000; // reconnects forever, at most this far apart

// Pictures are listed from the sorted set and deleted with the room in one script: a picture written by
// another node between a listing and a MULTI would be left behind for good.
const DELETE_ROOM = `
local files = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, file in ipairs(files) do redis.call('DEL', ARGV[1] .. file) end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11], KEYS[12])
redis.call('SREM', KEYS[5], ARGV[2])
redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[3], '*', 't', 'deleted', 'room', ARGV[2])
return #files`;

// A new room, unless its id is taken: two nodes making the default room at their first start agree on one.
// KEYS: meta, rooms, events. ARGV: room, meta (JSON), node, events kept. Answers the stored meta if there was one.
const CREATE_ROOM = `
local stored = redis.call('GET', KEYS[1])
if stored then return stored end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 't', 'meta', 'room', ARGV[1], 'node', ARGV[3], 'meta', ARGV[2])
return false`;

export interface RedisStore extends ChatStore {
  readonly redis: Redis;
  readonly where: string; // the URL without its password
  /** A new connection with the same settings, for a reader that blocks. */
  duplicate(): Redis;
  /** Resolves once connected (waits a little at start and after a cut), else rejects saying why. */
  connected(): Promise<void>;
}

/** `nodeId` makes this a cluster node's store: each message line is tagged with it, and the log learns its
 * line numbers from the stream (other nodes append too) rather than from its own appends. */
export function createRedisStore(url: string, warn: (line: string) => void, nodeId?: string): RedisStore {
  const where = toShownUrl(url);
  const settings = {
    enableOfflineQueue: false, // a command while disconnected fails at once: none is sent late, out of order, after its refusal
    maxRetriesPerRequest: 0, // commands in flight when the connection drops fail then...
    autoResendUnfulfilledCommands: false, // ...and are not sent again after the reconnect
    socketTimeout: TIMEOUT_MS, // a Redis that stops answering (frozen, cut off): the connection is dropped, its commands
    commandTimeout: TIMEOUT_MS + 500, // fail, and later ones fail at once instead of each waiting; this is a backstop
    connectTimeout: TIMEOUT_MS,
    retryStrategy: (times: number) => Math.min(100 * times, RETRY_MAX_MS),
    protocol: 2 as const, // flat replies (ZRANGE WITHSCORES) the same on every Redis version
  };
  const redis = new Redis(url, settings);
  let lastError = 'no answer';
  let state: 'new' | 'up' | 'down' | 'closed' = 'new';
  const unreachable = (detail = lastError) => new Error(`Redis at ${where} is not reachable (${detail})`);
  redis.on('error', (err) => { lastError = err.message; }); // a listener is needed, or ioredis prints every retry
  redis.on('close', () => {
    if (state !== 'up') return;
    state = 'down';
    lastError = 'the connection was lost'; // until a reconnect says more
    warn(`lost Redis at ${where}: messages are refused until it is back`);
  });
  redis.on('ready', () => {
    if (state === 'down') warn(`Redis at ${where} is back`);
    if (state === 'new') warnIfVolatile();
    state = 'up';
  });

  function warnIfVolatile() {
    redis.config('GET', 'appendonly').then(([, value]) => {
      if (value !== 'yes') warn(`Redis at ${where} runs with appendonly ${value}: a restart of Redis loses acked messages`);
    }, () => {}); // CONFIG may be forbidden (a managed Redis): then it is not ours to check
  }

  /** Waits a little for the connection, so a call at start or just after a cut does not fail needlessly. */
  let waiting: Promise<void> | null = null; // one wait shared by every call made meanwhile
  function connected(): Promise<void> {
    if (redis.status === 'ready') return Promise.resolve();
    if (state === 'closed') return Promise.reject(new Error('the Redis store is closed'));
    return (waiting ??= new Promise<void>((resolve, reject) => {
      const onReady = () => { clearTimeout(timer); resolve(); };
      const timer = setTimeout(() => { redis.off('ready', onReady); reject(unreachable()); }, READY_WAIT_MS);
      redis.once('ready', onReady);
    }).finally(() => { waiting = null; }));
  }

  return {
    redis, where, connected,
    duplicate: () => {
      const copy = new Redis(url, { ...settings, socketTimeout: undefined, commandTimeout: undefined });
      copy.on('error', () => {}); // said by the main connection
      return copy;
    },
    async serverKey(given, make) {
      if (given) return given;
      await connected();
      const key = make();
      if ((await redis.set(SERVER_KEY, key, 'NX')) === 'OK') return key;
      const stored = await redis.get(SERVER_KEY);
      if (!stored) throw new Error(`the server key in Redis at ${where} vanished while it was read`);
      return stored;
    },
    async rooms() {
      await connected();
      const ids = (await redis.smembers(ROOMS)).filter((id) => ROOM_ID_RE.test(id)).sort();
      const texts = ids.length ? await redis.mget(ids.map((id) => toKeys(id).meta)) : [];
      const metas: RoomMeta[] = [];
      ids.forEach((id, i) => {
        if (texts[i] === null) return; // deleted since the set was read
        const meta = toMeta(texts[i]);
        if (meta?.id === id) metas.push(meta);
        else warn(`skipping room ${id} in Redis at ${where}: its settings are not readable`);
      });
      return metas;
    },
    async saveRoom(meta) {
      const keys = toKeys(meta.id);
      const text = JSON.stringify(meta);
      await connected();
      await exec(redis.multi().set(keys.meta, text).sadd(ROOMS, meta.id).xadd(EVENTS, 'MAXLEN', '~', EVENTS_KEEP, '*', 't', 'meta', 'room', meta.id, 'node', nodeId ?? '', 'meta', text));
    },
    async createRoom(meta) {
      const keys = toKeys(meta.id);
      const text = JSON.stringify(meta);
      await connected();
      const answer = (await redis.eval(CREATE_ROOM, 3, keys.meta, ROOMS, EVENTS, meta.id, text, nodeId ?? '', EVENTS_KEEP)) as string | null;
      return answer ? toMeta(answer) ?? meta : meta;
    },
    async deleteRoom(id) {
      const keys = toKeys(id);
      await connected();
      await redis.eval(
        DELETE_ROOM, 12, keys.pictures, keys.sizes, keys.meta, keys.log, ROOMS, EVENTS, keys.gen, keys.claims, keys.tabs, keys.sessions, keys.polls, keys.reads,
        keys.picture, id, EVENTS_KEEP,
      );
    },
    async openLog(roomId) {
      const keys = toKeys(roomId);
      await connected();
      const [lines, gen] = (await exec(redis.multi().lrange(keys.log, 0, -1).get(keys.gen))) as [string[], string | null];
      const onWarn = (why: string) => warn(`${why} of ${keys.log} in Redis at ${where}`);
      return openLog(redis, roomId, toRecords(lines, onWarn), { lines: lines.length, gen: Number(gen) || 0 }, nodeId, unreachable);
    },
    async writePicture(roomId, file, bytes) {
      if (!MEDIA_FILE_RE.test(file)) throw new Error(`not a stored file name: ${JSON.stringify(file)}`);
      const keys = toKeys(roomId);
      await connected();
      await exec(redis.multi().set(keys.picture + file, bytes).zadd(keys.pictures, Date.now(), file).hset(keys.sizes, file, bytes.length));
    },
    async readPicture(roomId, file) {
      if (!ROOM_ID_RE.test(roomId) || !MEDIA_FILE_RE.test(file)) return null;
      await connected();
      return redis.getBuffer(toKeys(roomId).picture + file);
    },
    async pictures(roomId) {
      const keys = toKeys(roomId);
      await connected();
      const [listed, sizes] = (await exec(redis.multi().zrange(keys.pictures, 0, '-1', 'WITHSCORES').hgetall(keys.sizes))) as [string[], Record<string, string>];
      const pictures: { file: string; size: number; at: number }[] = [];
      for (let i = 0; i < listed.length; i += 2) pictures.push({ file: listed[i], size: Number(sizes[listed[i]]) || 0, at: Number(listed[i + 1]) });
      return pictures;
    },
    async polls(roomId) {
      await connected();
      const fields = await redis.hgetall(toKeys(roomId).polls);
      const polls: StoredPolls = {};
      for (const [field, value] of Object.entries(fields)) {
        const [poll, who] = field.split(' ');
        const stored = (polls[poll] ??= { votes: {} });
        if (who === '~closed') stored.closed = true;
        else if (who) stored.votes[who] = Number(value);
      }
      return polls;
    },
    async savePolls(roomId, changes) {
      const keys = toKeys(roomId);
      await connected();
      const batch = redis.multi();
      for (const change of changes) { // each also on the stream, for the other nodes' counts
        if ('closed' in change) {
          batch.hset(keys.polls, `${change.poll} ~closed`, '1');
          batch.xadd(EVENTS, 'MAXLEN', '~', String(EVENTS_KEEP), '*', 't', 'pollClosed', 'room', roomId, 'p', change.poll);
        } else {
          batch.hset(keys.polls, `${change.poll} ${change.session}`, String(change.option));
          batch.xadd(EVENTS, 'MAXLEN', '~', String(EVENTS_KEEP), '*', 't', 'vote', 'room', roomId, 'p', change.poll, 's', change.session, 'o', String(change.option));
        }
      }
      await exec(batch);
    },
    async reads(roomId) {
      await connected();
      return toStoredReads(await redis.hgetall(toKeys(roomId).reads));
    },
    async saveReads(roomId, changes) {
      const keys = toKeys(roomId);
      await connected();
      const fields = changes.flatMap(({ session, conv, value }) => [`${session} ${conv}`, value]);
      await exec(redis.multi().hset(keys.reads, ...fields) // one event per batch: a second's reading of the whole room
        .xadd(EVENTS, 'MAXLEN', '~', String(EVENTS_KEEP), '*', 't', 'reads', 'room', roomId, 'node', nodeId ?? '', 'r', JSON.stringify(changes)));
    },
    async deletePictures(roomId, files) {
      const keys = toKeys(roomId);
      const valid = files.filter((f) => MEDIA_FILE_RE.test(f));
      if (!valid.length) return;
      await connected();
      await exec(redis.multi().del(...valid.map((f) => keys.picture + f)).zrem(keys.pictures, ...valid).hdel(keys.sizes, ...valid));
    },
    async close() {
      const wasReady = redis.status === 'ready';
      state = 'closed';
      if (wasReady) await redis.quit().catch(() => {}); // answers once every command sent before it is answered
      redis.disconnect();
    },
  };
}

function toMeta(text: string | null): RoomMeta | null {
  try {
    return toRoomMeta(JSON.parse(text ?? ''));
  } catch {
    return null;
  }
}

/** The URL as it may be shown in a terminal: without its password. */
function toShownUrl(url: string): string {
  try {
    const shown = new URL(url);
    if (shown.password) shown.password = '***';
    return shown.toString();
  } catch {
    return 'REDIS_URL';
  }
}
