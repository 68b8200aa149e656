// A message as stored (a log record) and as kept in memory (an entry), and the way from one to the other:
// at start, and in a cluster for each message another node stored.
import { isPlainObject, toAvatar, type Avatar, type FileInfo, type PollView, type Quote, type TextMsg, type UserInfo, type VoiceInfo } from './contract.ts';
import type { Mentions } from './mentions.ts';
import { toStoredQuote } from './replies.ts';
import type { Conversations, Entry } from './conversations.ts';
import { toNameKey } from './names.ts';
import type { People, Session } from './people.ts';
import { toMediaFile, toPictureFile, type LogRecord } from './store.ts';

const CID_KEEP = 100; // client message ids remembered per person (retry dedupe)

export interface Extras { image?: string; file?: FileInfo; voice?: VoiceInfo; reply?: Quote; mentions?: Mentions; poll?: PollView }

/** A message with only the fields it has: no `to: undefined` on the wire. */
export function toTextMsg(id: string, who: UserInfo, ts: number, content: string, to?: string, extras: Extras = {}): TextMsg {
  const msg: TextMsg = { id, name: who.name, avatar: who.avatar, content, ts };
  if (to !== undefined) msg.to = to;
  if (who.teacher) msg.teacher = true;
  if (extras.image !== undefined) msg.image = extras.image;
  if (extras.file) msg.file = extras.file;
  if (extras.voice) msg.voice = extras.voice;
  if (extras.reply) msg.reply = extras.reply;
  if (extras.mentions?.names.length) msg.mentions = extras.mentions.names;
  if (extras.mentions?.all) msg.mentionsAll = true;
  if (extras.poll) msg.poll = extras.poll;
  return msg;
}

export const toRecord = (entry: Entry): LogRecord => ({ ...entry.msg, from: entry.from, toS: entry.toS, cid: entry.cid, mentionS: entry.mentionS });

/** A stored file's or voice message's description, checked (its URL points to a stored file). */
function toStoredMedia(r: LogRecord): { file?: FileInfo; voice?: VoiceInfo } {
  const { file, voice } = r as { file?: unknown; voice?: unknown };
  if (isPlainObject(voice) && typeof voice.url === 'string' && Number.isFinite(voice.duration) && toMediaFile({ voice: voice as { url: string } })) {
    return { voice: { url: voice.url, duration: voice.duration as number } };
  }
  if (isPlainObject(file) && typeof file.url === 'string' && toMediaFile({ file: file as { url: string } })) {
    return { file: { url: file.url, name: String(file.name), size: Number(file.size) || 0, type: String(file.type) } };
  }
  return {};
}

/** A stored poll's question and answers, checked (its votes are stored apart). */
function toStoredPoll(value: unknown): PollView | undefined {
  if (!isPlainObject(value) || !Array.isArray(value.options) || !value.options.every((o) => typeof o === 'string')) return undefined;
  return value.anonymous === true ? { options: value.options, anonymous: true } : { options: value.options };
}

const toStrings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);

export function rememberCid(session: Session, cid: string, entry: Entry) {
  const cids = (session.cids ??= new Map());
  cids.set(cid, entry);
  if (cids.size > CID_KEEP) cids.delete(cids.keys().next().value!);
}

/** A stored message kept again: its entry, and its two people's sessions as it names them. */
export function restoreRecord(r: LogRecord, roomId: string, people: People, convs: Conversations): Entry {
  const avatar = toAvatar(r.avatar);
  const file = toPictureFile(r.image);
  const image = file && `/images/${roomId}/${file}`; // also moves pictures from before rooms to the room's URL
  const mentions = { names: toStrings(r.mentions), sessions: toStrings(r.mentionS), all: r.mentionsAll === true };
  const msg = toTextMsg(r.id, { name: r.name, avatar, teacher: r.teacher }, r.ts, r.content, r.to, {
    image, ...toStoredMedia(r), reply: toStoredQuote(r.reply), mentions, poll: toStoredPoll(r.poll),
  });
  const entry: Entry = { seq: convs.nextSeq(), msg, from: r.from, toS: r.toS, cid: r.cid, committed: true };
  if (mentions.sessions.length) entry.mentionS = mentions.sessions;
  const sender = restoreSession(people, r.from, r.name, avatar, r.ts);
  if (r.toS && r.to) restoreSession(people, r.toS, r.to, undefined, r.ts);
  if (r.cid) rememberCid(sender, r.cid, entry);
  convs.remember(entry);
  return entry;
}

function restoreSession(people: People, id: string, name: string, avatar: Avatar | undefined, ts: number): Session {
  const s = people.get(id) ?? people.add(id, name, avatar ?? toAvatar(undefined));
  if (avatar && !people.isOnline(s)) Object.assign(s, { name, key: toNameKey(name), avatar });
  s.lastSeen = Math.max(s.lastSeen, ts);
  return s;
}
