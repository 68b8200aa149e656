// The waiting room's workings in one room: a page that waits, the teacher's decisions, the teachers' list, and in
// a cluster the same list on every node (through the event stream), the decision carried out by the page's node.
import { toAvatar } from './contract.ts';
import type { ClusterEvent } from './cluster.ts';
import type { People, Session } from './people.ts';
import type { ChatSocket, RoomContext } from './room-context.ts';
import { Waitlist, type Waiting } from './waitlist.ts';

/** What the waiting room needs of its room (room.ts). */
export interface WaitingRoomRoom {
  readonly id: string;
  readonly people: People;
  say(line: string): void;
  teacherTabs(): string[];
  enter(socket: ChatSocket, session: Session): Promise<boolean | 'name_taken'>;
  welcome(socket: ChatSocket, session: Session, lastId: unknown): void;
}

export class WaitingRoom {
  readonly list = new Waitlist();

  constructor(private readonly room: WaitingRoomRoom, private readonly ctx: RoomContext) {}

  /** A page the room does not know, while it is locked: connected, but in no room, until the teacher decides. */
  connected(socket: ChatSocket) {
    const { token, name, avatar } = socket.data.waiting!;
    const entry = this.list.wait(token, name, avatar, socket.id);
    entry.node = this.ctx.cluster?.nodeId;
    socket.emit('waiting', { token });
    this.share(token, true);
    this.tell();
  }

  /** Its page disconnected: it keeps its place a while, for a reconnect. */
  away(socket: ChatSocket, token: string) {
    this.list.away(token, socket.id);
    this.share(token, false);
    this.tell();
  }

  /** In a cluster: the other nodes learn who waits here (their teachers' lists), and when the page is away. */
  private share(token: string, isHere: boolean) {
    const entry = this.list.get(token);
    if (!this.ctx.cluster || !entry) return;
    const fields = { w: token, name: entry.name, avatar: entry.avatar, ts: String(entry.at), node: this.ctx.cluster.nodeId, on: isHere ? '1' : '0' };
    this.ctx.cluster.publish(this.room.id, 'wait', fields).catch((err: Error) => this.room.say(`could not share a waiting page: ${err.message}`));
  }

  /** The teacher's decision. In a cluster it goes through the event stream, and the node of the page carries it out. */
  decide(entry: Waiting, t: 'admit' | 'refuse') {
    if (!this.ctx.cluster) return t === 'admit' ? this.admit(entry) : this.refuse(entry);
    this.ctx.cluster.publish(this.room.id, t, { w: entry.token }).catch((err: Error) => this.room.say(`could not share a decision: ${err.message}`));
  }

  /** Lets someone in: their page gets its welcome now, or at its next handshake if it is away. */
  private admit(entry: Waiting) {
    const socket = entry.socketId ? this.ctx.io.sockets.sockets.get(entry.socketId) : undefined;
    if (!socket) {
      entry.admitted = true;
      return this.tell(true);
    }
    this.list.remove(entry.token);
    this.tell(true);
    const session = this.room.people.resolve(undefined, entry.name, entry.avatar);
    if (session === 'name_taken') return this.turnAway(socket, 'name_taken'); // someone took the nickname while they waited
    socket.data.waiting = undefined;
    void this.room.enter(socket, session).then((entered) => {
      if (entered === 'name_taken') this.turnAway(socket, 'name_taken');
      else if (entered) this.room.welcome(socket, session, undefined);
    });
  }

  /** Does not let someone in: their page is told and disconnected. */
  private refuse(entry: Waiting) {
    this.list.remove(entry.token);
    const socket = entry.socketId ? this.ctx.io.sockets.sockets.get(entry.socketId) : undefined;
    if (socket) this.turnAway(socket, 'refused');
    this.tell(true);
  }

  private turnAway(socket: ChatSocket, why: 'refused' | 'name_taken') {
    socket.data.waiting = undefined;
    socket.emit('turnedAway', { why });
    socket.disconnect(true);
  }

  /** In a cluster: what another node (or this one) said of a waiting page, in the stream's order. */
  apply(event: Extract<ClusterEvent, { w: string }>) {
    const entry = this.list.get(event.w);
    const isMine = entry?.node === this.ctx.cluster?.nodeId && !!entry?.socketId;
    if (event.t === 'wait') {
      if (entry?.node === this.ctx.cluster?.nodeId && event.node === entry?.node) return; // this node's own news
      const known = this.list.wait(event.w, event.name, toAvatar(event.avatar), null, event.ts);
      Object.assign(known, { node: event.node, isAway: !event.on, goneAt: event.on ? 0 : Date.now() });
    } else if (!entry) {
      return;
    } else if (event.t === 'admit' && (isMine || !entry.isAway)) {
      if (isMine) this.admit(entry);
      else this.list.remove(entry.token); // its node lets it in
    } else if (event.t === 'admit') {
      entry.admitted = true; // away: whichever node it comes back to lets it in
    } else if (event.t === 'refuse' && isMine) {
      this.refuse(entry);
    } else {
      this.list.remove(event.w);
    }
    this.tell(true);
  }

  /** Pages that gave up (this node's): out of every list. */
  sweep(now: number) {
    const givenUp = this.list.givenUp(now, this.ctx.cluster?.nodeId);
    for (const entry of givenUp) {
      this.list.remove(entry.token);
      this.ctx.cluster?.publish(this.room.id, 'unwait', { w: entry.token }).catch(() => {}); // the others' lists: at worst it stays listed
    }
    if (givenUp.length) this.tell();
  }

  /** The waiting list to the teachers' tabs. `isLocal`: in a cluster, this node's tabs only (every node tells its own). */
  tell(isLocal = false) {
    const io = isLocal && this.ctx.cluster ? this.ctx.io.local : this.ctx.io;
    const tabs = this.room.teacherTabs();
    if (tabs.length) io.to(tabs).emit('waitlist', { queue: this.list.queue() });
  }
}
