// The waiting room: while the teacher has locked a room, someone the room does not know waits, connected, on a
// "waiting for the teacher" screen until the teacher admits or refuses them. People the room knows (their
// sessions) come and go as usual. A waiting page keeps its place across a reconnect by its token.
import type { Avatar, Hand } from './contract.ts';
import { toNameKey } from './names.ts';

const AWAY_MS = 60_000; // a waiting page that has not come back for this long has given up

export interface Waiting {
  token: string; name: string; avatar: Avatar; at: number;
  socketId: string | null; // null while its page reconnects (or, in a cluster, while it is on another node)
  node?: string; // in a cluster: the node its page is connected to
  isAway?: boolean; // in a cluster: its page is away
  goneAt: number;
  admitted: boolean; // let in while away: its next handshake goes straight in
}

export class Waitlist {
  private readonly byToken = new Map<string, Waiting>();

  get(token: unknown): Waiting | undefined {
    return typeof token === 'string' ? this.byToken.get(token) : undefined;
  }

  /** A page waits (again, under its token: it keeps its place); the entry as it stands now. */
  wait(token: string, name: string, avatar: Avatar, socketId: string | null, at = Date.now()): Waiting {
    const known = this.byToken.get(token);
    const entry = known ?? { token, name, avatar, at, socketId, goneAt: 0, admitted: false };
    Object.assign(entry, { name, avatar, socketId, isAway: false });
    this.byToken.set(token, entry);
    return entry;
  }

  /** Its page disconnected: the entry stays a while, for a reconnect. */
  away(token: string, socketId: string) {
    const entry = this.byToken.get(token);
    if (entry?.socketId !== socketId) return;
    entry.socketId = null;
    entry.isAway = true;
    entry.goneAt = Date.now();
  }

  remove(token: string) { this.byToken.delete(token); }

  /** The waiting person of this nickname (or a look-alike of it). */
  byName(name: string): Waiting | undefined {
    const key = toNameKey(name);
    for (const entry of this.byToken.values()) if (!entry.admitted && toNameKey(entry.name) === key) return entry;
    return undefined;
  }

  waiting(): Waiting[] {
    return [...this.byToken.values()].filter((e) => !e.admitted).sort((a, b) => a.at - b.at);
  }

  /** The queue as the teacher sees it, oldest first. */
  queue(): Hand[] {
    return this.waiting().map(({ name, avatar, at }) => ({ name, avatar, at }));
  }

  /** The entries of pages that gave up (away too long), from this node's (`node`) in a cluster. */
  givenUp(now = Date.now(), node?: string): Waiting[] {
    return [...this.byToken.values()].filter((e) => !e.socketId && e.node === node && now - e.goneAt >= AWAY_MS);
  }
}
