// The messages a room keeps in memory: the group conversation (for catch-up after a drop) and the private
// conversations by pair of sessions; history for a (re)connecting person, and what compaction keeps.
import type { AckFn, TextMsg } from './contract.ts';
import { isAfter, toStreamMs } from './stream-ids.ts';

export const HISTORY_REPLAY = 200; // group messages in a fresh welcome
const GROUP_KEEP = 1000; // group messages kept for catch-up
const PRIVATE_KEEP = 200; // messages kept per private conversation

export interface Entry {
  seq: number;
  msg: TextMsg;
  from: string; // sender session
  toS?: string; // recipient session (private)
  cid?: string;
  mentionS?: string[]; // the sessions it mentions
  committed: boolean;
  waiters?: AckFn[]; // retries that arrived before the first write finished
  at?: string; // in a cluster: its place in the event stream (the school's order, on Redis's clock)
  node?: string; // in a cluster: the node that stored it, if not this one
  redelivered?: boolean; // a retry of it reached this node, which sent it again
}

const toConvKey = (a: string, b: string) => (a < b ? `${a} ${b}` : `${b} ${a}`);

export class Conversations {
  readonly group: Entry[] = [];
  private readonly privates = new Map<string, Entry[]>(); // conversation key -> messages
  private readonly bySession = new Map<string, Set<string>>(); // session -> its conversation keys
  private readonly byId = new Map<string, Entry>(); // every kept message by id
  private seq = 0;

  /** `overlapMs`: in a cluster, catch-up also sends what was stored this long before the last message seen,
   * as nodes deliver concurrent messages in different orders (the page drops what it has already). */
  constructor(private readonly overlapMs = 0) {}

  get privateCount() { return this.privates.size; }
  nextSeq() { return ++this.seq; }
  hasConversations(session: string) { return this.bySession.has(session); }

  has(id: string) { return this.byId.has(id); }
  get(id: string) { return this.byId.get(id); }

  /** Takes a message out (recalled), and its words out of the replies quoting it; true if it was kept. */
  remove(id: string): boolean {
    const entry = this.byId.get(id);
    if (!entry) return false;
    const list = entry.toS ? this.privates.get(toConvKey(entry.from, entry.toS)) : this.group;
    const i = list?.indexOf(entry) ?? -1;
    if (list && i >= 0) list.splice(i, 1);
    this.byId.delete(id);
    for (const e of list ?? []) if (e.msg.reply?.id === id) e.msg.reply = { id, gone: true }; // a reply is in its original's conversation
    return true;
  }

  remember(entry: Entry) {
    this.byId.set(entry.msg.id, entry);
    if (!entry.toS) {
      this.group.push(entry);
      if (this.group.length > GROUP_KEEP * 1.25) this.drop(this.group.splice(0, this.group.length - GROUP_KEEP));
      return;
    }
    const key = toConvKey(entry.from, entry.toS);
    const conv = this.privates.get(key) ?? [];
    if (!conv.length) this.privates.set(key, conv);
    conv.push(entry);
    if (conv.length > PRIVATE_KEEP) this.drop([conv.shift()!]);
    for (const id of [entry.from, entry.toS]) {
      const keys = this.bySession.get(id) ?? new Set();
      if (!keys.size) this.bySession.set(id, keys);
      keys.add(key);
    }
  }

  /** The private conversations of a session, each oldest first. */
  conversationsOf(session: string): Entry[][] {
    return [...(this.bySession.get(session) ?? [])].map((k) => this.privates.get(k) ?? []);
  }

  /** What a (re)connecting person gets: everything after `lastId` if we still have it, else the recent past. */
  historyFor(session: string, lastId: unknown): TextMsg[] {
    const convs = this.conversationsOf(session);
    const last = typeof lastId === 'string' ? this.byId.get(lastId) : undefined;
    const after = last?.seq ?? -1;
    const since = this.overlapMs && last?.at ? toStreamMs(last.at) - this.overlapMs : Infinity;
    const pick = (entries: Entry[]) => (last ? entries.filter((e) => e.seq > after || (e.at !== undefined && toStreamMs(e.at) >= since)) : entries);
    const recentGroup = last ? this.group : this.group.slice(-HISTORY_REPLAY);
    const toSeen = (e: Entry): TextMsg => { // own and mentioned by session, not by name
      if (e.from === session) return { ...e.msg, own: true };
      return e.msg.mentionsAll || e.mentionS?.includes(session) ? { ...e.msg, mentioned: true } : e.msg;
    };
    return [pick(recentGroup), ...convs.map(pick)].flat().sort((a, b) => a.seq - b.seq).map(toSeen);
  }

  /** Empties the group; in a cluster only what was stored before the clear (`before`, an event id). */
  clearGroup(before?: string) {
    const kept = before ? this.group.filter((e) => e.at !== undefined && isAfter(e.at, before)) : [];
    this.drop(this.group.filter((e) => !kept.includes(e)));
    this.group.splice(0, this.group.length, ...kept);
  }

  private drop(entries: Entry[]) {
    for (const e of entries) this.byId.delete(e.msg.id);
  }

  /** A session is forgotten: its conversations go only once nobody in them can read them any more. */
  forget(session: string, isKnown: (id: string) => boolean) {
    for (const key of this.bySession.get(session) ?? []) {
      const other = key.split(' ').find((id) => id !== session) ?? session;
      if (other !== session && isKnown(other)) continue;
      this.drop(this.privates.get(key) ?? []);
      this.privates.delete(key);
      this.bySession.get(other)?.delete(key);
      if (!this.bySession.get(other)?.size) this.bySession.delete(other);
    }
    this.bySession.delete(session);
  }

  /** Every kept message, oldest first. */
  all(): Entry[] {
    return [this.group, ...this.privates.values()].flat().sort((a, b) => a.seq - b.seq);
  }
}
