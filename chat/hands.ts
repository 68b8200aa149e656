// Raised hands in one room: a student asks for the floor, the teacher sees a queue (oldest first) and lowers one
// or all. A hand belongs to the session, so it outlives a reconnect of the same person, and drops when they
// leave. In a cluster every node keeps the same queue, from the event stream.
import type { Hand, HandAck } from './contract.ts';
import type { People, Session } from './people.ts';
import type { ChatSocket, RoomContext } from './room-context.ts';

/** What raised hands need of their room (room.ts). */
export interface HandsRoom {
  readonly id: string;
  readonly people: People;
  say(line: string): void;
  tabIds(...people: Session[]): string[];
  teacherTabs(): string[];
}

export class Hands {
  private readonly raised = new Map<string, number>(); // session id -> when raised (ms)

  constructor(private readonly room: HandsRoom, private readonly ctx: RoomContext) {}

  has(session: string) { return this.raised.has(session); }

  /** A student raises or lowers their hand: their tabs and the teacher's are told; in a cluster, the other nodes. */
  set(session: Session, up: boolean): HandAck {
    if (session.isTeacher) return { ok: false, error: 'not_allowed' };
    const at = Date.now();
    if (up ? this.raise(session.id, at) : this.raised.delete(session.id)) this.changed(session, up, at);
    return { ok: true };
  }

  /** The teacher lowers these people's hands. */
  lower(people: Session[]) {
    for (const person of people) if (this.raised.delete(person.id)) this.changed(person, false, Date.now());
  }

  /** Its person has left (every node sees it): the hand goes, and this node tells its own tabs. */
  gone(session: Session) {
    if (this.raised.delete(session.id)) this.tell(undefined, true);
  }

  /** In a cluster: a hand another node (or this one) raised or lowered; the pages were told by that node. */
  apply(event: { s: string; up: boolean; ts: number }) {
    if (event.up) this.raise(event.s, event.ts);
    else this.raised.delete(event.s);
  }

  /** A tab that just came in: the teacher's gets the queue, a student's its hand. */
  greet(socket: ChatSocket, session: Session) {
    if (session.isTeacher) socket.emit('hands', { queue: this.queue() });
    else if (this.raised.has(session.id)) socket.emit('hand', { up: true });
  }

  /** The sessions with a hand up as the teacher sees them: oldest first, with names and avatars. */
  queue(): Hand[] {
    return [...this.raised].sort((a, b) => a[1] - b[1]).flatMap(([session, at]) => {
      const person = this.room.people.get(session);
      return person ? [{ name: person.name, avatar: person.avatar, at }] : [];
    });
  }

  /** False if it was up already (it keeps its place in the queue). */
  private raise(session: string, at: number): boolean {
    if (this.raised.has(session)) return false;
    this.raised.set(session, at);
    return true;
  }

  private changed(session: Session, up: boolean, at: number) {
    this.tell(session);
    this.ctx.cluster?.publishHand(this.room.id, session.id, up, at).catch((err: Error) => this.room.say(`could not share a raised hand: ${err.message}`));
  }

  /** The student's tabs (their hand) and the teachers' (the queue). `isLocal`: this node's tabs only. */
  private tell(student?: Session, isLocal = false) {
    const io = isLocal && this.ctx.cluster ? this.ctx.io.local : this.ctx.io;
    const studentTabs = student ? this.room.tabIds(student) : [];
    if (student && studentTabs.length) io.to(studentTabs).emit('hand', { up: this.raised.has(student.id) });
    const teacherTabs = this.room.teacherTabs();
    if (teacherTabs.length) io.to(teacherTabs).emit('hands', { queue: this.queue() });
  }
}
