// The teacher's rules for one room (quiet mode, mutes, removals, the pin) and the checks every kind of
// message passes before it is accepted: one place, whatever the message carries.
import type { ErrorCode, Pin, RoomState } from './contract.ts';
import type { Session } from './people.ts';
import type { RoomMeta } from './store.ts';

export interface Rate { burst: number; perSecond: number }
export const ROOM_RATE: Rate = { burst: 100, perSecond: 30 }; // the whole room: far above a real class, far below a flood

export class Rules {
  quiet = false; // everyone but the teacher muted
  pinned: Pin | null = null;
  readonly muted = new Map<string, string>(); // name key -> name: a mute holds for the nickname, online or not
  readonly kicked = new Map<string, string>(); // name key -> name: refused until allowed
  readonly kickedSessions = new Set<string>(); // and the removed sessions, whatever name they ask for
  private roomTokens: number;
  private roomRefilledAt = Date.now();

  constructor(private readonly rate: Rate | false, private readonly roomRate: Rate | false, meta?: RoomMeta) {
    this.roomTokens = roomRate ? roomRate.burst : 0;
    if (meta) this.load(meta);
  }

  /** The rules as stored (at start; in a cluster, whenever a node changes them). */
  load(meta: RoomMeta) {
    this.quiet = meta.quiet;
    this.pinned = meta.pinned;
    this.muted.clear();
    this.kicked.clear();
    this.kickedSessions.clear();
    for (const [key, name] of Object.entries(meta.muted)) this.muted.set(key, name);
    for (const [key, name] of Object.entries(meta.kicked)) this.kicked.set(key, name);
    for (const id of meta.kickedSessions) this.kickedSessions.add(id);
  }

  toMeta(): Pick<RoomMeta, 'quiet' | 'pinned' | 'muted' | 'kicked' | 'kickedSessions'> {
    return {
      quiet: this.quiet, pinned: this.pinned, muted: Object.fromEntries(this.muted), kicked: Object.fromEntries(this.kicked),
      kickedSessions: [...this.kickedSessions],
    };
  }

  isMuted = (s: Session) => this.muted.has(s.key);
  /** A removal holds for the nickname and for the session, whichever comes back. */
  isKicked = (key: string, session: unknown) => this.kicked.has(key) || (typeof session === 'string' && this.kickedSessions.has(session));

  /** Why this person may not send a message now, or null. Counts the message against the flood limits. */
  refusal(session: Session, now = Date.now()): ErrorCode | null {
    if (!session.isTeacher && (this.quiet || this.muted.has(session.key))) return 'muted';
    if (!this.rate) return null;
    session.tokens = Math.min(this.rate.burst, session.tokens + ((now - session.refilledAt) / 1000) * this.rate.perSecond);
    session.refilledAt = now;
    if (session.tokens < 1) return 'rate_limited';
    if (this.roomRate) {
      this.roomTokens = Math.min(this.roomRate.burst, this.roomTokens + ((now - this.roomRefilledAt) / 1000) * this.roomRate.perSecond);
      this.roomRefilledAt = now;
      if (this.roomTokens < 1) return 'rate_limited';
      this.roomTokens--;
    }
    session.tokens--;
    return null;
  }

  /** Who is muted or removed is the teacher's business; a student only learns about themselves. */
  stateFor(id: string, title: string, session?: Session): RoomState {
    const { quiet, pinned } = this;
    if (session?.isTeacher) return { id, title, quiet, pinned, kicked: [...this.kicked.values()], muted: [...this.muted.values()] };
    return { id, title, quiet, pinned, kicked: [], muted: session && this.muted.has(session.key) ? [session.name] : [] };
  }
}
