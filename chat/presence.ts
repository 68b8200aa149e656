// Who came and who went, told to a room in one `online` frame per window: the count, and (in rooms up to
// the list limit) the people. A window is longer when the whole server is busy (its cost is one frame per
// person in the room, so a storm of connections costs a few frames each, not one per newcomer). A leave is
// told only once the person has stayed away for a grace period: a phone locking its screen for a few
// seconds, or a page reloading, shows nothing (the count is always exact).
import type { Online } from './contract.ts';
import { toUserInfo, type Session } from './people.ts';

const WINDOW_MS = 100; // the shortest window: a class hears a newcomer at once
const PEOPLE_PER_WINDOW_STEP = 100; // the window grows by WINDOW_MS per this many people on the server

/** People online on the whole server, shared by its rooms: it sets how long each room's window is. */
export interface Crowd { online: number }

export class Presence {
  private readonly changes = new Map<string, { session: Session; isHere: boolean }>(); // session id -> since the last frame
  private readonly leaving = new Map<string, NodeJS.Timeout>(); // session id -> its leave, told if it does not come back
  private timer: NodeJS.Timeout | null = null;
  private lastCount = 0;

  constructor(
    private readonly emit: (frame: Online) => void,
    private readonly count: () => number,
    private readonly listLimit: number,
    private readonly crowd: Crowd,
    private readonly leaveGraceMs: number,
    private readonly onGone: (session: Session) => void = () => {}, // once told gone (after the grace)
  ) {}

  /** A person's first tab opened (`isHere`) or last tab closed. */
  note(session: Session, isHere: boolean) {
    this.crowd.online += isHere ? 1 : -1;
    this.schedule(); // the count changed
    const leave = this.leaving.get(session.id);
    if (isHere && leave) { // back within the grace: they were never told gone
      clearTimeout(leave);
      this.leaving.delete(session.id);
    } else if (isHere) {
      this.record(session, true);
    } else {
      this.leaving.set(session.id, setTimeout(() => {
        this.leaving.delete(session.id);
        this.record(session, false);
        this.onGone(session);
      }, this.leaveGraceMs).unref());
    }
  }

  private record(session: Session, isHere: boolean) {
    const pending = this.changes.get(session.id);
    if (pending && pending.isHere !== isHere) this.changes.delete(session.id); // came and went within one window
    else this.changes.set(session.id, { session, isHere });
    this.schedule();
  }

  private schedule() {
    this.timer ??= setTimeout(() => this.flush(), WINDOW_MS * Math.max(1, this.crowd.online / PEOPLE_PER_WINDOW_STEP));
  }

  private flush() {
    this.timer = null;
    const count = this.count();
    const frame: Online = { count };
    if (count <= this.listLimit) {
      const changes = [...this.changes.values()];
      const joined = changes.filter((c) => c.isHere).map((c) => toUserInfo(c.session));
      const left = changes.filter((c) => !c.isHere).map((c) => c.session.name);
      if (joined.length) frame.joined = joined;
      if (left.length) frame.left = left;
    }
    this.changes.clear();
    if (count === this.lastCount && !frame.joined && !frame.left) return;
    this.lastCount = count;
    this.emit(frame);
  }

  close() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.leaving.forEach(clearTimeout);
    this.leaving.clear();
  }
}
