// The wire contract: the typed Socket.IO events, their payloads, and the run-time checks of everything
// that comes in (types do not validate).

export const MAX_CONTENT = 2000; // code points, after trimming
export const MAX_TITLE = 60;
export const IMAGE_CHUNK = 32 * 1024; // pictures travel in chunks so the page can show progress
export const MAX_IMAGE = 512 * 1024; // the page sends at most ~300 KB; room for a small PNG as is
export const AVATARS = ['cat', 'dog', 'fox', 'panda', 'owl', 'frog', 'rabbit', 'bear', 'penguin', 'tiger'] as const;
export const DEFAULT_AVATAR = AVATARS[0];
export const DEFAULT_ROOM = 'main';
export const SESSION_RE = /^[\w-]{21}$/; // nanoid()
export const CID_RE = /^[\w-]{1,64}$/;
export const ROOM_ID_RE = /^[a-z0-9][a-z0-9-]{0,31}$/;
export const QUOTE_MAX = 80; // code points of the original a reply shows
export const MAX_MENTIONS = 20; // people one message may mention by name
export const MAX_VOICE_MS = 60_000; // a voice message
export const MAX_FILE_NAME = 100; // code points of a shared file's name

// --- types

export type Avatar = (typeof AVATARS)[number];
/** What a reply shows of its original: a short quote, or that the original was taken back. */
/** A poll in its message: the answers; once closed (or to the teacher) the counts; in history, this person's vote. */
export interface PollView {
  options: string[]; anonymous?: true; closed?: true; counts?: number[]; mine?: number;
  voters?: { name: string; option: number }[]; // to the teacher, unless anonymous
}
export const POLL_OPTIONS = { min: 2, max: 6, length: 100 }; // answers per poll, code points per answer
export type VoteAck = { ok: true } | { ok: false; error: VoteError };
export type VoteError = 'invalid_message' | 'not_found' | 'closed' | 'not_allowed' | 'rate_limited' | 'server_error';
export type Quote = { id: string; name: string; content: string; image?: true } | { id: string; gone: true };
/** A shared file: where to download it (its name in the URL, for the browser), what it is. */
export interface FileInfo { url: string; name: string; size: number; type: string }
/** A voice message: where to play it from, how long it is (ms, as the recording page measured it). */
export interface VoiceInfo { url: string; duration: number }
export interface TextMsg {
  id: string; name: string; avatar: string; content: string; ts: number; to?: string; teacher?: true; image?: string;
  file?: FileInfo; voice?: VoiceInfo;
  reply?: Quote;
  poll?: PollView; // the teacher's question: `content` is the question
  mentions?: string[]; // the people it names with @, as they were named when it was sent
  mentionsAll?: true; // the teacher's @all
  own?: true; // in history only: written by this session
  mentioned?: true; // in history only: it mentions this session (or everyone)
}
export interface UserInfo { name: string; avatar: string; teacher?: true }
export type Ack = { ok: true; id: string; ts: number } | { ok: false; error: ErrorCode };
export type ErrorCode =
  | 'invalid_message' | 'empty' | 'too_long' | 'not_online' | 'rate_limited' | 'muted' | 'bad_image' | 'too_large' | 'server_error'
  | 'not_found' // the message replied to is not (or no longer) there
  | 'not_allowed' // @all from someone who is not the teacher
  | 'slow_mode'; // a student's next message came sooner than the room's slow mode allows
export type Refusal = 'invalid_name' | 'name_taken' | 'kicked' | 'no_room' | 'bad_key' | 'rate_limited' | 'server_error';
export interface Welcome {
  name: string; avatar: string; session: string; users: UserInfo[]; count: number; history: TextMsg[]; teacher: boolean; room: RoomState;
}
export interface Pin { content: string; ts: number }
export interface Online { count: number; joined?: UserInfo[]; left?: string[] }
export interface RoomState {
  id: string; title: string; quiet: boolean; muted: string[]; kicked: string[]; pinned: Pin | null;
  slow: number; // seconds a student waits between two messages; 0: no slow mode
  files: boolean; // students may share files (the teacher always may)
  locked: boolean; // the waiting room: someone new waits for the teacher
  mutedUntil?: number; // to a muted student: when a timed mute ends (ms); absent: until lifted
}
export type TeacherAction =
  | 'mute' | 'unmute' | 'quiet' | 'unquiet' | 'kick' | 'allow' | 'clear' | 'pin' | 'unpin' | 'delete' | 'slow' | 'lower' | 'lowerAll'
  | 'lock' | 'unlock' | 'admit' | 'refuse' | 'admitAll' | 'poll' | 'closePoll' | 'files' | 'nofiles';
/** A raised hand in the teacher's queue. */
export interface Hand { name: string; avatar: string; at: number }
export type HandAck = { ok: true } | { ok: false; error: 'invalid_message' | 'not_allowed' };
export const MUTE_MINUTES = [5, 15]; // a timed mute; without minutes a mute holds until lifted
export const SLOW_SECONDS = [0, 10, 30, 60]; // slow mode's choices (0: off)
/** "Seen by N of M" of a message, announcement or the pin (id 'pin'), for the teacher. */
export interface SeenItem { id: string; n: number; of: number }
export type ReadError = 'invalid_message' | 'not_found' | 'not_allowed';
export type ReadAck = { ok: true } | { ok: false; error: ReadError };
export type UnseenAck = { ok: true; names: string[] } | { ok: false; error: 'invalid_message' | 'not_teacher' | 'not_found' };
export type TeacherError = 'not_teacher' | 'invalid_message' | 'not_online' | 'not_found' | 'not_allowed' | 'empty' | 'too_long' | 'server_error';
export type TeacherAck = { ok: true } | { ok: false; error: TeacherError };
export type ImageAck = Ack | { ok: true; received: number };
/** What an upload request (PUT /api/uploads/…) answers with, besides the bytes received so far. */
export type UploadError = 'invalid_message' | 'not_allowed' | 'too_large' | 'bad_type' | 'disk_full' | 'not_found' | 'rate_limited' | 'server_error';
export type RecallAck = { ok: true } | { ok: false; error: 'invalid_message' | 'not_found' | 'not_allowed' | 'too_late' | 'server_error' };
export const RECALL_MS = 2 * 60_000; // one's own message may be taken back this long after it was sent
export interface ImageChunk { cid: string; to?: string; total: number; offset: number; data: Buffer }
export type AckFn = (a: Ack) => void;

export interface ServerToClientEvents {
  welcome: (w: Welcome) => void;
  online: (o: Online) => void;
  textmsg: (m: TextMsg) => void;
  typing: (t: { name: string; to?: string }) => void;
  restarting: () => void;
  room: (r: RoomState) => void;
  kicked: () => void;
  closed: () => void;
  cleared: (c: { ts: number }) => void;
  announce: (a: { id: string; content: string; ts: number }) => void;
  recalled: (r: { id: string; name: string; byTeacher?: true }) => void; // taken back by its author, or deleted by the teacher
  hand: (h: { up: boolean }) => void; // to a student's tabs: their hand, raised or lowered (by them or the teacher)
  hands: (h: { queue: Hand[] }) => void; // to the teacher's tabs: the raised hands, oldest first
  waiting: (w: { token: string }) => void; // to a page waiting for the teacher (the token keeps its place across a reconnect)
  waitlist: (w: { queue: Hand[] }) => void; // to the teacher's tabs: who waits, oldest first
  turnedAway: (t: { why: 'refused' | 'name_taken' }) => void; // to a waiting page, just before it is disconnected
  pollVotes: (p: { id: string; counts: number[]; voters?: { name: string; option: number }[] }) => void; // to the teacher, live
  voted: (v: { id: string; option: number }) => void; // to the voter's tabs
  pollClosed: (p: { id: string; counts: number[] }) => void; // to the room: the results
  seen: (s: { items: SeenItem[] }) => void; // to the teacher's tabs: counts that changed (all of them at the welcome)
}
export interface ClientToServerEvents {
  textmsg: (
    m: {
      content: string; to?: string; cid?: string; replyTo?: string; mentions?: string[]; mentionsAll?: boolean;
      upload?: string; name?: string; duration?: number; // a file or a voice message uploaded over HTTP (/api/uploads)
    }, ack?: (a: Ack) => void,
  ) => void;
  typing: (t: { to?: string }) => void;
  image: (chunk: Omit<ImageChunk, 'data'> & { data: ArrayBuffer | Uint8Array }, ack?: (a: ImageAck) => void) => void;
  teacher: (
    t: {
      action: TeacherAction; name?: string; content?: string; id?: string; minutes?: number; seconds?: number;
      options?: string[]; anonymous?: boolean; // a poll: `content` is its question
    }, ack?: (a: TeacherAck) => void,
  ) => void;
  recall: (r: { id: string }, ack?: (a: RecallAck) => void) => void;
  hand: (h: { up: boolean }, ack?: (a: HandAck) => void) => void;
  vote: (v: { poll: string; option: number }, ack?: (a: VoteAck) => void) => void;
  /** The last line of a conversation shown on a visible screen (`to`: the private one with that teacher), the pin shown. */
  read: (r: { id: string; to?: string; pin?: number }, ack?: (a: ReadAck) => void) => void;
  unseen: (u: { id: string }, ack?: (a: UnseenAck) => void) => void; // the teacher: who has not seen it yet
}
export interface InterServerEvents {}
export interface SocketData { room: string; session: string; waiting?: { token: string; name: string; avatar: Avatar } }

// --- refusals of a handshake: a code in err.message, a sentence in err.data.message

const SENTENCES: Record<Refusal, { en: string; zh: string }> = {
  invalid_name: { en: 'Please choose a nickname of 1 to 24 visible characters.', zh: '请输入 1 到 24 个可见字符的昵称。' },
  name_taken: {
    en: 'This nickname is already used by someone online. Please choose another one.',
    zh: '这个昵称已经有在线的人在用了，请换一个。',
  },
  kicked: { en: 'The teacher has removed you from the chat.', zh: '老师已将你移出聊天室。' },
  no_room: { en: 'This class does not exist. Check the address with your teacher.', zh: '这个班级不存在，请向老师核对地址。' },
  bad_key: { en: 'This teacher link is no longer valid.', zh: '这个老师链接已经失效。' },
  rate_limited: { en: 'Too many wrong keys from this address. Try again in a few minutes.', zh: '这个地址输错密钥太多次了，请几分钟后再试。' },
  server_error: { en: 'The server cannot take new people right now. Try again in a moment.', zh: '服务器暂时无法接待新用户，请稍后再试。' },
};

export type Language = 'en' | 'zh';

/** The page says its language in `auth.lang` (the HTTP request is dropped before the handshake runs). */
export const toLanguage = (auth: Record<string, unknown>): Language =>
  (String(auth.lang ?? '').toLowerCase().startsWith('zh') ? 'zh' : 'en');

export function toRefusal(code: Refusal, lang: Language): Error & { data: { message: string } } {
  return Object.assign(new Error(code), { data: { message: SENTENCES[code][lang] } });
}

// --- input checks (pure)

export const toAvatar = (raw: unknown): Avatar =>
  (AVATARS as readonly unknown[]).includes(raw) ? (raw as Avatar) : DEFAULT_AVATAR;

function countCodePoints(text: string, stopAt: number): number {
  let n = 0;
  for (const _ of text) if (++n > stopAt) break;
  return n;
}

export type ContentError = 'invalid_message' | 'empty' | 'too_long';
export const isContentError = (c: string): c is ContentError => c === 'invalid_message' || c === 'empty' || c === 'too_long';

/** The trimmed content, or the error code for it. */
export function toContent(raw: unknown, max = MAX_CONTENT): string | ContentError {
  if (typeof raw !== 'string') return 'invalid_message';
  const content = raw.trim();
  if (!content) return 'empty';
  return countCodePoints(content, max) > max ? 'too_long' : content;
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);

/** Splits Socket.IO arguments into one payload object and an optional trailing ack. */
export function toPayloadAndAck<A = AckFn>(args: unknown[]): [Record<string, unknown> | null, A | undefined] {
  const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as A) : undefined;
  return [args.length === 1 && isPlainObject(args[0]) ? args[0] : null, ack];
}

export const isCid = (v: unknown): v is string => typeof v === 'string' && CID_RE.test(v);

export function toImageChunk(payload: Record<string, unknown> | null): ImageChunk | null {
  if (!payload) return null;
  const { cid, to, total, offset, data } = payload;
  const isCount = (n: unknown, min: number): n is number => Number.isSafeInteger(n) && (n as number) >= min;
  if (!isCid(cid) || (to !== undefined && typeof to !== 'string')) return null;
  if (!isCount(total, 1) || !isCount(offset, 0) || !Buffer.isBuffer(data) || !data.length || data.length > IMAGE_CHUNK) return null;
  return { cid, to, total, offset, data };
}

export const toRoomId = (raw: unknown): string | null => (typeof raw === 'string' && ROOM_ID_RE.test(raw) ? raw : null);

/** A room title: trimmed, 1–60 code points, no control characters. */
export function toTitle(raw: unknown): string | null {
  const title = toContent(raw, MAX_TITLE);
  return isContentError(title) || /[\p{Cc}\p{Zl}\p{Zp}]/u.test(title) ? null : title.replace(/\s+/gu, ' ');
}
