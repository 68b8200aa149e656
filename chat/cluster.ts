// A node of a cluster: several servers on one Redis (REDIS_URL) serving one school. What every node must agree
// on lives in Redis and changes there atomically (a nickname is claimed by a script); every change is also an
// entry of one event stream (redis-store.ts), which each node reads in order to keep its view of the school:
// rooms, their settings, who is online, the messages kept for history and catch-up. Messages reach the pages
// through the Socket.IO adapter, not through this stream.
//   chat:nodes                    set of node ids
//   chat:node:<id>                the node's heartbeat, expiring: a node that died is cleaned up by the others
//   chat:room:<id>:claims         hash: nickname key -> the session holding it (while online)
//   chat:room:<id>:tabs           hash: "<session> <node>" -> tabs open there; "<session>" -> nodes it has tabs on
//   chat:room:<id>:sessions       hash: session -> {name, avatar, teacher}
import { Redis } from 'ioredis';
import { nanoid } from 'nanoid';
import { createAdapter as createStreamsAdapter } from '@socket.io/redis-streams-adapter';
import { createAdapter as createPubSubAdapter } from '@socket.io/redis-adapter';
import { createRedisStore, type RedisStore } from './redis-store.ts';
import { EVENTS, EVENTS_KEEP, toKeys } from './redis-keys.ts';
import { toLogRecord, toRoomMeta, type LogRecord, type ReadChange, type RoomMeta } from './store.ts';
import { isAfter } from './stream-ids.ts';

const NODES = 'chat:nodes';
const nodeKey = (id: string) => `chat:node:${id}`;
const HEARTBEAT_MS = 5000;
const NODE_TTL_MS = 15_000; // a node silent this long is dead: its people leave within TTL + one heartbeat
const READ_BLOCK_MS = 2000;
const READ_COUNT = 1000;

/** Who a session is, as the other nodes need it. */
export interface Who { name: string; avatar: unknown; teacher?: boolean }

export type ClusterEvent = { at: string; room: string } & (
  | { t: 'msg'; node: string; gen: number; len: number; rec: LogRecord }
  | { t: 'meta'; meta: RoomMeta; node: string }
  | { t: 'deleted' }
  | { t: 'compacted' | 'cleared'; gen: number; len: number }
  | { t: 'recalled'; id: string; gen: number; len: number }
  | { t: 'roster'; s: string; on: boolean; who?: Who }
  | { t: 'hand'; s: string; up: boolean; ts: number }
  | { t: 'wait'; w: string; name: string; avatar: string; ts: number; node: string; on: boolean } // a page waits (on) or is away
  | { t: 'admit' | 'refuse' | 'unwait'; w: string } // the teacher decided, or the page gave up
  | { t: 'vote'; p: string; s: string; o: number }
  | { t: 'pollClosed'; p: string }
  | { t: 'reads'; node: string; changes: ReadChange[] } // read positions a node stored
  | { t: 'announced'; node: string; id: string; to: string[] | null } // an announcement of the push API
);

/** What a claim did: the nickname is held by someone else, or the tab counts (`at`: the person came online). */
export type Claim = 'name_taken' | { at?: string };

/** What the cluster needs of the school it keeps in step. */
export interface ClusterSchool {
  /** One event, in stream order; the next waits for a returned promise (a room being opened). */
  apply(event: ClusterEvent): void | Promise<void>;
  roomIds(): string[];
  /** The people with tabs on this node: claimed again when Redis comes back (it may have lost them). */
  localPeople(): { room: string; session: string; key: string; who: Who; tabs: number }[];
  /** A claim made again after an outage: someone else holds the nickname now, or the person is online again. */
  reclaimed(room: string, session: string, claim: Claim): void;
}

// Takes a nickname for a session and counts its tabs on a node. KEYS: claims, tabs, sessions, events.
// ARGV: room, name key, session, node, who (JSON), tabs to add, events kept.
const CLAIM = `
local holder = redis.call('HGET', KEYS[1], ARGV[2])
if holder and holder ~= ARGV[3] then return 'name_taken' end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[5])
local n = redis.call('HINCRBY', KEYS[2], ARGV[3] .. ' ' .. ARGV[4], tonumber(ARGV[6]))
if n ~= tonumber(ARGV[6]) or redis.call('HINCRBY', KEYS[2], ARGV[3], 1) ~= 1 then return '' end
return redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[7], '*', 't', 'roster', 'room', ARGV[1], 's', ARGV[3], 'on', '1', 'who', ARGV[5])`;

// Lets go of one tab; the last tab anywhere lets go of the nickname. KEYS: claims, tabs, events.
// ARGV: room, name key, session, node, events kept.
const RELEASE = `
local field = ARGV[3] .. ' ' .. ARGV[4]
local n = redis.call('HINCRBY', KEYS[2], field, -1)
if n > 0 then return '' end
redis.call('HDEL', KEYS[2], field)
if n < 0 or redis.call('HINCRBY', KEYS[2], ARGV[3], -1) > 0 then return '' end
redis.call('HDEL', KEYS[2], ARGV[3])
if redis.call('HGET', KEYS[1], ARGV[2]) == ARGV[3] then redis.call('HDEL', KEYS[1], ARGV[2]) end
return redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 't', 'roster', 'room', ARGV[1], 's', ARGV[3], 'on', '0')`;

// Forgets every tab of a node (dead, or this one after an outage); people with no tab left go offline.
// KEYS: claims, tabs, events. ARGV: room, node, events kept.
const REAP = `
local gone = {}
local tabs = redis.call('HGETALL', KEYS[2])
for i = 1, #tabs, 2 do
  local session, node = string.match(tabs[i], '^(%S+) (%S+)$')
  if node == ARGV[2] then
    redis.call('HDEL', KEYS[2], tabs[i])
    if redis.call('HINCRBY', KEYS[2], session, -1) <= 0 then
      redis.call('HDEL', KEYS[2], session)
      gone[session] = true
    end
  end
end
local claims = redis.call('HGETALL', KEYS[1])
for i = 1, #claims, 2 do if gone[claims[i + 1]] then redis.call('HDEL', KEYS[1], claims[i]) end end
local n = 0
for session in pairs(gone) do
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 't', 'roster', 'room', ARGV[1], 's', session, 'on', '0')
  n = n + 1
end
return n`;

/** A node of the school on this Redis: its store, its view of the others, and the Socket.IO adapter. */
export function joinCluster(url: string, kind: 'streams' | 'pubsub' = 'streams', log: (line: string) => void) {
  const nodeId = nanoid(10);
  const store = createRedisStore(url, log, nodeId);
  // The adapter's own connection: its reader blocks, and what it sends while Redis is away may wait for it.
  const redis = new Redis(url, { retryStrategy: (n) => Math.min(100 * n, 1000) });
  const subscriber = kind === 'pubsub' ? redis.duplicate() : null;
  for (const connection of [redis, subscriber]) connection?.on('error', () => {}); // said by the store's connection
  return {
    store,
    cluster: new Cluster(store, log, nodeId),
    adapter: subscriber ? createPubSubAdapter(redis, subscriber) : createStreamsAdapter(redis),
    closeAdapter: () => { redis.disconnect(); subscriber?.disconnect(); },
  };
}

export class Cluster {
  private lastId = '0-0'; // the last event applied
  private applying: Promise<void> = Promise.resolve(); // events are applied one after another, in order
  private pendingSync: Promise<void> | null = null;
  private reader: Redis;
  private timer: NodeJS.Timeout | undefined;
  private school: ClusterSchool | null = null;
  private isClosed = false;
  private wasDown = false;

  constructor(private readonly store: RedisStore, private readonly log: (line: string) => void, readonly nodeId: string) {
    this.reader = store.duplicate();
    store.redis.on('close', () => { this.wasDown = this.school !== null; });
    store.redis.on('ready', () => { if (this.wasDown) this.reclaim(); });
  }

  private get redis() { return this.store.redis; }

  /** Before the school is read: where in the stream its view starts (later events are applied on top). */
  async mark() {
    await this.store.connected();
    const [last] = (await this.redis.xrevrange(EVENTS, '+', '-', 'COUNT', 1)) as [string, string[]][];
    this.lastId = last?.[0] ?? '0-0';
  }

  /** Starts following the stream and beating. */
  async start(school: ClusterSchool) {
    this.school = school;
    await this.beat();
    this.timer = setInterval(() => this.beat().catch(() => {}), HEARTBEAT_MS).unref();
    void this.follow();
  }

  // ---- the event stream

  /** A raised or lowered hand, for the other nodes' view (this node has applied it already). */
  publishHand(room: string, session: string, up: boolean, ts: number): Promise<unknown> {
    return this.publish(room, 'hand', { s: session, up: up ? '1' : '0', ts: String(ts) });
  }

  /** A small room event every node applies in the stream's order (this one too, unless it says otherwise). */
  publish(room: string, t: string, fields: Record<string, string>): Promise<unknown> {
    return this.redis.xadd(EVENTS, 'MAXLEN', '~', String(EVENTS_KEEP), '*', 't', t, 'room', room, ...Object.entries(fields).flat());
  }

  /** Applies every event stored so far: a handshake does this first, so it sees what any node did before. */
  sync(): Promise<void> {
    return (this.pendingSync ??= this.inTurn(async () => {
      this.pendingSync = null; // a later call waits for a read made after it
      for (;;) {
        const entries = (await this.redis.xrange(EVENTS, `(${this.lastId}`, '+', 'COUNT', READ_COUNT)) as [string, string[]][];
        await this.applyAll(entries);
        if (entries.length < READ_COUNT) return;
      }
    }));
  }

  /** Runs `work` after every earlier application of events (a room being opened holds the next ones back). */
  private inTurn(work: () => Promise<void>): Promise<void> {
    const run = this.applying.then(work);
    this.applying = run.catch(() => {}); // a failed read must not stop the ones after it
    return run;
  }

  private async follow() {
    while (!this.isClosed) {
      try {
        const answer = (await this.reader.xread('COUNT', READ_COUNT, 'BLOCK', READ_BLOCK_MS, 'STREAMS', EVENTS, this.lastId)) as [string, [string, string[]][]][] | null;
        if (answer) await this.inTurn(() => this.applyAll(answer[0][1]));
      } catch {
        if (!this.isClosed) await new Promise((resolve) => setTimeout(resolve, 500)); // Redis away: the reader reconnects
      }
    }
  }

  private async applyAll(entries: [string, string[]][]) {
    for (const [id, fields] of entries) {
      if (!isAfter(id, this.lastId)) continue; // read twice (a sync and the reader)
      this.lastId = id;
      const event = toEvent(id, fields);
      if (!event || !this.school) continue;
      try {
        await this.school.apply(event);
      } catch (err) {
        this.log(`could not apply a ${event.t} event of room ${event.room}: ${(err as Error).message}`);
      }
    }
  }

  // ---- people

  /** Claims a nickname for one more tab of a session on this node (atomic across nodes). */
  async claim(room: string, session: string, key: string, who: Who, tabs = 1): Promise<Claim> {
    const k = toKeys(room);
    const answer = (await this.redis.eval(CLAIM, 4, k.claims, k.tabs, k.sessions, EVENTS, room, key, session, this.nodeId, JSON.stringify(who), tabs, EVENTS_KEEP)) as string;
    return answer === 'name_taken' ? answer : answer ? { at: answer } : {};
  }

  /** Lets go of one tab; the id of the event when it was the person's last anywhere. */
  async release(room: string, session: string, key: string): Promise<string | undefined> {
    const k = toKeys(room);
    return ((await this.redis.eval(RELEASE, 3, k.claims, k.tabs, EVENTS, room, key, session, this.nodeId, EVENTS_KEEP)) as string) || undefined;
  }

  /** Who a room knows and who is online now, for a room being opened. */
  async roster(room: string): Promise<{ sessions: Map<string, Who>; online: Set<string> }> {
    const k = toKeys(room);
    const [records, tabs] = await Promise.all([this.redis.hgetall(k.sessions), this.redis.hgetall(k.tabs)]);
    const sessions = new Map<string, Who>();
    for (const [id, text] of Object.entries(records)) {
      const who = toWho(text);
      if (who) sessions.set(id, who);
    }
    return { sessions, online: new Set(Object.keys(tabs).filter((f) => !f.includes(' ') && Number(tabs[f]) > 0)) };
  }

  /** Forgets sessions the room forgot (offline for a day). */
  forget(room: string, sessions: string[]) {
    if (sessions.length) this.redis.hdel(toKeys(room).sessions, ...sessions).catch(() => {});
  }

  // ---- nodes

  private async beat() {
    await this.redis.multi().set(nodeKey(this.nodeId), Date.now(), 'PX', NODE_TTL_MS).sadd(NODES, this.nodeId).exec();
    for (const node of await this.redis.smembers(NODES)) {
      if (node === this.nodeId || (await this.redis.exists(nodeKey(node)))) continue;
      const n = await this.reap(node);
      await this.redis.srem(NODES, node);
      if (n) this.log(`node ${node} stopped answering: ${n} people whose tabs were only there are offline now`);
    }
  }

  private async reap(node: string): Promise<number> {
    let n = 0;
    for (const room of this.school?.roomIds() ?? []) {
      const k = toKeys(room);
      n += (await this.redis.eval(REAP, 3, k.claims, k.tabs, EVENTS, room, node, EVENTS_KEEP)) as number;
    }
    return n;
  }

  /** Redis is back after a cut (maybe restarted, maybe it thought this node dead): claims this node's tabs again. */
  private async reclaim() {
    this.wasDown = false;
    try {
      await this.beat();
      await this.reap(this.nodeId);
      for (const p of this.school?.localPeople() ?? []) {
        this.school?.reclaimed(p.room, p.session, await this.claim(p.room, p.session, p.key, p.who, p.tabs));
      }
      await this.sync();
    } catch (err) {
      this.log(`could not claim this node's people again after Redis came back: ${(err as Error).message}`);
    }
  }

  async close() {
    this.isClosed = true;
    clearInterval(this.timer);
    this.reader.disconnect();
    if (this.redis.status !== 'ready') return;
    await this.reap(this.nodeId).catch(() => {}); // a clean stop: its people leave at once, not after the TTL
    await this.redis.multi().del(nodeKey(this.nodeId)).srem(NODES, this.nodeId).exec().catch(() => {});
  }
}

function toEvent(at: string, fields: string[]): ClusterEvent | null {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]] = fields[i + 1];
  const room = f.room;
  if (!room) return null;
  try {
    switch (f.t) {
      case 'msg': {
        const rec = toLogRecord(JSON.parse(f.rec));
        return rec && { at, room, t: 'msg', node: f.node, gen: Number(f.gen), len: Number(f.len), rec };
      }
      case 'meta': {
        const meta = toRoomMeta(JSON.parse(f.meta));
        return meta && { at, room, t: 'meta', meta, node: f.node ?? '' };
      }
      case 'deleted': return { at, room, t: 'deleted' };
      case 'compacted': case 'cleared': return { at, room, t: f.t, gen: Number(f.gen), len: Number(f.len) };
      case 'recalled': return { at, room, t: 'recalled', id: f.id, gen: Number(f.gen), len: Number(f.len) };
      case 'roster': return { at, room, t: 'roster', s: f.s, on: f.on === '1', who: f.who ? toWho(f.who) ?? undefined : undefined };
      case 'hand': return { at, room, t: 'hand', s: f.s, up: f.up === '1', ts: Number(f.ts) };
      case 'wait': return { at, room, t: 'wait', w: f.w, name: f.name, avatar: f.avatar, ts: Number(f.ts), node: f.node, on: f.on === '1' };
      case 'admit': case 'refuse': case 'unwait': return { at, room, t: f.t, w: f.w };
      case 'vote': return { at, room, t: 'vote', p: f.p, s: f.s, o: Number(f.o) };
      case 'pollClosed': return { at, room, t: 'pollClosed', p: f.p };
      case 'reads': return { at, room, t: 'reads', node: f.node, changes: toReadChanges(JSON.parse(f.r)) };
      case 'announced': return { at, room, t: 'announced', node: f.node, id: f.id, to: f.to ? f.to.split(' ') : null };
    }
  } catch {}
  return null;
}

function toReadChanges(value: unknown): ReadChange[] {
  if (!Array.isArray(value)) return [];
  return value.filter((c) => typeof c?.session === 'string' && typeof c.conv === 'string' && typeof c.value === 'string');
}

function toWho(text: string): Who | null {
  try {
    const who = JSON.parse(text);
    return typeof who?.name === 'string' ? who : null;
  } catch {
    return null;
  }
}
