// One room (one class): its people, conversations, rules and stored files, and the write path that makes an
// ack mean "stored". Everything it says goes to its own Socket.IO room, or to the tabs of named people.
import { join } from 'node:path';
import { nanoid } from 'nanoid';
import type { AckFn, ErrorCode, RoomState } from './contract.ts';
import type { ChatSocket, RoomContext } from './room-context.ts';
import { Hands } from './hands.ts';
import { Polls } from './polls.ts';
import { SeenBy } from './seen.ts';
import { WaitingRoom } from './waiting-room.ts';
import { Conversations, type Entry } from './conversations.ts';
import { People, toUserInfo, type Session } from './people.ts';
import { Presence } from './presence.ts';
import { Uploads } from './pictures.ts';
import { FileUploads } from './file-uploads.ts';
import { RoomMedia } from './room-media.ts';
import { Rules } from './rules.ts';
import { toMediaFile, type AppendAnswer, type MessageLog, type RoomMeta } from './store.ts';
import { rememberCid, restoreRecord, toRecord, toTextMsg, type Extras } from './records.ts';
import { RoomMirror } from './room-mirror.ts';

export { LIMITS, type ChatIO, type ChatSocket, type Limits, type RoomContext } from './room-context.ts';

const COMPACT_MIN_LINES = 5000; // a smaller log is never compacted
const RECENT_MS = 15 * 60_000; // a session with conversations seen this recently is never forgotten
const CATCHUP_OVERLAP_MS = 3000; // in a cluster: see Conversations

export class Room {
  readonly people: People;
  readonly convs: Conversations;
  readonly rules: Rules;
  readonly uploads: Uploads;
  readonly files: FileUploads; // files and voice messages, over HTTP
  readonly hands: Hands;
  readonly waiting: WaitingRoom;
  readonly polls: Polls;
  readonly seen: SeenBy;
  readonly media: RoomMedia; // the files of pictures, voice messages and shared files
  private batch: { entry: Entry; ack?: AckFn }[] = [];
  private readonly presence: Presence;
  /** In a cluster: other nodes' events, applied here. */
  readonly mirror: RoomMirror;
  private compactAt = COMPACT_MIN_LINES;

  private constructor(public meta: RoomMeta, private readonly ctx: RoomContext, private readonly messageLog: MessageLog) {
    this.people = new People(ctx.listLimit, ctx.rate ? ctx.rate.burst : 0, !!ctx.cluster);
    this.convs = new Conversations(ctx.cluster ? CATCHUP_OVERLAP_MS : 0);
    this.rules = new Rules(ctx.rate, ctx.roomRate, meta);
    this.uploads = new Uploads(ctx.uploadBudget, ctx.limits.uploadIdleMs);
    this.media = new RoomMedia(meta.id, ctx, (line) => this.say(line));
    this.files = new FileUploads(join(ctx.partsDir, meta.id), (file, bytes) => this.media.store(file, bytes));
    this.waiting = new WaitingRoom(this, ctx);
    this.hands = new Hands(this, ctx);
    this.polls = new Polls(this, ctx);
    this.seen = new SeenBy({
      id: meta.id, people: this.people, convs: this.convs, pinned: () => this.rules.pinned,
      isKicked: (s) => this.rules.isKicked(s.key, s.id), teacherTabs: () => this.teacherTabs(), say: (line) => this.say(line),
    }, ctx);
    // In a cluster every node tells its own pages, from the same events: the frame does not cross nodes.
    const tell = ctx.cluster ? ctx.io.local : ctx.io;
    this.presence = new Presence(
      (frame) => tell.to(this.id).emit('online', frame), () => this.people.online.size, ctx.listLimit, ctx.crowd, ctx.limits.leaveGraceMs,
      (gone) => this.hands.gone(gone),
    );
    this.mirror = new RoomMirror({
      id: meta.id, nodeId: ctx.cluster?.nodeId ?? '', people: this.people, convs: this.convs, presence: this.presence, messageLog,
      waiting: this.waiting, polls: this.polls, hands: this.hands, seen: this.seen,
    });
  }

  static async open(meta: RoomMeta, ctx: RoomContext): Promise<Room> {
    const room = new Room(meta, ctx, await ctx.store.openLog(meta.id));
    for (const record of room.messageLog.records) restoreRecord(record, meta.id, room.people, room.convs);
    room.messageLog.records.length = 0;
    ctx.disk.load(meta.id, await ctx.store.pictures(meta.id));
    room.polls.load(await ctx.store.polls(meta.id));
    room.seen.load(await ctx.store.reads(meta.id));
    if (ctx.cluster) room.mirror.restore(await ctx.cluster.roster(meta.id));
    room.watchMutes();
    return room;
  }

  get id() { return this.meta.id; }
  /** A line in the terminal, with the time and the room. */
  say(what: string) { this.ctx.log(`[${new Date().toLocaleTimeString()}] ${this.id}: ${what}`); }
  /** Every tab in the room (on every node of a cluster). */
  get everyone() { return this.ctx.io.to(this.id); }

  // ---- presence

  /** Takes a tab's claim on its person (its nickname is held from now on; in a cluster, claimed in Redis before). */
  claim(socket: ChatSocket, session: Session) {
    socket.data = { room: this.id, session: session.id };
    if (this.people.claim(session, socket.id) && !this.ctx.cluster) this.presence.note(session, true);
    if (!session.isTeacher) this.seen.schedulePush(); // one more in the class, perhaps
  }

  /** Lets go of a tab's claim: on disconnect, and for a handshake whose socket never connected. */
  release(socket: ChatSocket) {
    const waiting = socket.data?.waiting;
    if (waiting) return this.waiting.away(socket, waiting.token);
    const session = this.people.get(socket.data?.session);
    if (!session || !session.tabs.includes(socket.id)) return;
    const wasLast = this.people.release(session, socket.id);
    if (wasLast) this.uploads.drop(session.id);
    if (this.ctx.cluster) this.dropClaim(session);
    else if (wasLast) this.presence.note(session, false);
  }

  /** In a cluster: one tab fewer in Redis; the person leaves when it was their last on any node. If Redis is
   * away, this node claims its tabs anew once it is back, so the count heals then. */
  dropClaim(session: Session) {
    this.ctx.cluster!.release(this.id, session.id, session.key).then(
      (at) => { if (at) this.mirror.roster(session.id, false, at); },
      (err: Error) => this.say(`could not let go of a tab of ${session.name} in Redis: ${err.message}`),
    );
  }

  welcome(socket: ChatSocket, session: Session, lastId: unknown) {
    socket.join(this.ctx.cluster ? [this.id, `s:${session.id}`] : this.id);
    const history = this.convs.historyFor(session.id, lastId);
    for (let i = 0; i < history.length; i++) if (history[i].poll) history[i] = this.polls.viewFor(history[i], session, this.people); // in place: no copy per welcome
    socket.emit('welcome', {
      name: session.name, avatar: session.avatar, session: session.id, users: this.people.usersOnline(),
      count: this.people.online.size, history, teacher: session.isTeacher, room: this.stateFor(session),
    });
    this.hands.greet(socket, session);
    if (session.isTeacher) {
      socket.emit('waitlist', { queue: this.waiting.list.queue() });
      this.seen.greet(socket);
    }
  }

  // ---- entering

  /** Claims a tab's nickname (in a cluster, in Redis first): 'name_taken', true, or false if the page left meanwhile. */
  async enter(socket: ChatSocket, session: Session): Promise<boolean | 'name_taken'> {
    const cluster = this.ctx.cluster;
    if (!cluster) {
      this.claim(socket, session);
      return true;
    }
    const claim = await cluster.claim(this.id, session.id, session.key, toUserInfo(session));
    if (claim === 'name_taken') return claim;
    this.claim(socket, session);
    if (claim.at) this.mirror.roster(session.id, true, claim.at);
    if (socket.conn.readyState === 'open') return true;
    this.release(socket); // gone while Redis answered
    return false;
  }

  /** The teachers' tabs (on every node of a cluster). */
  teacherTabs(): string[] {
    return this.tabIds(...[...this.people.online.values()].filter((s) => s.isTeacher));
  }

  /** Socket.IO rooms reaching every tab of these people: their sockets; in a cluster, a room per session, as
   * their tabs may be on any node. */
  tabIds(...people: (Session | undefined)[]): string[] {
    if (this.ctx.cluster) return people.flatMap((p) => (p ? [`s:${p.id}`] : []));
    return people.flatMap((p) => p?.tabs ?? []);
  }

  /** Every tab of these people as one target, or null: `io.to([])` would mean everyone. */
  tabsOf(...people: (Session | undefined)[]) {
    const ids = this.tabIds(...people);
    return ids.length ? this.ctx.io.to(ids) : null;
  }

  sweep(now = Date.now()) {
    this.waiting.sweep(now);
    this.files.sweep(now);
    const gone = this.people.toForget(now, this.ctx.sessionTtlMs, this.ctx.limits.maxSessions, RECENT_MS, (id) => this.convs.hasConversations(id));
    for (const s of gone) this.people.sessions.delete(s.id);
    for (const s of gone) this.convs.forget(s.id, (id) => this.people.sessions.has(id));
    this.ctx.cluster?.forget(this.id, gone.map((s) => s.id));
  }

  /** The room's settings as another node changed them. */
  applyMeta(meta: RoomMeta) {
    this.meta = meta;
    this.rules.load(meta);
    this.seen.schedulePush();
    this.watchMutes();
  }

  // ---- the room's state as the teacher's rules make it

  stateFor(session?: Session): RoomState {
    return this.rules.stateFor(this.id, this.meta.title, session);
  }

  private muteTimer?: NodeJS.Timeout;
  /** A timed mute ends by itself: the room is told then (every node does, from the same rules). */
  watchMutes() {
    clearTimeout(this.muteTimer);
    const end = this.rules.nextEnd();
    if (end === undefined) return;
    this.muteTimer = setTimeout(() => {
      if (this.rules.dropEnded()) this.broadcastState(true);
      this.watchMutes();
    }, Math.max(0, end - Date.now()) + 50).unref();
  }

  /** The rules to every tab, the teacher's and the muted people's own versions to them. `isLocal`: in a cluster,
   * to this node's tabs only (every node tells its own, as for a mute that ends by itself). */
  broadcastState(isLocal = false) {
    this.seen.schedulePush(); // the pin, or who counts, may have changed
    const io = isLocal && this.ctx.cluster ? this.ctx.io.local : this.ctx.io;
    const told = [...this.people.online.values()].filter((s) => s.isTeacher || this.rules.muted.has(s.key));
    io.to(this.id).except(this.tabIds(...told)).emit('room', this.stateFor());
    for (const s of told) {
      const tabs = this.tabIds(s);
      if (tabs.length) io.to(tabs).emit('room', this.stateFor(s));
    }
  }

  /** Keeps the rules for the next start; a failure is said, the rules still hold until then. */
  saveMeta() {
    this.meta = { ...this.meta, ...this.rules.toMeta() };
    this.ctx.store.saveRoom(this.meta).catch((err) => this.ctx.log(`could not save room ${this.id}: ${err.message}`));
  }

  // ---- messages

  /** The checks every message passes (who may speak, to whom, how often): the recipient, or why not. */
  toRecipient(session: Session, to: string | undefined): Session | undefined | ErrorCode {
    const recipient = to === undefined ? undefined : this.people.recipient(to);
    if (to !== undefined && !recipient) return 'not_online'; // nobody of that name here, now or before
    return this.rules.refusal(session, recipient) ?? recipient;
  }

  newEntry(session: Session, recipient: Session | undefined, content: string, cid?: string, extras: Extras = {}): Entry {
    const msg = toTextMsg(nanoid(), toUserInfo(session), Date.now(), content, recipient?.name, extras);
    const entry: Entry = { seq: this.convs.nextSeq(), msg, from: session.id, toS: recipient?.id, cid, committed: false };
    if (extras.mentions?.sessions.length) entry.mentionS = extras.mentions.sessions;
    if (cid) rememberCid(session, cid, entry);
    return entry;
  }

  /** A retried `cid`: the original ack, now or once its write is done. A message another node stored may not have
   * reached anyone if that node died right after: it is sent once more (pages drop what they have). */
  answerRetry(entry: Entry, ack?: AckFn) {
    if (entry.node && !entry.redelivered) {
      entry.redelivered = true;
      this.emitMessage(entry);
    }
    if (!ack) return;
    if (entry.committed) return ack({ ok: true, id: entry.msg.id, ts: entry.msg.ts });
    (entry.waiters ??= []).push(ack);
  }

  commitLater(entry: Entry, ack?: AckFn) {
    if (this.batch.push({ entry, ack }) === 1) process.nextTick(() => this.commitBatch());
  }

  /** One small write per batch, then delivery: an ack means the message is stored, and nobody sees a
   * message that could be lost. (As soon as bare Socket.IO would: the next turn of the loop measured worse.) */
  commitBatch() {
    const current = this.batch;
    this.batch = [];
    if (!current.length) return;
    const fail = (err: Error) => {
      this.ctx.log(`could not write the message log of room ${this.id}: ${err.message}`);
      current.forEach(({ entry, ack }) => this.fail(entry, ack));
    };
    const done = (answers?: void | AppendAnswer[]) => {
      current.forEach(({ entry, ack }, i) => {
        const answer = answers?.[i];
        if (answer?.stored) [entry.msg.id, entry.msg.ts] = [answer.stored.id, answer.stored.ts]; // a retry another node stored: sent again
        else if (answer) entry.at = answer.at;
        this.deliver(entry, ack);
      });
      if (this.messageLog.lineCount > this.compactAt) this.compact();
    };
    let written: ReturnType<MessageLog['append']>;
    try {
      written = this.messageLog.append(current.map(({ entry }) => toRecord(entry)));
    } catch (err) {
      return fail(err as Error);
    }
    if (written) written.then(done, fail);
    else done();
  }

  private deliver(entry: Entry, ack?: AckFn) {
    entry.committed = true;
    if (!this.convs.has(entry.msg.id)) this.convs.remember(entry); // in a cluster the stream may have told it first
    if (entry.msg.teacher) this.seen.schedulePush();
    const file = toMediaFile(entry.msg);
    if (file) this.uploads.pending.delete(file);
    this.emitMessage(entry);
    const answer = { ok: true as const, id: entry.msg.id, ts: entry.msg.ts };
    [ack, ...(entry.waiters ?? [])].forEach((answerTo) => answerTo?.(answer));
    entry.waiters = undefined;
  }

  private emitMessage(entry: Entry) {
    if (entry.toS) this.tabsOf(this.people.get(entry.from), this.people.get(entry.toS))?.emit('textmsg', entry.msg);
    else this.everyone.emit('textmsg', entry.msg);
  }

  /** A message that could not be stored is refused, so the page can offer to retry it. */
  fail(entry: Entry, ack?: AckFn) {
    if (entry.cid) this.people.get(entry.from)?.cids?.delete(entry.cid);
    const file = toMediaFile(entry.msg);
    if (file) this.uploads.pending.delete(file);
    [ack, ...(entry.waiters ?? [])].forEach((answerTo) => answerTo?.({ ok: false, error: 'server_error' }));
  }

  /** Rewrites the log to what is kept, once it has grown to twice that (so its cost is spread over as many
   * appends as it rewrites), then deletes the pictures nothing points to. */
  compact() {
    const kept = this.convs.all();
    this.compactAt = Math.max(COMPACT_MIN_LINES, 2 * kept.length);
    try {
      const done = this.messageLog.rewrite(kept.map(toRecord));
      if (done) done.then((isDone) => { if (isDone !== false) void this.pruneMedia(); }, (err) => this.compactFailed(err));
      else void this.pruneMedia();
    } catch (err) {
      this.compactFailed(err as Error);
    }
  }

  private compactFailed(err: Error) {
    this.ctx.log(`could not compact the message log of room ${this.id} (it keeps growing until this works): ${err.message}`);
  }

  /** Takes a message out of the stored log, whichever node wrote it (take-back.ts says who may). */
  unlog(id: string) {
    if (this.messageLog.remove) {
      this.messageLog.remove(id).catch((err: Error) => this.say(`could not take a recalled message out of the stored log: ${err.message}`));
    } else {
      this.compact(); // the file keeps no line of it
    }
  }

  /** Takes the group's messages out of the stored log, whoever wrote them and whenever. */
  unlogGroup() {
    if (this.messageLog.clearGroup) { // in a cluster: the stored group goes in Redis, whoever wrote it
      this.messageLog.clearGroup().catch((err: Error) => this.say(`could not clear the stored group history: ${err.message}`));
    } else {
      this.compact();
    }
  }

  /** Deletes the files no kept message points to, and none that a message on its way points to. */
  private pruneMedia() {
    return this.media.prune(() => {
      const kept = new Set(this.convs.all().map((e) => toMediaFile(e.msg)));
      return (file) => kept.has(file) || this.uploads.pending.has(file) || this.files.isWaiting(file);
    });
  }

  /** Tells the pages, writes what was accepted, closes the log. */
  async close() {
    clearTimeout(this.muteTimer);
    this.polls.close();
    this.seen.close();
    this.presence.close();
    this.ctx.crowd.online -= this.people.online.size; // nobody here is online any more (a deleted room)
    this.uploads.dropAll();
    this.files.close();
    this.commitBatch();
    await this.messageLog.close();
  }
}
