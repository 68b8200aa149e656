// One room's message log in Redis: a list of JSON lines, written only through the scripts below, each of which
// also tells every node on the event stream (cluster.ts) what changed and where the log stands.
import { ReplyError, type Redis } from 'ioredis';
import { toLogRecord, type AppendAnswer, type LogRecord, type MessageLog } from './store.ts';
import { CID_TTL_S, EVENTS, EVENTS_KEEP, toKeys } from './redis-keys.ts';

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

/** One room's log: a Redis list appended to by a script; the room waits for Redis's answer before it acks.
 * `known` lines are those the room has seen; a compaction replaces them and keeps any later ones. Alone on its
 * Redis a store knows a line once its append is answered; a cluster node, once the stream tells it. */
export function openLog(
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
export function toRecords(lines: string[], warn: (why: string) => void): LogRecord[] {
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
