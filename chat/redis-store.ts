// The Redis store, for several server nodes sharing one Redis (REDIS_URL=redis://host:port[/db]):
//   chat:server-key                   the server (admin) key: the first node sets it (SET NX), all use it
//   chat:rooms                        set of room ids
//   chat:room:<id>                    the room's settings (RoomMeta as JSON)
//   chat:room:<id>:log                list of JSON lines, one per message, oldest first
//   chat:room:<id>:picture:<file>     one picture's bytes
//   chat:room:<id>:pictures           sorted set: file names by when they were stored (ms)
//   chat:room:<id>:picture-sizes      hash: file name -> bytes
// An ack means Redis answered the RPUSH: the line is in its memory. What that survives is Redis's persistence,
// which this store cannot choose: with `appendonly yes` and `appendfsync everysec` (Redis's default fsync) the
// line is in the AOF, in the page cache, as Redis answers, so a crash of Redis loses nothing and a crash of its
// machine up to about a second of acked messages (two if the disk stalls): the file store's own promise.
// `appendfsync always` loses nothing but makes every write wait for the disk. Without the AOF a restart of
// Redis loses everything since its last snapshot (said at start, when CONFIG may be read).
import { Redis, ReplyError, type ChainableCommander } from 'ioredis';
import { ROOM_ID_RE } from './contract.ts';
import { PICTURE_FILE_RE, toLogRecord, toRoomMeta, type ChatStore, type LogRecord, type MessageLog, type RoomMeta } from './store.ts';

const PREFIX = 'chat:';
const SERVER_KEY = `${PREFIX}server-key`;
const ROOMS = `${PREFIX}rooms`;
const TIMEOUT_MS = 3000; // a connection with a command unanswered this long is dropped and made anew
const READY_WAIT_MS = 3000; // calls other than the log's wait this long for a connection (at start, after a cut)
const RETRY_MAX_MS = 1000; // reconnects forever, at most this far apart

// Pictures are listed from the sorted set and deleted with the room in one script: a picture written by
// another node between a listing and a MULTI would be left behind for good.
const DELETE_ROOM = `
local files = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, file in ipairs(files) do redis.call('DEL', ARGV[1] .. file) end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
redis.call('SREM', KEYS[5], ARGV[2])
return #files`;

/** The keys of one room; throws on an id that is not one (it would reach into other keys). */
function toKeys(roomId: string) {
  if (!ROOM_ID_RE.test(roomId)) throw new Error(`not a room id: ${JSON.stringify(roomId)}`);
  const room = `${PREFIX}room:${roomId}`;
  return { meta: room, log: `${room}:log`, picture: `${room}:picture:`, pictures: `${room}:pictures`, sizes: `${room}:picture-sizes` };
}

export function createRedisStore(url: string, warn: (line: string) => void): ChatStore {
  const where = toShownUrl(url);
  const redis = new Redis(url, {
    enableOfflineQueue: false, // a command while disconnected fails at once: none is sent late, out of order, after its refusal
    maxRetriesPerRequest: 0, // commands in flight when the connection drops fail then...
    autoResendUnfulfilledCommands: false, // ...and are not sent again after the reconnect
    socketTimeout: TIMEOUT_MS, // a Redis that stops answering (frozen, cut off): the connection is dropped, its commands
    commandTimeout: TIMEOUT_MS + 500, // fail, and later ones fail at once instead of each waiting; this is a backstop
    connectTimeout: TIMEOUT_MS,
    retryStrategy: (times) => Math.min(100 * times, RETRY_MAX_MS),
    protocol: 2, // flat replies (ZRANGE WITHSCORES) the same on every Redis version
  });
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
      await connected();
      await exec(redis.multi().set(keys.meta, JSON.stringify(meta)).sadd(ROOMS, meta.id));
    },
    async deleteRoom(id) {
      const keys = toKeys(id);
      await connected();
      await redis.eval(DELETE_ROOM, 5, keys.pictures, keys.sizes, keys.meta, keys.log, ROOMS, keys.picture, id);
    },
    async openLog(roomId) {
      const key = toKeys(roomId).log;
      await connected();
      return openLog(redis, key, await redis.lrange(key, 0, -1), (why) => warn(`${why} of ${key} in Redis at ${where}`), unreachable);
    },
    async writePicture(roomId, file, bytes) {
      if (!PICTURE_FILE_RE.test(file)) throw new Error(`not a picture file name: ${JSON.stringify(file)}`);
      const keys = toKeys(roomId);
      await connected();
      await exec(redis.multi().set(keys.picture + file, bytes).zadd(keys.pictures, Date.now(), file).hset(keys.sizes, file, bytes.length));
    },
    async readPicture(roomId, file) {
      if (!ROOM_ID_RE.test(roomId) || !PICTURE_FILE_RE.test(file)) return null;
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
    async deletePictures(roomId, files) {
      const keys = toKeys(roomId);
      const valid = files.filter((f) => PICTURE_FILE_RE.test(f));
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

/** One room's log: a Redis list appended to by RPUSH; the room waits for Redis's answer before it acks. */
function openLog(redis: Redis, key: string, lines: string[], warn: (why: string) => void, unreachable: (detail?: string) => Error): MessageLog {
  const records = toRecords(lines, warn);
  let lineCount = lines.length;
  let unseen = 0; // lines appended whose answer the room has not yet acted on: a rewrite must keep them
  let isClosed = false;
  let last: Promise<unknown> = Promise.resolve();
  const refusal = () => (isClosed ? new Error('the message log is closed') : redis.status !== 'ready' ? unreachable() : null);
  const toFailure = (err: Error) => { // an error Redis answered is said as is; any other is about the connection
    throw err instanceof ReplyError ? err : unreachable(redis.status === 'ready' ? err.message : undefined); // not "max retries (0)"
  };

  return {
    records,
    get lineCount() { return lineCount; },
    append(batch: LogRecord[]) {
      const refused = refusal();
      if (refused) return Promise.reject(refused);
      if (!batch.length) return;
      let length = 0;
      const written = redis.rpush(key, ...batch.map((r) => JSON.stringify(r))).then((n) => { length = n; }, toFailure);
      // Counted down by the first reaction on the very promise the room waits on, so when the room compacts in
      // its reaction to this answer, later appends still count as unseen even if their answers came in the same read.
      unseen += batch.length;
      written.then(() => { unseen -= batch.length; lineCount = length; }, () => { unseen -= batch.length; });
      last = written.catch(() => {});
      return written;
    },
    rewrite(kept: LogRecord[]) {
      const refused = refusal();
      if (refused) return Promise.reject(refused);
      const multi = unseen ? redis.multi().ltrim(key, -unseen, -1) : redis.multi().del(key); // keeps the lines still on their way
      if (kept.length) multi.lpush(key, ...kept.map((r) => JSON.stringify(r)).reverse());
      const done = exec(multi.llen(key)).then((answers) => { lineCount = Number(answers.at(-1)); }, toFailure);
      last = done.catch(() => {});
      return done;
    },
    close() {
      isClosed = true;
      return last.then(() => {}); // Redis answers in order: the last one answered means all were
    },
  };
}

function toRecords(lines: string[], warn: (why: string) => void): LogRecord[] {
  const records: LogRecord[] = [];
  lines.forEach((line, i) => {
    let record: LogRecord | null = null;
    try { record = toLogRecord(JSON.parse(line)); } catch {}
    if (record) records.push(record);
    else warn(`skipping unreadable line ${i + 1}`);
  });
  return records;
}

/** The answers of a MULTI; throws the first error (EXEC answers each command's error apart). */
async function exec(multi: ChainableCommander): Promise<unknown[]> {
  const answers = await multi.exec();
  if (!answers) throw new Error('the Redis transaction was aborted');
  for (const [err] of answers) if (err) throw err;
  return answers.map(([, value]) => value);
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
