// The Redis store, for several server nodes sharing one Redis (REDIS_URL=redis://host:port[/db]):
//   chat:server-key                   the server (admin) key: the first node sets it (SET NX), all use it
//   chat:rooms                        set of room ids
//   chat:room:<id>                    the room's settings (RoomMeta as JSON)
//   chat:room:<id>:log                list of JSON lines, one per message, oldest first
//   chat:room:<id>:picture:<file>     one picture's bytes
//   chat:room:<id>:pictures           sorted set: file names by when they were stored (ms)
//   chat:room:<id>:picture-sizes      hash: file name -> bytes
//   chat:room:<id>:log-gen            how many times the log was compacted (a compaction checks it first)
//   chat:room:<id>:polls              hash: "<poll> <session>" -> option voted, "<poll> ~closed" -> 1
//   chat:room:<id>:reads              hash: "<session> <conv>" -> read position ("seen by")
//   chat:room:<id>:cid:<session>:<cid>  "<id> <ts>" of a stored message, for a day: a retry on any node is answered
//   chat:events                       stream of what changed (a message, a room's settings, a deletion), capped:
//                                     every node of a cluster reads it to keep its view of the school (cluster.ts)
// An ack means Redis answered the RPUSH: the line is in its memory. What that survives is Redis's persistence,
// which this store cannot choose: with `appendonly yes` and `appendfsync everysec` (Redis's default fsync) the
// line is in the AOF, in the page cache, as Redis answers, so a crash of Redis loses nothing and a crash of its
// machine up to about a second of acked messages (two if the disk stalls): the file store's own promise.
// `appendfsync always` loses nothing but makes every write wait for the disk. Without the AOF a restart of
// Redis loses everything since its last snapshot (said at start, when CONFIG may be read).
import { Redis, ReplyError, type ChainableCommander } from 'ioredis';
import { ROOM_ID_RE } from './contract.ts';
import {
  MEDIA_FILE_RE, toLogRecord, toRoomMeta, toStoredReads, type AppendAnswer, type ChatStore, type LogRecord, type MessageLog, type RoomMeta, type StoredPolls,
} from './store.ts';

const PREFIX = 'chat:';
const SERVER_KEY = `${PREFIX}server-key`;
const ROOMS = `${PREFIX}rooms`;
export const EVENTS = `${PREFIX}events`;
export const EVENTS_KEEP = 100_000; // about: every node reads each event within seconds; a longer absence reloads the school
const CID_TTL_S = 24 * 3600; // a retry comes within seconds; a day covers a laptop that slept
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

// One batch of messages: a record whose (session, cid) is stored already is not stored again; its answer is the
// stored message's "<id> <ts>". Each stored line is told on the event stream with the log's length after it,
// and answered with that event's id (its place in the school's order).
// KEYS: log, events, gen. ARGV: room, node, events kept, cid key prefix, cid TTL, then per record: line, cid key suffix or '', answer.
const APPEND = `
local gen = redis.call('GET', KEYS[3]) or '0'
local out = {}
for i = 6, #ARGV, 3 do
  local stored = false
  if ARGV[i + 1] ~= '' then
    local key = ARGV[4] .. ARGV[i + 1]
    stored = redis.call('GET', key)
    if not stored then redis.call('SET', key, ARGV[i + 2], 'EX', ARGV[5]) end
  end
  if stored then
    out[#out + 1] = stored
  else
    local len = redis.call('RPUSH', KEYS[1], ARGV[i])
    out[#out + 1] = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 't', 'msg', 'room', ARGV[1], 'node', ARGV[2], 'gen', gen, 'len', len, 'rec', ARGV[i])
  end
end
out[#out + 1] = redis.call('LLEN', KEYS[1])
return out`;

// Replaces the lines the room has seen (the first ARGV[3]) with the kept ones; later lines stay. Refused (-1)
// if another node compacted meanwhile (the line numbers it knows are stale).
// KEYS: log, gen, events. ARGV: room, gen, known lines, events kept, then the kept lines.
const COMPACT = `
if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[2] then return -1 end
redis.call('LTRIM', KEYS[1], tonumber(ARGV[3]), -1)
for i = #ARGV, 5, -1 do redis.call('LPUSH', KEYS[1], ARGV[i]) end
local gen = redis.call('INCR', KEYS[2])
local len = redis.call('LLEN', KEYS[1])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 't', 'compacted', 'room', ARGV[1], 'gen', gen, 'len', len)
return len`;

// The teacher cleared the group: every line without a recipient goes, whoever wrote it and whenever.
// KEYS: log, gen, events. ARGV: room, events kept.
const CLEAR_GROUP = `
local kept = {}
for _, line in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local ok, record = pcall(cjson.decode, line)
  if ok and type(record) == 'table' and record.toS ~= nil then kept[#kept + 1] = line end
end
redis.call('DEL', KEYS[1])
for i = 1, #kept, 1000 do redis.call('RPUSH', KEYS[1], unpack(kept, i, math.min(i + 999, #kept))) end
local gen = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], '*', 't', 'cleared', 'room', ARGV[1], 'gen', gen, 'len', #kept)
return #kept`;

// A recalled message: its line goes, whichever node wrote it, its words leave the replies quoting it, and every
// node hears of it.
// KEYS: log, gen, events. ARGV: room, message id, events kept.
const REMOVE = `
local gen = redis.call('GET', KEYS[2]) or '0'
local found = nil
for i, line in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local ok, record = pcall(cjson.decode, line)
  if ok and type(record) == 'table' then
    if record.id == ARGV[2] then
      found = i
    elseif type(record.reply) == 'table' and record.reply.id == ARGV[2] then
      record.reply = {id = ARGV[2], gone = true}
      redis.call('LSET', KEYS[1], i - 1, cjson.encode(record))
    end
  end
end
if found then
  redis.call('LSET', KEYS[1], found - 1, '~recalled~')
  redis.call('LREM', KEYS[1], 1, '~recalled~')
  gen = redis.call('INCR', KEYS[2])
end
local len = redis.call('LLEN', KEYS[1])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 't', 'recalled', 'room', ARGV[1], 'id', ARGV[2], 'gen', gen, 'len', len)
return {tonumber(gen), len}`;

/** The keys of one room; throws on an id that is not one (it would reach into other keys). */
export function toKeys(roomId: string) {
  if (!ROOM_ID_RE.test(roomId)) throw new Error(`not a room id: ${JSON.stringify(roomId)}`);
  const room = `${PREFIX}room:${roomId}`;
  return {
    meta: room, log: `${room}:log`, gen: `${room}:log-gen`, cid: `${room}:cid:`, picture: `${room}:picture:`,
    pictures: `${room}:pictures`, sizes: `${room}:picture-sizes`, polls: `${room}:polls`, reads: `${room}:reads`,
    claims: `${room}:claims`, tabs: `${room}:tabs`, sessions: `${room}:sessions`, // the cluster's people (cluster.ts)
  };
}

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

/** One room's log: a Redis list appended to by a script; the room waits for Redis's answer before it acks.
 * `known` lines are those the room has seen; a compaction replaces them and keeps any later ones. Alone on its
 * Redis a store knows a line once its append is answered; a cluster node, once the stream tells it. */
function openLog(
  redis: Redis, roomId: string, records: LogRecord[], at: { lines: number; gen: number }, nodeId: string | undefined,
  unreachable: (detail?: string) => Error,
): MessageLog & Required<Pick<MessageLog, 'observe' | 'clearGroup' | 'remove'>> {
  const keys = toKeys(roomId);
  let { lines: lineCount, gen } = at;
  let known = lineCount;
  let isClosed = false;
  let last: Promise<unknown> = Promise.resolve();
  const refusal = () => (isClosed ? new Error('the message log is closed') : redis.status !== 'ready' ? unreachable() : null);
  const toFailure = (err: Error) => { // an error Redis answered is said as is; any other is about the connection
    throw err instanceof ReplyError ? err : unreachable(redis.status === 'ready' ? err.message : undefined); // not "max retries (0)"
  };
  const settle = <T>(done: Promise<T>) => { last = done.catch(() => {}); return done; };

  return {
    records,
    get lineCount() { return lineCount; },
    append(batch: LogRecord[]) {
      const refused = refusal();
      if (refused) return Promise.reject(refused);
      if (!batch.length) return;
      const args = batch.flatMap((r) => [JSON.stringify(r), r.cid ? `${r.from}:${r.cid}` : '', `${r.id} ${r.ts}`]);
      let length = 0;
      const written = (redis.eval(APPEND, 3, keys.log, EVENTS, keys.gen, roomId, nodeId ?? '', EVENTS_KEEP, keys.cid, CID_TTL_S, ...args) as Promise<string[]>)
        .then((out) => {
          length = Number(out.at(-1));
          return out.slice(0, -1).map(toAnswer);
        }, toFailure);
      // Counted by the first reaction on the very promise the room waits on: when the room compacts in its
      // reaction to this answer, a later append answered in the same read is not counted as seen yet.
      written.then(() => { if (!nodeId) known = lineCount = length; }, () => {});
      return settle(written);
    },
    rewrite(kept: LogRecord[]) {
      const refused = refusal();
      if (refused) return Promise.reject(refused);
      const lines = kept.map((r) => JSON.stringify(r));
      const done = (redis.eval(COMPACT, 3, keys.log, keys.gen, EVENTS, roomId, gen, known, EVENTS_KEEP, ...lines) as Promise<number>).then((len) => {
        if (len < 0) return false; // another node compacted first
        if (!nodeId) [known, lineCount, gen] = [len, len, gen + 1];
        return true;
      }, toFailure);
      return settle(done);
    },
    observe(atGen: number, len: number) {
      if (atGen < gen) return;
      if (atGen > gen) [gen, known, lineCount] = [atGen, 0, 0];
      known = lineCount = Math.max(known, len);
    },
    remove(id: string) {
      const refused = refusal();
      if (refused) return Promise.reject(refused);
      return settle((redis.eval(REMOVE, 3, keys.log, keys.gen, EVENTS, roomId, id, EVENTS_KEEP) as Promise<[number, number]>).then(([g, len]) => {
        if (!nodeId) [gen, known, lineCount] = [g, len, len];
      }, toFailure));
    },
    clearGroup() {
      const refused = refusal();
      if (refused) return Promise.reject(refused);
      return settle((redis.eval(CLEAR_GROUP, 3, keys.log, keys.gen, EVENTS, roomId, EVENTS_KEEP) as Promise<number>).then((len) => {
        if (!nodeId) [known, lineCount, gen] = [len, len, gen + 1];
      }, toFailure));
    },
    close() {
      isClosed = true;
      return last.then(() => {}); // Redis answers in order: the last one answered means all were
    },
  };
}

/** A stored message's answer ("<id> <ts>") for a record that was a retry; for one stored now, its event id. */
function toAnswer(text: string): AppendAnswer {
  if (!text.includes(' ')) return { at: text };
  const [id, ts] = text.split(' ');
  return { stored: { id, ts: Number(ts) } };
}

/** The records of the lines, each once: a compaction racing appends may leave a line twice. */
function toRecords(lines: string[], warn: (why: string) => void): LogRecord[] {
  const records: LogRecord[] = [];
  const ids = new Set<string>();
  lines.forEach((line, i) => {
    let record: LogRecord | null = null;
    try { record = toLogRecord(JSON.parse(line)); } catch {}
    if (!record) warn(`skipping unreadable line ${i + 1}`);
    else if (!ids.has(record.id)) records.push(record);
    if (record) ids.add(record.id);
  });
  return records;
}

/** The answers of a MULTI; throws the first error (EXEC answers each command's error apart). */
export async function exec(multi: ChainableCommander): Promise<unknown[]> {
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
