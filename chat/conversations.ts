// The messages a room keeps in memory: the group conversation (for catch-up after a drop) and the private
// conversations by pair of sessions; history for a (re)connecting person, and what compaction keeps.
import type { AckFn, TextMsg } from './contract.ts';

export const HISTORY_REPLAY = 200; // group messages in a fresh welcome
const GROUP_KEEP = 1000; // group messages kept for catch-up
const PRIVATE_KEEP = 200; // messages kept per private conversation

export interface Entry {
  seq: number;
  msg: TextMsg;
  from: string; // sender session
  toS?: string; // recipient session (private)
  cid?: string;
  committed: boolean;
  waiters?: AckFn[]; // retries that arrived before the first write finished
}

const toConvKey = (a: string, b: string) => (a < b ? `${a} ${b}` : `${b} ${a}`);

export class Conversations {
  readonly group: Entry[] = [];
  private readonly privates = new Map<string, Entry[]>(); // conversation key -> messages
  private readonly bySession = new Map<string, Set<string>>(); // session -> its conversation keys
  private seq = 0;

  get privateCount() { return this.privates.size; }
  nextSeq() { return ++this.seq; }
  hasConversations(session: string) { return this.bySession.has(session); }

  remember(entry: Entry) {
    if (!entry.toS) {
      this.group.push(entry);
      if (this.group.length > GROUP_KEEP * 1.25) this.group.splice(0, this.group.length - GROUP_KEEP);
      return;
    }
    const key = toConvKey(entry.from, entry.toS);
    const conv = this.privates.get(key) ?? [];
    if (!conv.length) this.privates.set(key, conv);
    conv.push(entry);
    if (conv.length > PRIVATE_KEEP) conv.shift();
    for (const id of [entry.from, entry.toS]) {
      const keys = this.bySession.get(id) ?? new Set();
      if (!keys.size) this.bySession.set(id, keys);
      keys.add(key);
    }
  }

  /** What a (re)connecting person gets: everything after `lastId` if we still have it, else the recent past. */
  historyFor(session: string, lastId: unknown): TextMsg[] {
    const convs = [...(this.bySession.get(session) ?? [])].map((k) => this.privates.get(k) ?? []);
    const after = typeof lastId === 'string' ? findSeq(lastId, [this.group, ...convs]) : -1;
    const pick = (entries: Entry[]) => (after >= 0 ? entries.filter((e) => e.seq > after) : entries);
    const recentGroup = after >= 0 ? this.group : this.group.slice(-HISTORY_REPLAY);
    const toSeen = (e: Entry): TextMsg => (e.from === session ? { ...e.msg, own: true } : e.msg); // own by session, not by name
    return [pick(recentGroup), ...convs.map(pick)].flat().sort((a, b) => a.seq - b.seq).map(toSeen);
  }

  clearGroup() {
    this.group.length = 0;
  }

  /** A session is forgotten: its conversations go only once nobody in them can read them any more. */
  forget(session: string, isKnown: (id: string) => boolean) {
    for (const key of this.bySession.get(session) ?? []) {
      const other = key.split(' ').find((id) => id !== session) ?? session;
      if (other !== session && isKnown(other)) continue;
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

function findSeq(id: string, lists: Entry[][]): number {
  for (const list of lists) {
    for (let i = list.length - 1; i >= 0; i--) if (list[i].msg.id === id) return list[i].seq;
  }
  return -1;
}
