// What the chat keeps, behind one interface: the file store today (file-store.ts), Redis for the cluster.
// Calls that may wait return promises; `append` may also answer synchronously, so the embedded store adds
// no turn of the event loop to the hot path.
import { isPlainObject, type Pin, type TextMsg } from './contract.ts';

/** One message as stored: the message plus who sent it and to whom, by session. */
export interface LogRecord extends TextMsg { from: string; toS?: string; cid?: string; mentionS?: string[] }

/** What a Redis log says of each record: stored now at this place in the event stream, or stored already
 * (a retry under the same cid, answered with the first one's id and time). */
export type AppendAnswer = { at: string; stored?: undefined } | { stored: { id: string; ts: number }; at?: undefined };

/** What a room keeps across restarts besides its messages. Names are kept by comparison key. */
export interface RoomMeta {
  id: string;
  title: string;
  teacherKey: string;
  createdAt: number;
  quiet: boolean;
  pinned: Pin | null;
  muted: Record<string, string>; // name key -> name as shown
  kicked: Record<string, string>;
  kickedSessions: string[];
  mutedUntil?: Record<string, number>; // name key -> end of a timed mute (ms)
  slow?: number; // slow mode, seconds
  locked?: boolean; // the waiting room
  files?: boolean; // students may share files
}

/** One room's message log: read once at start, appended to, rewritten when compacted. */
export interface MessageLog {
  readonly records: LogRecord[]; // what was stored, read at open; the room empties it once restored
  readonly lineCount: number; // lines in the log, kept ones and stale ones
  /** Stores the records; a Redis log may answer, per record, the message stored already under its cid. */
  append(records: LogRecord[]): void | Promise<void | AppendAnswer[]>;
  /** Replaces the log with the kept records; a Redis log may decline (false: another node compacted first). */
  rewrite(records: LogRecord[]): void | Promise<void | boolean>;
  close(): void | Promise<void>;
  /** A cluster node's log: an event of it read from the stream (the first `len` lines of compaction `gen` are known). */
  observe?(gen: number, len: number): void;
  /** A cluster node's log: drops every group line, whichever node wrote it. */
  clearGroup?(): Promise<void>;
  /** A cluster node's log: drops one message's line (recalled), whichever node wrote it. */
  remove?(id: string): Promise<void>;
}

/** A room's polls as stored: each one's votes by session, and whether it is closed. */
export type StoredPolls = Record<string, { votes: Record<string, number>; closed?: boolean }>;
export type PollChange = { poll: string; session: string; option: number } | { poll: string; closed: true };

/** Read positions ("seen by"): "<session> <conv>" -> the last line seen (conv: 'g' the group, 'p' the pin's ts,
 * else a teacher's session: the private conversation with them). */
export type StoredReads = Record<string, string>;
export type ReadChange = { session: string; conv: string; value: string };

export interface ChatStore {
  /** The server (admin) key: the given one, else the stored one, else `make()` stored for the next start. */
  serverKey(given: string | undefined, make: () => string): Promise<string>;
  rooms(): Promise<RoomMeta[]>;
  saveRoom(meta: RoomMeta): Promise<void>;
  /** Stores a new room, unless a room with its id is stored already (another node made it first): the room as stored. */
  createRoom(meta: RoomMeta): Promise<RoomMeta>;
  /** Deletes the room with its messages and pictures. */
  deleteRoom(id: string): Promise<void>;
  openLog(roomId: string): Promise<MessageLog>;
  writePicture(roomId: string, file: string, bytes: Buffer): Promise<void>;
  readPicture(roomId: string, file: string): Promise<Buffer | null>;
  /** The pictures of a room: file name, size, and when it was stored (ms). */
  pictures(roomId: string): Promise<{ file: string; size: number; at: number }[]>;
  deletePictures(roomId: string, files: string[]): Promise<void>;
  polls(roomId: string): Promise<StoredPolls>;
  /** Stores votes and closings; in a cluster each is also told on the event stream. */
  savePolls(roomId: string, changes: PollChange[]): Promise<void>;
  reads(roomId: string): Promise<StoredReads>;
  /** Stores read positions; in a cluster each batch is also told on the event stream. */
  saveReads(roomId: string, changes: ReadChange[]): Promise<void>;
  close(): Promise<void>;
}

// Pictures, voice messages and shared files: one kind of stored file, each named by a random id and its type.
const EXTENSIONS = 'jpg|png|gif|webp|pdf|txt|docx|xlsx|pptx|odt|ods|odp|zip|webm|ogg|m4a';
export const MEDIA_FILE_RE = new RegExp(`^[\\w-]{21}\\.(${EXTENSIONS})$`);
const IMAGE_URL_RE = /^\/images\/(?:[a-z0-9][a-z0-9-]{0,31}\/)?([\w-]{21}\.(?:jpg|png|gif|webp))$/;
const MEDIA_URL_RE = new RegExp(`^\\/(?:media|files)\\/[a-z0-9][a-z0-9-]{0,31}\\/([\\w-]{21}\\.(?:${EXTENSIONS}))(?:\\/[^/]+)?$`);

/** The picture file a message points to (`/images/<room>/<file>`, or `/images/<file>` before rooms). */
export const toPictureFile = (url: string | undefined): string | undefined => (url ? IMAGE_URL_RE.exec(url)?.[1] : undefined);

/** The stored file of a message, if it has one: its picture, voice or shared file. */
export const toMediaFile = (msg: { image?: string; voice?: { url: string }; file?: { url: string } }): string | undefined =>
  toPictureFile(msg.image) ?? (msg.voice ?? msg.file ? MEDIA_URL_RE.exec((msg.voice ?? msg.file)!.url)?.[1] : undefined);

/** A stored line, checked: a torn or foreign line is skipped rather than trusted. */
export function toLogRecord(value: unknown): LogRecord | null {
  if (!isPlainObject(value)) return null;
  const { id, name, content, ts, to, from, toS, image } = value;
  const isText = (v: unknown) => typeof v === 'string' && v.length > 0;
  if (!isText(id) || !isText(name) || typeof content !== 'string' || !isText(from) || typeof ts !== 'number') return null;
  if (to !== undefined && (!isText(to) || !isText(toS))) return null;
  const hasMedia = image !== undefined || value.voice !== undefined || value.file !== undefined;
  if (hasMedia ? !toMediaFile(value as { image?: string }) : !content) return null;
  return value as unknown as LogRecord;
}

/** Stored read positions, checked: what is not a position is left out. */
export function toStoredReads(value: unknown): StoredReads {
  if (!isPlainObject(value)) return {};
  return Object.fromEntries(Object.entries(value).filter(([k, v]) => typeof v === 'string' && /^[\w-]{21} [\w-]+$/.test(k))) as StoredReads;
}

/** Stored polls, checked: what is not a poll's votes is left out. */
export function toStoredPolls(value: unknown): StoredPolls {
  const polls: StoredPolls = {};
  if (!isPlainObject(value)) return polls;
  for (const [id, poll] of Object.entries(value)) {
    if (!isPlainObject(poll) || !isPlainObject(poll.votes)) continue;
    const votes = Object.fromEntries(Object.entries(poll.votes).filter(([, o]) => Number.isSafeInteger(o))) as Record<string, number>;
    polls[id] = poll.closed === true ? { votes, closed: true } : { votes };
  }
  return polls;
}

export function toRoomMeta(value: unknown): RoomMeta | null {
  if (!isPlainObject(value) || typeof value.id !== 'string' || typeof value.title !== 'string' || typeof value.teacherKey !== 'string') return null;
  const names = (v: unknown) => (isPlainObject(v) ? (v as Record<string, string>) : {});
  return {
    id: value.id, title: value.title, teacherKey: value.teacherKey, createdAt: Number(value.createdAt) || 0,
    quiet: value.quiet === true, pinned: isPlainObject(value.pinned) ? (value.pinned as unknown as Pin) : null,
    muted: names(value.muted), kicked: names(value.kicked),
    kickedSessions: Array.isArray(value.kickedSessions) ? value.kickedSessions.filter((s) => typeof s === 'string') : [],
    mutedUntil: isPlainObject(value.mutedUntil)
      ? Object.fromEntries(Object.entries(value.mutedUntil).filter(([, ts]) => Number.isFinite(ts))) as Record<string, number> : {},
    slow: Number.isSafeInteger(value.slow) && (value.slow as number) > 0 ? value.slow as number : 0,
    locked: value.locked === true,
    files: value.files === true,
  };
}
