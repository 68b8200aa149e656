// The school: every room of the server, the keys, and the room management the admin key allows.
// The server key (admin) is teacher in every room; a room's own teacher key in that room only.
import { createHash, timingSafeEqual } from 'node:crypto';
import { nanoid } from 'nanoid';
import { DEFAULT_ROOM, toAvatar, toRoomId, toTitle, type Refusal } from './contract.ts';
import type { Claim, ClusterEvent, ClusterSchool } from './cluster.ts';
import { toName, toNameKey } from './names.ts';
import { toUserInfo } from './people.ts';
import { Room, type ChatSocket, type RoomContext } from './room.ts';
import type { RoomMeta } from './store.ts';

export const MAX_ROOMS = 200;
export const MIN_KEY_LENGTH = 16;
const DEFAULT_TITLE = 'Class chat';
const KEY_FAILURES = { burst: 20, perSecond: 1 / 15 }; // wrong keys per address: 20 at once, then one every 15 s
const MAX_TRACKED = 10_000; // addresses remembered for failed keys

/** Compares secrets in constant time, whatever their lengths. */
export function isSameSecret(given: unknown, secret: string): boolean {
  if (typeof given !== 'string') return false;
  const digest = (v: string) => createHash('sha256').update(v).digest();
  return timingSafeEqual(digest(given), digest(secret));
}

export type KeyRole = { admin: true } | { admin: false; room: string };
export type RoomInput = { title?: unknown; id?: unknown };

export class School {
  readonly rooms = new Map<string, Room>();
  private readonly opening = new Map<string, Promise<Room>>(); // rooms being read, so a room is opened once
  private readonly failures = new Map<string, { tokens: number; at: number }>(); // address -> failed-key bucket

  private constructor(readonly adminKey: string, private readonly ctx: RoomContext) {}

  static async open(ctx: RoomContext, givenKey: string | undefined): Promise<School> {
    if (givenKey && givenKey.length < MIN_KEY_LENGTH) {
      throw new Error(`TEACHER_KEY must be at least ${MIN_KEY_LENGTH} characters long (a short key is guessed in seconds).`);
    }
    const school = new School(await ctx.store.serverKey(givenKey, nanoid), ctx);
    await ctx.cluster?.mark(); // what other nodes do from now on is applied on top of what is read now
    for (const meta of await ctx.store.rooms()) await school.open(meta);
    if (!school.rooms.has(DEFAULT_ROOM)) await school.create({ id: DEFAULT_ROOM, title: DEFAULT_TITLE });
    await ctx.cluster?.start(school.asCluster());
    return school;
  }

  private open(meta: RoomMeta): Promise<Room> {
    const room = this.rooms.get(meta.id);
    if (room) return Promise.resolve(room);
    let opened = this.opening.get(meta.id);
    if (!opened) {
      opened = Room.open(meta, this.ctx).then((room) => { this.rooms.set(meta.id, room); return room; });
      this.opening.set(meta.id, opened);
      opened.finally(() => this.opening.delete(meta.id)).catch(() => {});
    }
    return opened;
  }

  get(id: unknown): Room | undefined {
    return this.rooms.get(id === undefined ? DEFAULT_ROOM : String(id));
  }

  /** What a key may do: everything (admin), one room, or nothing. */
  roleOf(key: unknown): KeyRole | null {
    if (isSameSecret(key, this.adminKey)) return { admin: true };
    for (const room of this.rooms.values()) if (isSameSecret(key, room.meta.teacherKey)) return { admin: false, room: room.id };
    return null;
  }

  isTeacherOf(room: Room, key: unknown): boolean {
    return isSameSecret(key, this.adminKey) || isSameSecret(key, room.meta.teacherKey);
  }

  /** Checks a handshake and claims its nickname in its room, or says why not (in a cluster, once Redis answered). */
  admit(socket: ChatSocket, auth: Record<string, unknown>, address: string, synced = false): Room | Refusal | Promise<Room | Refusal> {
    const room = auth.room === undefined ? this.get(undefined) : this.rooms.get(toRoomId(auth.room) ?? '');
    if (!room) {
      // In a cluster, a room made on another node a moment ago is known here once its event is applied.
      const cluster = this.ctx.cluster;
      if (cluster && !synced) return cluster.sync().then(() => this.admit(socket, auth, address, true), () => 'server_error' as const);
      return 'no_room';
    }
    const name = toName(auth.name);
    if (!name) return 'invalid_name';
    const hasKey = auth.teacherKey !== undefined && auth.teacherKey !== '';
    if (hasKey && this.isBlocked(address)) return 'rate_limited';
    if (hasKey && !this.isTeacherOf(room, auth.teacherKey)) {
      this.failedKey(address);
      return 'bad_key';
    }
    if (this.ctx.cluster) return this.admitShared(socket, auth, room, name, hasKey);
    if (!hasKey && room.rules.isKicked(toNameKey(name), auth.session)) return 'kicked';
    if (socket.conn.readyState !== 'open') return 'server_error'; // gone already: claim nothing
    if (!hasKey && room.rules.locked && this.waits(socket, auth, room, name)) return room;
    const session = room.people.resolve(auth.session, name, toAvatar(auth.avatar));
    if (session === 'name_taken') return session;
    if (hasKey) session.isTeacher = true;
    room.claim(socket, session);
    return room;
  }

  /** In a locked room, someone it does not know waits for the teacher (unless the teacher let them in while
   * their page was away): true if this handshake waits. */
  private waits(socket: ChatSocket, auth: Record<string, unknown>, room: Room, name: string): boolean {
    if (room.people.knows(auth.session, name)) return false;
    const entry = room.waiting.list.get(auth.waitToken);
    if (entry?.admitted) {
      room.waiting.list.remove(entry.token);
      return false;
    }
    const token = entry?.token ?? nanoid();
    socket.data = { room: room.id, session: '', waiting: { token, name, avatar: toAvatar(auth.avatar) } };
    return true;
  }

  /** admit() in a cluster: first everything any node did so far, then the nickname claimed in Redis. */
  private async admitShared(socket: ChatSocket, auth: Record<string, unknown>, room: Room, name: string, hasKey: boolean): Promise<Room | Refusal> {
    const cluster = this.ctx.cluster!;
    try {
      await cluster.sync();
      if (this.rooms.get(room.id) !== room) return 'no_room'; // deleted meanwhile
      if (!hasKey && room.rules.isKicked(toNameKey(name), auth.session)) return 'kicked';
      if (!hasKey && room.rules.locked && this.waits(socket, auth, room, name)) return room;
      const session = room.people.resolve(auth.session, name, toAvatar(auth.avatar));
      if (session === 'name_taken') return session;
      if (hasKey) session.isTeacher = true;
      const entered = await room.enter(socket, session);
      if (entered === 'name_taken') return entered;
      return entered ? room : 'server_error'; // false: gone while Redis answered
    } catch (err) {
      this.ctx.log(`could not admit ${name} to room ${room.id}: ${(err as Error).message}`);
      return 'server_error';
    }
  }

  /** What the cluster needs of this school: its rooms, its people here, and how to apply what others did. */
  private asCluster(): ClusterSchool {
    return {
      apply: (event) => this.apply(event),
      roomIds: () => [...this.rooms.keys()],
      localPeople: () => [...this.rooms.values()].flatMap((room) => [...room.people.sessions.values()]
        .filter((s) => s.tabs.length)
        .map((s) => ({ room: room.id, session: s.id, key: s.key, who: toUserInfo(s), tabs: s.tabs.length }))),
      reclaimed: (roomId, id, claim) => this.reclaimed(roomId, id, claim),
    };
  }

  private apply(event: ClusterEvent): void | Promise<void> {
    const room = this.rooms.get(event.room);
    if (event.t === 'meta') {
      if (event.node === this.ctx.cluster?.nodeId) return; // this node's own change: applied when made (a later one may be too)
      if (room) return room.applyMeta(event.meta);
      if (!this.opening.has(event.room)) return this.open(event.meta).then(() => this.ctx.log(`room ${event.room} created on another node`));
    } else if (event.t === 'deleted') {
      if (room) return this.forget(room);
    } else {
      room?.mirror.apply(event);
    }
  }

  /** Redis came back and this node claimed its people again: someone else may hold a nickname by now. */
  private reclaimed(roomId: string, id: string, claim: Claim) {
    const room = this.rooms.get(roomId);
    const session = room?.people.get(id);
    if (!room || !session) return;
    if (claim === 'name_taken') {
      room.say(`${session.name} lost their nickname while Redis was away: their tabs here are closed`);
      for (const tab of session.tabs) this.ctx.io.sockets.sockets.get(tab)?.disconnect(true);
    } else if (claim.at) {
      room.mirror.roster(id, true, claim.at);
    }
  }

  /** A new room, or why not (a sentence for the admin). */
  async create(input: RoomInput): Promise<Room | { status: 400 | 409; error: string }> {
    const title = toTitle(input.title);
    if (!title) return { status: 400, error: '"title" must be a text of 1 to 60 characters.' };
    const id = input.id === undefined ? this.freeId(title) : toRoomId(input.id);
    if (!id) return { status: 400, error: '"id" must be 1 to 32 characters: a-z, 0-9 and -, starting with a letter or digit.' };
    if (this.rooms.has(id)) return { status: 409, error: `A room "${id}" exists already.` };
    if (this.rooms.size >= MAX_ROOMS) return { status: 409, error: `This server holds at most ${MAX_ROOMS} rooms.` };
    const meta: RoomMeta = {
      id, title, teacherKey: nanoid(), createdAt: Date.now(), quiet: false, pinned: null, muted: {}, kicked: {}, kickedSessions: [], mutedUntil: {}, slow: 0, locked: false,
    };
    return this.open(await this.ctx.store.createRoom(meta)); // in a cluster, another node may have made it first
  }

  /** Tells everyone in the room, disconnects them, and deletes the room with its history and pictures. */
  async remove(id: string): Promise<void> {
    const room = this.rooms.get(id);
    if (!room) return;
    this.ctx.io.in(id).emit('closed');
    this.ctx.io.in(id).disconnectSockets(true);
    await this.forget(room);
    await this.ctx.store.deleteRoom(id);
  }

  /** A room deleted here or on another node: gone from this node. */
  private async forget(room: Room) {
    this.rooms.delete(room.id);
    await room.close();
    this.ctx.disk.forgetRoom(room.id);
  }

  /** A readable id made from the title (`7B Maths` → `7b-maths`), made unique. */
  private freeId(title: string): string {
    const base = title.normalize('NFKD').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 24) || 'room';
    let id = base;
    for (let n = 2; this.rooms.has(id); n++) id = `${base}-${n}`;
    return id;
  }

  // ---- failed keys: guessing a key online is slowed to a crawl, per address (handshake and HTTP alike)

  isBlocked(address: string, now = Date.now()): boolean {
    const bucket = this.failures.get(address);
    if (!bucket) return false;
    bucket.tokens = Math.min(KEY_FAILURES.burst, bucket.tokens + ((now - bucket.at) / 1000) * KEY_FAILURES.perSecond);
    bucket.at = now;
    if (bucket.tokens >= KEY_FAILURES.burst) this.failures.delete(address);
    return bucket.tokens < 1;
  }

  failedKey(address: string, now = Date.now()) {
    if (!this.failures.has(address) && this.failures.size >= MAX_TRACKED) this.failures.delete(this.failures.keys().next().value!);
    const bucket = this.failures.get(address) ?? { tokens: KEY_FAILURES.burst, at: now };
    this.failures.set(address, bucket);
    bucket.tokens = Math.max(0, bucket.tokens - 1);
  }

  sweep(now = Date.now()) {
    for (const room of this.rooms.values()) room.sweep(now);
  }

  async close() {
    for (const room of this.rooms.values()) await room.close();
    await this.ctx.cluster?.close();
    await this.ctx.store.close();
  }
}
