// "Seen by": each student's read position per conversation (the group, a private conversation with a teacher)
// and the pin they saw, and from them the teacher's "seen by N of M" for what the teacher wrote, pinned or
// announced. A page reports one position per conversation, at most about once a second; the counts reach the
// teacher's tabs at most once a second, changed ones only; positions are stored in batches through the store
// (and so, in a cluster, told to every node). A student's read state goes to nobody but the teacher.
import type { Pin, ReadAck, ReadError, SeenItem } from './contract.ts';
import type { ClusterEvent } from './cluster.ts';
import type { Conversations, Entry } from './conversations.ts';
import type { People, Session } from './people.ts';
import type { RoomContext } from './room-context.ts';
import type { ReadChange, StoredReads } from './store.ts';

const PUSH_MS = 1000; // the teacher's counts: at most this often
const SAVE_MS = 1000; // positions stored at most this often per room
const ANNOUNCEMENTS_KEPT = 50;
const TRACKED_GROUP = 200; // the teacher's latest group messages that have counts
const TRACKED_PRIVATE = 20; // per private conversation of a teacher
const GROUP = 'g';
const PIN = 'p';
export const PIN_ITEM = 'pin'; // the item id of the pinned announcement

/** What "seen by" needs of its room (room.ts). */
export interface SeenRoom {
  readonly id: string;
  readonly people: People;
  readonly convs: Conversations;
  pinned(): Pin | null;
  isKicked(session: Session): boolean;
  teacherTabs(): string[];
  say(line: string): void;
}

interface Announcement { id: string; seq: number; to: Set<string> | null } // to: the sessions it reached (null: everyone)

export class SeenBy {
  private readonly group = new Map<string, number>(); // session -> the seq of the last group line seen
  private readonly privates = new Map<string, number>(); // "student teacher" -> the seq of the last line seen
  private readonly pins = new Map<string, number>(); // session -> the pin (its ts) seen
  private readonly announcements: Announcement[] = [];
  private unsaved = new Map<string, string>(); // "session conv" -> value, to store
  private readonly pushed = new Map<string, string>(); // item id -> "n/of" last told the teacher
  private saveTimer: NodeJS.Timeout | null = null;
  private pushTimer: NodeJS.Timeout | null = null;

  constructor(private readonly room: SeenRoom, private readonly ctx: RoomContext) {}

  /** A page's report: `id` is the last line of the conversation it showed (with `to`, the private one with that
   * teacher), `pin` the pin it showed. Only moves forward; the teacher's own reading is not counted. */
  read(session: Session, payload: Record<string, unknown> | null): ReadAck {
    const refuse = (error: ReadError): ReadAck => ({ ok: false, error });
    const { id, to, pin } = payload ?? {};
    if (typeof id !== 'string' || !id || id.length > 64) return refuse('invalid_message');
    if ((to !== undefined && typeof to !== 'string') || (pin !== undefined && !Number.isSafeInteger(pin))) return refuse('invalid_message');
    if (to === undefined) {
      const seq = this.groupSeq(id, session.id);
      if (seq === undefined) return refuse('not_found');
      if (session.isTeacher) return { ok: true };
      this.move(session.id, GROUP, id, seq);
      if (typeof pin === 'number' && pin === this.room.pinned()?.ts && this.pins.get(session.id) !== pin) {
        this.pins.set(session.id, pin);
        this.changed(session.id, PIN, String(pin));
      }
      return { ok: true };
    }
    const teacher = this.room.people.byName(to);
    const entry = this.room.convs.get(id);
    if (!teacher || !entry?.committed || !isBetween(entry, session.id, teacher.id)) return refuse('not_found');
    if (!teacher.isTeacher) return refuse('not_allowed'); // only what a teacher wrote has a "seen"
    if (!session.isTeacher) this.move(`${session.id} ${teacher.id}`, teacher.id, id, entry.seq, session.id);
    return { ok: true };
  }

  /** The group position of a message or an announcement this person could see. */
  private groupSeq(id: string, session: string): number | undefined {
    const entry = this.room.convs.get(id);
    if (entry) return entry.committed && !entry.toS ? entry.seq : undefined;
    const a = this.announcements.find((x) => x.id === id);
    return a && (!a.to || a.to.has(session)) ? a.seq : undefined;
  }

  private move(key: string, conv: string, id: string, seq: number, session = key) {
    const positions = conv === GROUP ? this.group : this.privates;
    if ((positions.get(key) ?? -1) >= seq) return;
    positions.set(key, seq);
    this.changed(session, conv, id);
  }

  private changed(session: string, conv: string, value: string) {
    this.unsaved.set(`${session} ${conv}`, value);
    this.saveTimer ??= setTimeout(() => this.save(), SAVE_MS).unref();
    this.schedulePush();
  }

  private save() {
    this.saveTimer = null;
    const changes: ReadChange[] = [...this.unsaved].map(([key, value]) => {
      const [session, conv] = key.split(' ');
      return { session, conv, value };
    });
    this.unsaved = new Map();
    if (!changes.length) return;
    this.ctx.store.saveReads(this.room.id, changes).catch((err: Error) => this.room.say(`could not store read positions: ${err.message}`));
  }

  /** Positions as stored (at start), or as another node stored them (from the event stream). */
  load(stored: StoredReads) {
    for (const [key, value] of Object.entries(stored)) {
      const [session, conv] = key.split(' ');
      this.apply({ session, conv, value });
    }
    this.schedulePush();
  }

  applyEvent(event: Extract<ClusterEvent, { t: 'reads' | 'announced' }>) {
    if (event.node === this.ctx.cluster?.nodeId) return; // applied here when made
    if (event.t === 'announced') return this.announced(event.id, event.to);
    for (const change of event.changes) this.apply(change);
    this.schedulePush();
  }

  private apply({ session, conv, value }: ReadChange) {
    if (conv === PIN) {
      this.pins.set(session, Number(value));
      return;
    }
    const entry = this.room.convs.get(value);
    const seq = conv === GROUP ? (entry ? entry.seq : this.announcements.find((a) => a.id === value)?.seq) : entry?.seq;
    if (seq === undefined) return;
    const key = conv === GROUP ? session : `${session} ${conv}`;
    const positions = conv === GROUP ? this.group : this.privates;
    if ((positions.get(key) ?? -1) < seq) positions.set(key, seq);
  }

  /** An announcement (of the push API) takes its place in the group; `to`: the sessions it went to. */
  announce(id: string, to: string[] | null) {
    this.announced(id, to);
    this.ctx.cluster?.publish(this.room.id, 'announced', { id, to: to ? to.join(' ') : '', node: this.ctx.cluster.nodeId })
      .catch((err: Error) => this.room.say(`could not tell the other nodes of an announcement: ${err.message}`));
  }

  private announced(id: string, to: string[] | null) {
    if (this.announcements.some((a) => a.id === id)) return;
    this.announcements.push({ id, seq: this.room.convs.nextSeq(), to: to && new Set(to) });
    if (this.announcements.length > ANNOUNCEMENTS_KEPT) this.announcements.shift();
    this.schedulePush();
  }

  /** Something the counts depend on changed (a teacher's message, the pin, the people). */
  schedulePush() {
    this.pushTimer ??= setTimeout(() => this.push(), PUSH_MS).unref();
  }

  private push() {
    this.pushTimer = null;
    const tabs = this.room.teacherTabs();
    if (!tabs.length) return;
    const items = this.items().filter((item) => {
      const text = `${item.n}/${item.of}`;
      if (this.pushed.get(item.id) === text) return false;
      this.pushed.set(item.id, text);
      return true;
    });
    if (items.length) (this.ctx.cluster ? this.ctx.io.local : this.ctx.io).to(tabs).emit('seen', { items });
  }

  /** Every count, to a teacher tab that just came in. */
  greet(tab: { emit(event: 'seen', s: { items: SeenItem[] }): unknown }) {
    tab.emit('seen', { items: this.items() });
  }

  /** The students who count: known to the room (online or not long ago), not removed. */
  private students(): Session[] {
    return [...this.room.people.sessions.values()].filter((s) => !s.isTeacher && !this.room.isKicked(s));
  }

  /** "Seen by N of M" for the teacher's latest messages, the announcements and the pin. Sorting the positions once
   * makes each count a binary search: the cost grows with the class, not with messages times people. */
  items(): SeenItem[] {
    const students = this.students();
    const of = students.length;
    const positions = students.map((s) => this.group.get(s.id) ?? -1).sort((a, b) => a - b);
    const seenFrom = (seq: number) => of - lowerBound(positions, seq);
    const items: SeenItem[] = [];
    const group = this.room.convs.group;
    for (let i = group.length - 1, k = 0; i >= 0 && k < TRACKED_GROUP; i--) {
      const e = group[i];
      if (!e.msg.teacher || !e.committed) continue;
      items.push({ id: e.msg.id, n: seenFrom(e.seq), of });
      k++;
    }
    for (const a of this.announcements) {
      if (!a.to) items.push({ id: a.id, n: seenFrom(a.seq), of });
      else {
        const to = students.filter((s) => a.to!.has(s.id));
        items.push({ id: a.id, n: to.filter((s) => (this.group.get(s.id) ?? -1) >= a.seq).length, of: to.length });
      }
    }
    const pin = this.room.pinned();
    if (pin) items.push({ id: PIN_ITEM, n: students.filter((s) => this.pins.get(s.id) === pin.ts).length, of });
    for (const teacher of this.room.people.sessions.values()) {
      if (!teacher.isTeacher) continue;
      for (const conv of this.room.convs.conversationsOf(teacher.id)) {
        let k = 0;
        for (let i = conv.length - 1; i >= 0 && k < TRACKED_PRIVATE; i--) {
          const e = conv[i];
          if (e.from !== teacher.id || !e.toS || !e.committed) continue;
          items.push({ id: e.msg.id, n: (this.privates.get(`${e.toS} ${teacher.id}`) ?? -1) >= e.seq ? 1 : 0, of: 1 });
          k++;
        }
      }
    }
    return items;
  }

  /** Who has not seen this item yet (for the teacher), or null if it has no count. */
  unseen(id: string): string[] | null {
    const students = this.students();
    const names = (who: Session[]) => who.map((s) => s.name);
    if (id === PIN_ITEM) {
      const pin = this.room.pinned();
      return pin ? names(students.filter((s) => this.pins.get(s.id) !== pin.ts)) : null;
    }
    const entry = this.room.convs.get(id);
    if (entry?.toS) {
      const from = this.room.people.get(entry.from);
      if (!from?.isTeacher) return null;
      const to = this.room.people.get(entry.toS);
      return to && (this.privates.get(`${to.id} ${from.id}`) ?? -1) < entry.seq ? [to.name] : [];
    }
    const a = entry ? undefined : this.announcements.find((x) => x.id === id);
    if (!(entry?.msg.teacher) && !a) return null;
    const seq = entry ? entry.seq : a!.seq;
    return names(students.filter((s) => (!a?.to || a.to.has(s.id)) && (this.group.get(s.id) ?? -1) < seq));
  }

  close() {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.save();
    if (this.pushTimer) clearTimeout(this.pushTimer);
  }
}

const isBetween = (e: Entry, a: string, b: string) => !!e.toS && ((e.from === a && e.toS === b) || (e.from === b && e.toS === a));

/** The first index whose value is at least `x` in an ascending array. */
function lowerBound(sorted: number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
