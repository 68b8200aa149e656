// The teacher's rules for one room (quiet mode, mutes, removals, slow mode, the pin) and the checks every kind
// of message passes before it is accepted: one place, whatever the message carries.
import type { ErrorCode, Pin, RoomState } from './contract.ts';
import type { Session } from './people.ts';
import type { RoomMeta } from './store.ts';

export interface Rate { burst: number; perSecond: number }
export const ROOM_RATE: Rate = { burst: 100, perSecond: 30 }; // the whole room: far above a real class, far below a flood

export class Rules {
  quiet = false; // everyone but the teacher muted
  pinned: Pin | null = null;
  slow = 0; // seconds a student waits between two messages
  locked = false; // the waiting room: someone new waits for the teacher
  files = false; // students may share files (the teacher always may)
  readonly muted = new Map<string, string>(); // name key -> name: a mute holds for the nickname, online or not
  readonly mutedUntil = new Map<string, number>(); // name key -> end of a timed mute (ms); none: until lifted
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
    this.slow = meta.slow ?? 0;
    this.locked = meta.locked ?? false;
    this.files = meta.files ?? false;
    this.muted.clear();
    this.mutedUntil.clear();
    for (const [key, until] of Object.entries(meta.mutedUntil ?? {})) this.mutedUntil.set(key, until);
    this.kicked.clear();
    this.kickedSessions.clear();
    for (const [key, name] of Object.entries(meta.muted)) this.muted.set(key, name);
    for (const [key, name] of Object.entries(meta.kicked)) this.kicked.set(key, name);
    for (const id of meta.kickedSessions) this.kickedSessions.add(id);
  }

  toMeta(): Pick<RoomMeta, 'quiet' | 'pinned' | 'muted' | 'kicked' | 'kickedSessions' | 'mutedUntil' | 'slow' | 'locked' | 'files'> {
    this.dropEnded();
    return {
      quiet: this.quiet, pinned: this.pinned, muted: Object.fromEntries(this.muted), kicked: Object.fromEntries(this.kicked),
      kickedSessions: [...this.kickedSessions], mutedUntil: Object.fromEntries(this.mutedUntil), slow: this.slow, locked: this.locked, files: this.files,
    };
  }

  /** Mutes a nickname until lifted, or for `minutes`. */
  mute(s: Session, minutes?: number, now = Date.now()) {
    this.muted.set(s.key, s.name);
    if (minutes) this.mutedUntil.set(s.key, now + minutes * 60_000);
    else this.mutedUntil.delete(s.key);
  }

  unmute(key: string) {
    this.muted.delete(key);
    this.mutedUntil.delete(key);
  }

  /** Lets the timed mutes that have ended go; true if one did. */
  dropEnded(now = Date.now()): boolean {
    let isChanged = false;
    for (const [key, until] of this.mutedUntil) {
      if (until > now) continue;
      this.unmute(key);
      isChanged = true;
    }
    return isChanged;
  }

  /** When the next timed mute ends, if one does. */
  nextEnd(): number | undefined {
    return this.mutedUntil.size ? Math.min(...this.mutedUntil.values()) : undefined;
  }

  isMuted = (s: Session, now = Date.now()) => this.muted.has(s.key) && (this.mutedUntil.get(s.key) ?? Infinity) > now;
  /** A removal holds for the nickname and for the session, whichever comes back. */
  isKicked = (key: string, session: unknown) => this.kicked.has(key) || (typeof session === 'string' && this.kickedSessions.has(session));

  /** Why this person may not send a message (to `recipient`, if private) now, or null. Counts the message against
   * the flood limits and slow mode. A student muted, in quiet mode or in slow mode may still write to the teacher. */
  refusal(session: Session, recipient?: Session, now = Date.now()): ErrorCode | null {
    const isHeld = !session.isTeacher && !recipient?.isTeacher;
    if (isHeld && (this.quiet || this.isMuted(session, now))) return 'muted';
    if (isHeld && this.slow && now - session.spokeAt < this.slow * 1000) return 'slow_mode';
    const refused = this.floodRefusal(session, now);
    if (!refused && isHeld) session.spokeAt = now;
    return refused;
  }

  /** Flood control alone (votes: a muted student may still vote). */
  floodRefusal(session: Session, now = Date.now()): ErrorCode | null {
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
    const { quiet, pinned, slow, locked, files } = this;
    this.dropEnded();
    const shared = { id, title, quiet, pinned, slow, locked, files };
    if (session?.isTeacher) return { ...shared, kicked: [...this.kicked.values()], muted: [...this.muted.values()] };
    if (!session || !this.muted.has(session.key)) return { ...shared, kicked: [], muted: [] };
    const until = this.mutedUntil.get(session.key);
    return { ...shared, kicked: [], muted: [session.name], ...(until && { mutedUntil: until }) };
  }
}
