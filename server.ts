// Classroom chat: one Express + Socket.IO server, a group room and private one-to-one chats.
import express from 'express';
import { createServer, ServerResponse, type IncomingMessage } from 'node:http';
import { networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import fs from 'node:fs';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Server, type Socket } from 'socket.io';
import { nanoid } from 'nanoid';
import { renderSVG, renderUnicodeCompact } from 'uqr';

// --- constants

const MAX_NAME = 24; // code points
const MAX_CONTENT = 2000; // code points, after trimming
const HISTORY_REPLAY = 200; // group messages in a fresh welcome
const GROUP_KEEP = 1000; // group messages kept for catch-up after a drop
const PRIVATE_KEEP = 200; // messages kept per private conversation
const FILE_MAX_LINES = 5000; // the log is compacted past this
const CID_KEEP = 100; // client message ids remembered per person (retry dedupe)
const MAX_SESSIONS = 5000; // sessions kept, online or not
const SESSION_TTL_MS = 24 * 3600_000; // an offline session is forgotten after this
const SWEEP_MS = 60_000;
const ONLINE_COALESCE_MS = 100; // many joins at once cost one `online` broadcast; longer in big rooms (below)
const TYPING_MIN_GAP_MS = 1000; // relayed at most this often per person
const PRESENCE_LIMIT = 100; // above this many people, no per-person join/leave and a capped list
const IMAGE_CHUNK = 32 * 1024; // pictures travel in chunks so the page can show progress
const MAX_IMAGE = 512 * 1024; // the page sends at most ~300 KB; room for a small PNG as is
const MAX_UPLOADING = 16 * 1024 * 1024; // all unfinished uploads together
const MAX_FRAME = IMAGE_CHUNK + 8 * 1024; // one chunk, or 2000 JSON-escaped characters; larger drops the sender
const IMAGE_TYPES = { jpg: [0xff, 0xd8, 0xff], png: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], gif: [0x47, 0x49, 0x46, 0x38] } as const;
const MAX_PUSH_BODY = '16kb';
const MAX_PUSH_TO = 500;
const DEFAULT_RATE = { burst: 10, perSecond: 1 }; // 10 at once, then one a second
const AVATARS = ['cat', 'dog', 'fox', 'panda', 'owl', 'frog', 'rabbit', 'bear', 'penguin', 'tiger'] as const;
const DEFAULT_AVATAR = AVATARS[0];
const SESSION_RE = /^[\w-]{21}$/; // nanoid()
const CID_RE = /^[\w-]{1,64}$/;
// Control, format (bidi, zero-width), private-use, unassigned, line/paragraph separators, and the
// blank-looking letters that make a name invisible.
const BAD_NAME_RE = /[\p{C}\p{Zl}\p{Zp}\u115F\u1160\u3164\uFFA0\u2800\u180E]/u;
const EMPTY_HANDSHAKE = Object.freeze({ headers: {}, time: '', address: '', xdomain: false, secure: false, issued: 0, url: '', query: {}, auth: {} });
const PUBLIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'public');

const SENTENCES = {
  invalid_name: {
    en: 'Please choose a nickname of 1 to 24 visible characters.',
    zh: '请输入 1 到 24 个可见字符的昵称。',
  },
  name_taken: {
    en: 'This nickname is already used by someone online. Please choose another one.',
    zh: '这个昵称已经有在线的人在用了，请换一个。',
  },
  kicked: {
    en: 'The teacher has removed you from the chat.',
    zh: '老师已将你移出聊天室。',
  },
} as const;

// --- types (the wire contract)

export type Avatar = (typeof AVATARS)[number];
export interface TextMsg { id: string; name: string; avatar: string; content: string; ts: number; to?: string; teacher?: true; image?: string }
export interface UserInfo { name: string; avatar: string; teacher?: true }
export type Ack = { ok: true; id: string; ts: number } | { ok: false; error: ErrorCode };
export type ErrorCode =
  | 'invalid_message' | 'empty' | 'too_long' | 'not_online' | 'rate_limited' | 'muted' | 'bad_image' | 'too_large' | 'server_error';
export interface Welcome {
  name: string; avatar: string; session: string; users: UserInfo[]; count: number; history: TextMsg[]; teacher: boolean; room: RoomState;
}
export interface RoomState { quiet: boolean; muted: string[]; kicked: string[]; pinned: { content: string; ts: number } | null }
export type TeacherAction = 'mute' | 'unmute' | 'quiet' | 'unquiet' | 'kick' | 'allow' | 'clear' | 'pin' | 'unpin';
export type TeacherAck = { ok: true } | { ok: false; error: 'not_teacher' | 'invalid_message' | 'not_online' | 'not_found' | 'not_allowed' | 'empty' | 'too_long' };
export type ImageAck = Ack | { ok: true; received: number };
export interface ImageChunk { cid: string; to?: string; total: number; offset: number; data: ArrayBuffer | Uint8Array }

export interface ServerToClientEvents {
  welcome: (w: Welcome) => void;
  online: (o: { count: number }) => void;
  join: (j: UserInfo & { ts: number }) => void;
  leave: (l: { name: string; ts: number }) => void;
  textmsg: (m: TextMsg) => void;
  typing: (t: { name: string; to?: string }) => void;
  restarting: () => void;
  room: (r: RoomState) => void;
  kicked: () => void;
  cleared: (c: { ts: number }) => void;
  announce: (a: { id: string; content: string; ts: number }) => void;
}
export interface ClientToServerEvents {
  textmsg: (m: { content: string; to?: string; cid?: string }, ack?: (a: Ack) => void) => void;
  typing: (t: { to?: string }) => void;
  image: (chunk: ImageChunk, ack?: (a: ImageAck) => void) => void;
  teacher: (t: { action: TeacherAction; name?: string; content?: string }, ack?: (a: TeacherAck) => void) => void;
}
export interface InterServerEvents {}
export interface SocketData { session: string }

type ChatSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
type AckFn = (a: Ack) => void;
type Upload = { cid: string; to?: string; total: number; chunks: Buffer[]; received: number };

interface Session {
  id: string;
  name: string;
  key: string; // the name compared case-insensitively
  avatar: Avatar;
  tabs: string[]; // ids of this person's sockets
  lastSeen: number;
  tokens: number; // flood control bucket
  refilledAt: number;
  typingAt: number;
  cids?: Map<string, Entry>; // made on first use: most connections never need them
  convs?: Set<string>; // private conversation keys
  isTeacher: boolean;
  upload?: Upload; // the picture being received
}

interface Entry {
  seq: number;
  msg: TextMsg;
  from: string; // sender session
  toS?: string; // recipient session (private)
  cid?: string;
  committed: boolean;
  waiters?: AckFn[]; // retries that arrived before the first write finished
}

export interface ChatOptions {
  dataDir?: string;
  rateLimit?: { burst: number; perSecond: number } | false;
  presenceLimit?: number;
  allowedOrigins?: string[];
  sessionTtlMs?: number;
  teacherKey?: string;
  log?: (line: string) => void;
}

// --- input checks (pure)

export function toName(raw: unknown): string | null {
  if (typeof raw !== 'string' || raw.length > MAX_NAME * 8) return null;
  const name = raw.normalize('NFC').trim().replace(/\s+/gu, ' ');
  const length = [...name].length;
  if (length < 1 || length > MAX_NAME || BAD_NAME_RE.test(name)) return null;
  return name;
}

export const toNameKey = (name: string) => name.normalize('NFKC').toLowerCase();

export const toAvatar = (raw: unknown): Avatar =>
  (AVATARS as readonly unknown[]).includes(raw) ? (raw as Avatar) : DEFAULT_AVATAR;

function countCodePoints(text: string, stopAt: number): number {
  let n = 0;
  for (const _ of text) if (++n > stopAt) break;
  return n;
}

type ContentError = 'invalid_message' | 'empty' | 'too_long';
const isContentError = (c: string): c is ContentError => c === 'invalid_message' || c === 'empty' || c === 'too_long';

/** The trimmed content, or the error code for it. */
export function toContent(raw: unknown): string | ContentError {
  if (typeof raw !== 'string') return 'invalid_message';
  const content = raw.trim();
  if (!content) return 'empty';
  return countCodePoints(content, MAX_CONTENT) > MAX_CONTENT ? 'too_long' : content;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);

/** Splits Socket.IO arguments into one payload object and an optional trailing ack. */
function toPayloadAndAck(args: unknown[]): [Record<string, unknown> | null, AckFn | undefined] {
  const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as AckFn) : undefined;
  return [args.length === 1 && isPlainObject(args[0]) ? args[0] : null, ack];
}

/** The file extension for these bytes if they are a JPEG, PNG, GIF or WebP picture, judged by magic bytes only. */
export function toImageType(bytes: Buffer): 'jpg' | 'png' | 'gif' | 'webp' | null {
  for (const [ext, magic] of Object.entries(IMAGE_TYPES)) {
    if (magic.every((b, i) => bytes[i] === b)) return ext as 'jpg' | 'png' | 'gif';
  }
  const isWebp = bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP';
  return isWebp ? 'webp' : null;
}

/** Compares secrets in constant time, whatever their lengths. */
function isSameSecret(given: unknown, secret: string): boolean {
  if (typeof given !== 'string') return false;
  const digest = (v: string) => createHash('sha256').update(v).digest();
  return timingSafeEqual(digest(given), digest(secret));
}

/** The page says its language in `auth.lang` (the HTTP request is dropped before the handshake runs). */
const toLanguage = (auth: Record<string, unknown>): 'en' | 'zh' => (String(auth.lang ?? '').toLowerCase().startsWith('zh') ? 'zh' : 'en');

// --- the message log: one JSON line per message under DATA_DIR, appended in batches

interface LogRecord extends TextMsg { from: string; toS?: string; cid?: string }
const IMAGE_URL_RE = /^\/images\/[\w-]{21}\.(jpg|png|gif|webp)$/;

function toLogRecord(value: unknown): LogRecord | null {
  if (!isPlainObject(value)) return null;
  const { id, name, content, ts, to, from, toS, image } = value;
  const isText = (v: unknown) => typeof v === 'string' && v.length > 0;
  if (!isText(id) || !isText(name) || typeof content !== 'string' || !isText(from) || typeof ts !== 'number') return null;
  if (to !== undefined && (!isText(to) || !isText(toS))) return null;
  if (image !== undefined ? !IMAGE_URL_RE.test(String(image)) : !content) return null;
  return value as unknown as LogRecord;
}

function createMessageLog(file: string, warn: (line: string) => void) {
  fs.mkdirSync(dirname(file), { recursive: true });
  const records: LogRecord[] = [];
  if (fs.existsSync(file)) {
    const text = fs.readFileSync(file, 'utf8');
    if (text && !text.endsWith('\n')) fs.appendFileSync(file, '\n'); // the next write must not join a torn line
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      let record: LogRecord | null = null;
      try { record = toLogRecord(JSON.parse(line)); } catch {}
      if (record) records.push(record);
      else warn(`skipping unreadable line ${i + 1} of ${file}${i === lines.length - 1 ? ' (torn last write)' : ''}`);
    });
  }
  let fd = fs.openSync(file, 'a');
  let lineCount = records.length;

  return {
    records,
    get lineCount() { return lineCount; },
    append(lines: string[]) {
      if (fd < 0) throw new Error('the message log is closed');
      const bytes = Buffer.from(lines.join('\n') + '\n');
      for (let written = 0; written < bytes.length;) written += fs.writeSync(fd, bytes, written);
      lineCount += lines.length;
    },
    /** Replaces the file with these lines: written aside, synced, then renamed over. */
    rewrite(lines: string[]) {
      const tmp = `${file}.tmp`;
      fs.writeFileSync(tmp, lines.length ? lines.join('\n') + '\n' : '');
      const tmpFd = fs.openSync(tmp, 'r+');
      fs.fsyncSync(tmpFd);
      fs.closeSync(tmpFd);
      fs.renameSync(tmp, file);
      fs.closeSync(fd);
      fd = fs.openSync(file, 'a');
      lineCount = lines.length;
    },
    close() {
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      fd = -1; // a late write must fail, not land in whatever file reuses the number
    },
  };
}

// --- the server

export function createChatServer(options: ChatOptions = {}) {
  const dataDir = options.dataDir ?? './data';
  const rate = options.rateLimit === undefined ? DEFAULT_RATE : options.rateLimit;
  const presenceLimit = options.presenceLimit ?? PRESENCE_LIMIT;
  const sessionTtl = options.sessionTtlMs ?? SESSION_TTL_MS;
  const allowedOrigins = new Set(options.allowedOrigins ?? []);
  const log = options.log ?? ((line: string) => console.log(line));
  const teacherKey = options.teacherKey || nanoid();
  const imagesDir = join(dataDir, 'images');
  fs.mkdirSync(imagesDir, { recursive: true });

  const sessions = new Map<string, Session>();
  const online = new Map<string, Session>(); // name key -> session with at least one socket
  const group: Entry[] = [];
  const privates = new Map<string, Entry[]>(); // conversation key -> messages
  let seq = 0;

  // ---- sessions and presence

  function newSession(id: string, name: string, avatar: Avatar): Session {
    const session: Session = {
      id, name, key: toNameKey(name), avatar, tabs: [], lastSeen: Date.now(),
      tokens: rate ? rate.burst : 0, refilledAt: Date.now(), typingAt: 0,
      isTeacher: false,
    };
    sessions.set(id, session);
    return session;
  }

  /** The session this handshake speaks for: the one it names if that holds this nickname, else a new one. */
  function resolveSession(token: unknown, name: string, avatar: Avatar): Session | 'name_taken' {
    const key = toNameKey(name);
    const known = typeof token === 'string' && SESSION_RE.test(token) ? sessions.get(token) : undefined;
    const holder = online.get(key);
    if (known && known.key === key) {
      if (!known.tabs.length) [known.name, known.avatar] = [name, avatar]; // while online, the first tab's spelling stays
      return known;
    }
    if (holder) return 'name_taken';
    return newSession(nanoid(), name, avatar);
  }

  function claim(socket: ChatSocket, session: Session) {
    socket.data = { session: session.id };
    session.tabs = session.tabs.concat(socket.id); // exact size: a push would reserve 17 slots per person
    session.lastSeen = Date.now();
    if (session.tabs.length > 1) return;
    online.set(session.key, session);
    if (online.size <= presenceLimit) {
      usersCache = null;
      io.emit('join', { ...toUserInfo(session), ts: Date.now() }); // the newcomer is not connected yet: the others
    }
    scheduleOnlineCount();
  }

  function release(socket: ChatSocket) {
    const session = sessions.get(socket.data.session);
    if (!session?.tabs.includes(socket.id)) return;
    session.tabs = session.tabs.filter((id) => id !== socket.id);
    session.lastSeen = Date.now();
    if (session.tabs.length) return;
    dropUpload(session);
    online.delete(session.key);
    usersCache = null;
    if (online.size < presenceLimit) io.emit('leave', { name: session.name, ts: Date.now() });
    scheduleOnlineCount();
  }

  let onlineTimer: NodeJS.Timeout | null = null;
  let lastCount = 0;
  /** The count goes to everyone, so its window grows with the room: at most ~1000 frames a second for counts. */
  function scheduleOnlineCount() {
    onlineTimer ??= setTimeout(() => {
      onlineTimer = null;
      if (online.size !== lastCount) io.emit('online', { count: (lastCount = online.size) });
    }, ONLINE_COALESCE_MS * Math.max(1, online.size / 100));
  }

  const toUserInfo = (s: Session): UserInfo =>
    s.isTeacher ? { name: s.name, avatar: s.avatar, teacher: true } : { name: s.name, avatar: s.avatar };

  let usersCache: UserInfo[] | null = null; // the first `presenceLimit` people; most joins in a big room leave it as is

  function usersOnline(): UserInfo[] {
    if (usersCache) return usersCache;
    usersCache = [];
    for (const s of online.values()) {
      if (usersCache.length >= presenceLimit) break;
      usersCache.push(toUserInfo(s));
    }
    return usersCache;
  }

  /** Forgets sessions offline for longer than the TTL, oldest first past the cap. */
  function sweepSessions(now = Date.now()) {
    const excess = sessions.size - MAX_SESSIONS;
    let dropped = 0;
    for (const s of sessions.values()) { // Map order is creation order: oldest first
      if (s.tabs.length) continue;
      if (now - s.lastSeen > sessionTtl || dropped < excess) {
        forgetSession(s);
        dropped++;
      }
    }
  }

  function forgetSession(s: Session) {
    sessions.delete(s.id);
    muted.delete(s);
    for (const conv of s.convs ?? []) {
      privates.delete(conv);
      for (const other of conv.split(' ')) sessions.get(other)?.convs?.delete(conv);
    }
  }

  // ---- history

  /** Every tab of these people as one target, or null: `io.to([])` would mean everyone. */
  function tabsOf(...people: (Session | undefined)[]) {
    const ids = people.flatMap((p) => p?.tabs ?? []);
    return ids.length ? io.to(ids) : null;
  }
  const convKey = (a: string, b: string) => (a < b ? `${a} ${b}` : `${b} ${a}`);

  function remember(entry: Entry) {
    if (!entry.toS) {
      group.push(entry);
      if (group.length > GROUP_KEEP * 1.25) group.splice(0, group.length - GROUP_KEEP);
      return;
    }
    const key = convKey(entry.from, entry.toS);
    const conv = privates.get(key) ?? [];
    if (!conv.length) privates.set(key, conv);
    conv.push(entry);
    if (conv.length > PRIVATE_KEEP) conv.shift();
    for (const id of [entry.from, entry.toS]) {
      const s = sessions.get(id);
      if (s) (s.convs ??= new Set()).add(key);
    }
  }

  /** What a (re)connecting person gets: everything after `lastId` if we still have it, else the recent past. */
  function historyFor(session: Session, lastId: unknown): TextMsg[] {
    const convs = [...(session.convs ?? [])].map((k) => privates.get(k) ?? []);
    const after = typeof lastId === 'string' ? findSeq(lastId, [group, ...convs]) : -1;
    const pick = (entries: Entry[]) => (after >= 0 ? entries.filter((e) => e.seq > after) : entries);
    const recentGroup = after >= 0 ? group : group.slice(-HISTORY_REPLAY);
    return [pick(recentGroup), ...convs.map(pick)].flat().sort((a, b) => a.seq - b.seq).map((e) => e.msg);
  }

  function findSeq(id: string, lists: Entry[][]): number {
    for (const list of lists) {
      for (let i = list.length - 1; i >= 0; i--) if (list[i].msg.id === id) return list[i].seq;
    }
    return -1;
  }

  /** A message with only the fields it has: no `to: undefined` on the wire. */
  function toTextMsg(id: string, who: UserInfo, ts: number, content: string, to?: string, image?: string): TextMsg {
    const msg: TextMsg = { id, name: who.name, avatar: who.avatar, content, ts };
    if (to !== undefined) msg.to = to;
    if (who.teacher) msg.teacher = true;
    if (image !== undefined) msg.image = image;
    return msg;
  }

  function toRecord(entry: Entry): string {
    return JSON.stringify({ ...entry.msg, from: entry.from, toS: entry.toS, cid: entry.cid });
  }

  function restore(records: LogRecord[]) {
    for (const r of records) {
      const avatar = toAvatar(r.avatar);
      const msg = toTextMsg(r.id, { name: r.name, avatar, teacher: r.teacher }, r.ts, r.content, r.to, r.image);
      const entry: Entry = { seq: ++seq, msg, from: r.from, toS: r.toS, cid: r.cid, committed: true };
      const sender = restoreSession(r.from, r.name, avatar, r.ts);
      if (r.toS && r.to) restoreSession(r.toS, r.to, undefined, r.ts);
      if (r.cid) rememberCid(sender, r.cid, entry);
      remember(entry);
    }
  }

  function restoreSession(id: string, name: string, avatar: Avatar | undefined, ts: number): Session {
    const s = sessions.get(id) ?? newSession(id, name, avatar ?? DEFAULT_AVATAR);
    if (avatar) {
      s.name = name;
      s.key = toNameKey(name);
      s.avatar = avatar;
    }
    s.lastSeen = Math.max(s.lastSeen, ts);
    return s;
  }

  function rememberCid(session: Session, cid: string, entry: Entry) {
    const cids = (session.cids ??= new Map());
    cids.set(cid, entry);
    if (cids.size > CID_KEEP) cids.delete(cids.keys().next().value!);
  }

  // ---- the write path: what one incoming frame brings is written in one go, then delivered (as soon as bare
  // Socket.IO would: waiting for the next turn of the loop measured worse at high rates)

  let batch: { entry: Entry; ack?: AckFn }[] = [];

  function commitLater(entry: Entry, ack?: AckFn) {
    if (batch.push({ entry, ack }) === 1) process.nextTick(commitBatch);
  }

  /** One small write per batch (to the page cache, so it outlives a crash of the process), then delivery:
   * an ack means the message is in the file, and nobody sees a message that could be lost. */
  function commitBatch() {
    const current = batch;
    batch = [];
    if (!current.length) return;
    try {
      messageLog.append(current.map((c) => toRecord(c.entry)));
    } catch (err) {
      log(`could not write the message log: ${(err as Error).message}`);
      return current.forEach(({ entry, ack }) => failEntry(entry, ack));
    }
    current.forEach(({ entry, ack }) => deliver(entry, ack));
    if (messageLog.lineCount > FILE_MAX_LINES) compact();
  }

  function deliver(entry: Entry, ack?: AckFn) {
    entry.committed = true;
    remember(entry);
    if (entry.toS) tabsOf(sessions.get(entry.from), sessions.get(entry.toS))?.emit('textmsg', entry.msg);
    else io.emit('textmsg', entry.msg);
    const answer: Ack = { ok: true, id: entry.msg.id, ts: entry.msg.ts };
    [ack, ...(entry.waiters ?? [])].forEach((answerTo) => answerTo?.(answer));
    entry.waiters = undefined;
  }

  /** A message that could not be stored is refused, so the page can offer to retry it. */
  function failEntry(entry: Entry, ack?: AckFn) {
    if (entry.cid) sessions.get(entry.from)?.cids?.delete(entry.cid);
    [ack, ...(entry.waiters ?? [])].forEach((answerTo) => answerTo?.({ ok: false, error: 'server_error' }));
  }

  function compact() {
    const kept = [group, ...privates.values()].flat().sort((a, b) => a.seq - b.seq);
    messageLog.rewrite(kept.map(toRecord));
    pruneImages();
  }

  // ---- inbound events

  function isRateLimited(session: Session, now = Date.now()): boolean {
    if (!rate) return false;
    session.tokens = Math.min(rate.burst, session.tokens + ((now - session.refilledAt) / 1000) * rate.perSecond);
    session.refilledAt = now;
    if (session.tokens < 1) return true;
    session.tokens--;
    return false;
  }

  function onTextMsg(socket: ChatSocket, args: unknown[]) {
    const [payload, ack] = toPayloadAndAck(args);
    const refuse = (error: ErrorCode) => ack?.({ ok: false, error });
    const session = sessions.get(socket.data.session);
    if (!session) return refuse('not_online');
    if (!payload) return refuse('invalid_message');
    const { content: rawContent, to, cid } = payload;
    if ((to !== undefined && typeof to !== 'string') || (cid !== undefined && !(typeof cid === 'string' && CID_RE.test(cid)))) {
      return refuse('invalid_message');
    }
    const seen = cid ? session.cids?.get(cid) : undefined;
    if (seen) return answerRetry(seen, ack);
    const content = toContent(rawContent);
    if (isContentError(content)) return refuse(content);
    const recipient = toRecipient(session, to);
    if (typeof recipient === 'string') return refuse(recipient);
    commitLater(newEntry(session, recipient, content, cid), ack);
  }

  /** The checks text and pictures share: may this person speak, to whom, this often. */
  function toRecipient(session: Session, to: string | undefined): Session | undefined | ErrorCode {
    if (muted.has(session) || (quiet && !session.isTeacher)) return 'muted';
    const recipient = to === undefined ? undefined : online.get(toNameKey(to));
    if (to !== undefined && !recipient) return 'not_online';
    return isRateLimited(session) ? 'rate_limited' : recipient;
  }

  function newEntry(session: Session, recipient: Session | undefined, content: string, cid?: string, image?: string): Entry {
    const msg = toTextMsg(nanoid(), toUserInfo(session), Date.now(), content, recipient?.name, image);
    const entry: Entry = { seq: ++seq, msg, from: session.id, toS: recipient?.id, cid, committed: false };
    if (cid) rememberCid(session, cid, entry);
    return entry;
  }

  function answerRetry(entry: Entry, ack?: AckFn) {
    if (!ack) return;
    if (entry.committed) return ack({ ok: true, id: entry.msg.id, ts: entry.msg.ts });
    (entry.waiters ??= []).push(ack);
  }

  // ---- pictures: chunks of one upload per person, checked by magic bytes, stored under DATA_DIR/images

  let uploading = 0; // bytes promised by unfinished uploads

  function dropUpload(session: Session) {
    if (session.upload) uploading -= session.upload.total;
    session.upload = undefined;
  }

  function toImageChunk(payload: Record<string, unknown> | null): (ImageChunk & { data: Buffer }) | null {
    if (!payload) return null;
    const { cid, to, total, offset, data } = payload;
    const isCount = (n: unknown, min: number): n is number => Number.isSafeInteger(n) && (n as number) >= min;
    if (typeof cid !== 'string' || !CID_RE.test(cid) || (to !== undefined && typeof to !== 'string')) return null;
    if (!isCount(total, 1) || !isCount(offset, 0) || !Buffer.isBuffer(data) || !data.length || data.length > IMAGE_CHUNK) return null;
    return { cid, to, total, offset, data };
  }

  function onImage(socket: ChatSocket, args: unknown[]) {
    const [payload, ack] = toPayloadAndAck(args) as [Record<string, unknown> | null, ((a: ImageAck) => void) | undefined];
    const refuse = (error: ErrorCode) => ack?.({ ok: false, error });
    const session = sessions.get(socket.data.session);
    const chunk = toImageChunk(payload);
    if (!session || !chunk) return refuse('invalid_message');
    const seen = session.cids?.get(chunk.cid);
    if (seen) return answerRetry(seen, ack);
    if (chunk.total > MAX_IMAGE) return refuse('too_large');
    if (chunk.offset === 0) {
      const recipient = toRecipient(session, chunk.to);
      if (typeof recipient === 'string') return refuse(recipient);
      if (uploading + chunk.total > MAX_UPLOADING) return refuse('rate_limited');
      dropUpload(session);
      session.upload = { cid: chunk.cid, to: chunk.to, total: chunk.total, chunks: [], received: 0 };
      uploading += chunk.total;
    }
    const upload = session.upload;
    const isNext = upload?.cid === chunk.cid && upload.total === chunk.total && upload.received === chunk.offset;
    if (!upload || !isNext || chunk.offset + chunk.data.length > chunk.total) return refuse('invalid_message');
    upload.chunks.push(chunk.data);
    upload.received += chunk.data.length;
    if (upload.received < upload.total) return ack?.({ ok: true, received: upload.received });
    dropUpload(session);
    storeImage(session, upload, ack);
  }

  function storeImage(session: Session, upload: Upload, ack?: AckFn) {
    const bytes = Buffer.concat(upload.chunks);
    const ext = toImageType(bytes);
    if (!ext) return ack?.({ ok: false, error: 'bad_image' });
    const recipient = upload.to === undefined ? undefined : online.get(toNameKey(upload.to));
    if (upload.to !== undefined && !recipient) return ack?.({ ok: false, error: 'not_online' });
    const file = `${nanoid()}.${ext}`;
    const entry = newEntry(session, recipient, '', upload.cid, `/images/${file}`);
    fs.writeFile(join(imagesDir, file), bytes, (err) => {
      if (!err) return commitLater(entry, ack);
      log(`could not store a picture: ${err.message}`);
      failEntry(entry, ack);
    });
  }

  /** Deletes the picture files no kept message points to (after a compaction or a clear). */
  function pruneImages() {
    const kept = new Set([group, ...privates.values()].flat().map((e) => e.msg.image?.slice('/images/'.length)));
    for (const file of fs.readdirSync(imagesDir)) if (!kept.has(file)) fs.rmSync(join(imagesDir, file), { force: true });
  }

  function onTyping(socket: ChatSocket, args: unknown[]) {
    const [payload] = toPayloadAndAck(args);
    const session = sessions.get(socket.data.session);
    const now = Date.now();
    if (!payload || !session || now - session.typingAt < TYPING_MIN_GAP_MS) return;
    const { to } = payload;
    if (to === undefined) {
      session.typingAt = now;
      socket.broadcast.except(session.tabs).emit('typing', { name: session.name });
      return;
    }
    const recipient = typeof to === 'string' ? online.get(toNameKey(to)) : undefined;
    if (!recipient || recipient === session) return;
    session.typingAt = now;
    tabsOf(recipient)?.emit('typing', { name: session.name, to: recipient.name });
  }

  // ---- the teacher: whoever connects with the teacher key; every action is checked and logged here

  let quiet = false; // everyone but the teacher muted
  let pinned: RoomState['pinned'] = null;
  const kicked = new Map<string, string>(); // session -> nickname, refused until allowed

  const muted = new Set<Session>(); // online or not: a mute outlives a reconnect

  /** Who is muted or removed is the teacher's business; a student only learns about themselves. */
  function roomFor(session?: Session): RoomState {
    if (session?.isTeacher) return { quiet, pinned, kicked: [...kicked.values()], muted: [...muted].map((s) => s.name) };
    return { quiet, pinned, kicked: [], muted: session && muted.has(session) ? [session.name] : [] };
  }

  function broadcastRoom() {
    const told = [...online.values()].filter((s) => s.isTeacher || muted.has(s));
    io.except(told.flatMap((s) => s.tabs)).emit('room', roomFor());
    for (const s of told) tabsOf(s)?.emit('room', roomFor(s));
  }
  const logAction = (teacher: Session, what: string) => log(`[${new Date().toLocaleTimeString()}] ${teacher.name} ${what}`);

  const TEACHER_ACTIONS: Record<TeacherAction, (teacher: Session, target: Session | undefined, text: unknown) => TeacherAck> = {
    mute: (t, target) => setMuted(t, target, true),
    unmute: (t, target) => setMuted(t, target, false),
    quiet: (t) => { quiet = true; logAction(t, 'turned quiet mode on'); return { ok: true }; },
    unquiet: (t) => { quiet = false; logAction(t, 'turned quiet mode off'); return { ok: true }; },
    kick: (t, target) => {
      if (!target) return { ok: false, error: 'not_online' };
      if (target.isTeacher) return { ok: false, error: 'not_allowed' };
      kicked.set(target.id, target.name);
      const tabs = tabsOf(target);
      tabs?.emit('kicked');
      tabs?.disconnectSockets(true);
      logAction(t, `removed ${target.name}`);
      return { ok: true };
    },
    allow: (t, _target, name) => {
      const key = typeof name === 'string' ? toNameKey(name) : '';
      const id = [...kicked].find(([, kickedName]) => toNameKey(kickedName) === key)?.[0];
      if (!id) return { ok: false, error: 'not_found' };
      kicked.delete(id);
      logAction(t, `allowed ${name} back`);
      return { ok: true };
    },
    clear: (t) => {
      group.length = 0;
      compact();
      io.emit('cleared', { ts: Date.now() });
      logAction(t, 'cleared the group history');
      return { ok: true };
    },
    pin: (t, _target, text) => {
      const content = toContent(text);
      if (isContentError(content)) return { ok: false, error: content };
      pinned = { content, ts: Date.now() };
      logAction(t, `pinned: ${content}`);
      return { ok: true };
    },
    unpin: (t) => { pinned = null; logAction(t, 'removed the pinned announcement'); return { ok: true }; },
  };

  function setMuted(teacher: Session, target: Session | undefined, isMuted: boolean): TeacherAck {
    if (!target) return { ok: false, error: 'not_online' };
    if (target.isTeacher) return { ok: false, error: 'not_allowed' };
    if (isMuted) muted.add(target);
    else muted.delete(target);
    logAction(teacher, `${isMuted ? 'muted' : 'unmuted'} ${target.name}`);
    return { ok: true };
  }

  function onTeacher(socket: ChatSocket, args: unknown[]) {
    const [payload, ack] = toPayloadAndAck(args) as [Record<string, unknown> | null, ((a: TeacherAck) => void) | undefined];
    const session = sessions.get(socket.data.session);
    if (!session?.isTeacher) return ack?.({ ok: false, error: 'not_teacher' });
    const action = payload && Object.hasOwn(TEACHER_ACTIONS, String(payload.action)) ? (payload.action as TeacherAction) : null;
    if (!payload || !action || (payload.name !== undefined && typeof payload.name !== 'string')) {
      return ack?.({ ok: false, error: 'invalid_message' });
    }
    const target = typeof payload.name === 'string' ? online.get(toNameKey(payload.name)) : undefined;
    const result = TEACHER_ACTIONS[action](session, target, action === 'allow' ? payload.name : payload.content);
    if (result.ok) broadcastRoom();
    ack?.(result);
  }

  // ---- HTTP for other programs: announcements and the transcript, with the teacher key as a bearer token

  function requireTeacherKey(req: express.Request, res: express.Response, next: express.NextFunction) {
    const [scheme, token] = (req.get('authorization') ?? '').split(' ');
    if (scheme === 'Bearer' && isSameSecret(token, teacherKey)) return next();
    res.status(401).set('WWW-Authenticate', 'Bearer').json({ error: 'A valid teacher key is needed: Authorization: Bearer <key>.' });
  }

  function onPush(req: express.Request, res: express.Response) {
    const { content: raw, to } = isPlainObject(req.body) ? req.body : ({} as Record<string, unknown>);
    const content = toContent(raw);
    if (isContentError(content)) {
      return res.status(400).json({ error: '"content" must be a text of 1 to 2000 characters.' });
    }
    const isNameList = Array.isArray(to) && to.length <= MAX_PUSH_TO && to.every((n) => typeof n === 'string');
    if (to !== undefined && !isNameList) {
      return res.status(400).json({ error: `"to" must be a list of at most ${MAX_PUSH_TO} nicknames, or left out for everyone.` });
    }
    const announcement = { id: nanoid(), content, ts: Date.now() };
    const targets = to === undefined ? [...online.values()] : [];
    const offline: string[] = [];
    for (const name of (to as string[] | undefined) ?? []) {
      const person = online.get(toNameKey(name));
      if (person && !targets.includes(person)) targets.push(person);
      else if (!person) offline.push(name);
    }
    if (to === undefined) io.emit('announce', announcement);
    else tabsOf(...targets)?.emit('announce', announcement);
    log(`[${new Date().toLocaleTimeString()}] announcement to ${to === undefined ? 'everyone' : targets.length + ' people'}: ${content}`);
    res.json({ delivered: targets.map((p) => p.name), offline });
  }

  function onTranscript(req: express.Request, res: express.Response) {
    const format = req.query.format ?? 'md';
    if (format !== 'md' && format !== 'json') return res.status(400).json({ error: '"format" must be md or json.' });
    const messages = group.map((e) => e.msg); // the group only: private messages never leave their two people
    const day = new Date().toLocaleDateString('sv'); // YYYY-MM-DD in local time, like the lines
    res.attachment(`transcript-${day}.${format}`);
    if (format === 'json') return res.json(messages);
    const line = (m: TextMsg) =>
      `- ${new Date(m.ts).toLocaleString()} **${m.name}**${m.teacher ? ' (teacher)' : ''}: ${m.image ? `[picture](${m.image})` : m.content}`;
    res.type('text/markdown').send(`# Class chat transcript, ${day}\n\n${messages.map(line).join('\n')}\n`);
  }

  // ---- dispatch: one listener shared by every socket (no closures per connection)

  const HANDLERS: Record<string, (socket: ChatSocket, args: unknown[]) => void> = {
    textmsg: onTextMsg, typing: onTyping, image: onImage, teacher: onTeacher,
  };

  function onEvent(this: ChatSocket, event: unknown, ...args: unknown[]) {
    try {
      if (typeof event === 'string' && Object.hasOwn(HANDLERS, event)) return HANDLERS[event](this, args);
      const ack = args[args.length - 1];
      if (typeof ack === 'function') ack({ ok: false, error: 'invalid_message' }); // unknown event
    } catch (err) { // a bug must cost one message, never the server
      log(`error handling ${String(event).slice(0, 40)}: ${(err as Error).stack}`);
    }
  }

  function onDisconnect(this: ChatSocket) {
    release(this);
  }

  // ---- HTTP

  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders);
  app.get('/join', (_req, res) => { res.type('html').send(joinPage(lanUrls(boundPort(), { withLocalhost: false }))); });
  app.get('/join.svg', (_req, res) => { res.type('image/svg+xml').send(renderSVG(lanUrls(boundPort())[0])); });
  app.use(express.static(PUBLIC_DIR, { extensions: ['html'] }));
  app.use('/images', express.static(imagesDir, { index: false, dotfiles: 'deny', setHeaders: imageHeaders }));
  app.post('/api/push', requireTeacherKey, express.json({ limit: MAX_PUSH_BODY }), onPush);
  app.get('/api/transcript', requireTeacherKey, onTranscript);
  app.use((_req, res) => { res.status(404).type('text/plain').send('Not found'); });
  app.use((err: Error & { status?: number }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const status = err.status || 500;
    if (status >= 500) log(`error: ${err.stack ?? err.message}`);
    const sentence = status === 413 ? `The body is larger than ${MAX_PUSH_BODY}.`
      : status === 400 ? `The body is not valid JSON (${err.message}).` : status >= 500 ? 'Internal error.' : err.message;
    res.status(status).json({ error: sentence });
  });

  const httpServer = createServer(app);
  const io = new Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>(httpServer, {
    maxHttpBufferSize: MAX_FRAME,
    allowRequest: (req, callback) => callback(null, isOriginAllowed(req, allowedOrigins)),
  });

  // The HTTP request is only needed during the handshake, yet engine.io keeps it (~1 KB) as long as the
  // connection: as the socket's `request`, and in the stand-in response of a WebSocket upgrade, whose `req`
  // only middlewares use (this is the only one).
  io.engine.use((_req: IncomingMessage, res: ServerResponse | { req: unknown }, next: () => void) => {
    if (!(res instanceof ServerResponse)) res.req = null;
    next();
  });
  io.engine.on('connection', (rawSocket: { request: IncomingMessage | null }) => { rawSocket.request = null; });

  io.use((socket, next) => {
    const auth = isPlainObject(socket.handshake.auth) ? socket.handshake.auth : {};
    const lang = toLanguage(auth);
    const name = toName(auth.name);
    const isKicked = typeof auth.session === 'string' && kicked.has(auth.session);
    const session = isKicked ? 'kicked' : name ? resolveSession(auth.session, name, toAvatar(auth.avatar)) : 'invalid_name';
    if (typeof session !== 'string' && isSameSecret(auth.teacherKey, teacherKey)) session.isTeacher = true;
    if (typeof session === 'string') {
      const err = new Error(session) as Error & { data: { message: string } };
      err.data = { message: SENTENCES[session][lang] };
      return next(err);
    }
    // No connection can close between this synchronous middleware and 'connection' (Socket.IO connects the
    // socket on the next tick, before any I/O), so 'disconnect' always releases what this claims.
    claim(socket, session);
    next();
  });

  io.on('connection', (socket) => {
    const session = sessions.get(socket.data.session)!;
    socket.onAny(onEvent);
    socket.on('disconnect', onDisconnect);
    socket.emit('welcome', {
      name: session.name, avatar: session.avatar, session: session.id,
      users: usersOnline(), count: online.size, history: historyFor(session, socket.handshake.auth?.lastId),
      teacher: session.isTeacher, room: roomFor(session),
    });
    (socket as { handshake: unknown }).handshake = EMPTY_HANDSHAKE; // read above, never again: ~0.5 KB per idle socket
  });

  const messageLog = createMessageLog(join(dataDir, 'messages.jsonl'), log);
  restore(messageLog.records);
  messageLog.records.length = 0;
  const sweeper = setInterval(sweepSessions, SWEEP_MS).unref();

  // ---- lifecycle

  function boundPort(): number {
    const address = httpServer.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  function listen(port = 0, host = '127.0.0.1'): Promise<{ port: number; host: string }> {
    return new Promise((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(port, host, () => resolve({ port: boundPort(), host }));
    });
  }

  let closing: Promise<void> | null = null;
  /** Tells the pages, writes what was accepted, stops accepting, syncs the file. */
  function close(): Promise<void> {
    closing ??= (async () => {
      clearInterval(sweeper);
      if (onlineTimer) clearTimeout(onlineTimer);
      io.emit('restarting');
      commitBatch();
      const closed = new Promise<void>((resolve) => io.close(() => resolve()));
      httpServer.closeAllConnections(); // a keep-alive (long-polling) connection would otherwise hold close() open
      await closed;
      commitBatch();
      messageLog.close();
    })();
    return closing;
  }

  return {
    app, httpServer, io, listen, close, teacherKey,
    /** Sizes of the internal maps, for tests that check nothing leaks. */
    stats: () => ({ sessions: sessions.size, online: online.size, privates: privates.size, group: group.length }),
    sweepSessions,
  };
}

function isOriginAllowed(req: IncomingMessage, allowed: Set<string>): boolean {
  const origin = req.headers.origin;
  if (!origin) return true; // not a browser page: nothing to hijack
  if (allowed.has(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** Pictures are only ever shown as pictures: never run, never sniffed, never framed. */
function imageHeaders(res: express.Response) {
  res.set({ 'Content-Security-Policy': "default-src 'none'; sandbox", 'Cache-Control': 'private, max-age=86400' });
}

function securityHeaders(_req: express.Request, res: express.Response, next: express.NextFunction) {
  res.set({
    'Content-Security-Policy':
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
      "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
  });
  next();
}

/** The page the teacher projects: the address in large type and its QR code. Only our own URLs go in. */
function joinPage(urls: string[]): string {
  const [main, ...others] = urls;
  const more = others.map((u) => `<li>${u}</li>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Join the class chat</title><link rel="stylesheet" href="/join.css"></head>
<body class="join"><main><h1>Join the class chat · 加入课堂聊天</h1><img src="/join.svg" alt="QR code of ${main}" width="360" height="360">
<p class="join-url">${main}</p><ul class="join-others">${more}</ul></main></body></html>`;
}

export function toRateLimit(raw: string | undefined): ChatOptions['rateLimit'] {
  if (raw === undefined || raw === '') return DEFAULT_RATE;
  if (raw === 'off' || raw === '0') return false;
  const match = /^(\d+)\/(\d+(?:\.\d+)?)$/.exec(raw);
  if (!match || Number(match[1]) < 1 || Number(match[2]) <= 0) throw new Error(`RATE_LIMIT must look like 10/10 (messages/seconds) or off, not ${raw}`);
  return { burst: Number(match[1]), perSecond: Number(match[1]) / Number(match[2]) };
}

/** The addresses students can open; localhost last (and only if there is no LAN address, for the join screen). */
export function lanUrls(port: number, { withLocalhost = true } = {}): string[] {
  const ips = Object.values(networkInterfaces()).flat()
    .filter((i) => i && i.family === 'IPv4' && !i.internal).map((i) => i!.address);
  const hosts = withLocalhost || !ips.length ? [...ips, 'localhost'] : ips;
  return hosts.map((ip) => `http://${ip}:${port}/`);
}

// --- CLI entry

async function main() {
  const env = process.env;
  const chat = createChatServer({
    dataDir: env.DATA_DIR || './data',
    rateLimit: toRateLimit(env.RATE_LIMIT),
    allowedOrigins: env.ALLOWED_ORIGINS?.split(',').map((o) => o.trim()).filter(Boolean),
    teacherKey: env.TEACHER_KEY,
  });
  const { port } = await chat.listen(Number(env.PORT ?? 3000), env.HOST || '0.0.0.0');
  console.log('Classroom chat is running. Students can open:');
  for (const url of lanUrls(port)) console.log(`  ${url}`);
  console.log(renderUnicodeCompact(lanUrls(port)[0]));
  console.log(`To show this on the projector, open http://localhost:${port}/join`);
  console.log(`\nTeacher link (keep it to yourself, it carries the teacher key): http://localhost:${port}/#teacher=${chat.teacherKey}`);
  const stop = async (signal: string) => {
    console.log(`\n${signal}: saving messages and stopping…`);
    setTimeout(() => process.exit(1), 5000).unref();
    await chat.close();
    process.exit(0);
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  main().catch((err) => { console.error(`Could not start: ${err.message}`); process.exit(1); });
}
