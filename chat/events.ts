// What a connected socket may send: one handler per event, each validating its payload at run time and
// answering through the ack with a short error code. A refused message reaches no one.
import { nanoid } from 'nanoid';
import {
  MAX_VOICE_MS, isCid, isContentError, toContent, toImageChunk, toPayloadAndAck, type AckFn, type ErrorCode, type HandAck, type ImageAck, type ReadAck, type RecallAck,
  type TeacherAck, type UnseenAck, type VoteAck, type VoteError,
} from './contract.ts';
import { toFileName } from './file-types.ts';
import { toMentions } from './mentions.ts';
import type { Session } from './people.ts';
import { toImageType, type Upload } from './pictures.ts';
import { toReply } from './replies.ts';
import type { ChatSocket, Room } from './room.ts';
import { recall } from './take-back.ts';
import { actAsTeacher } from './teacher.ts';

const TYPING_MIN_GAP_MS = 1000; // relayed at most this often per person

type Handler = (room: Room, session: Session, socket: ChatSocket, args: unknown[]) => void;

function onTextMsg(room: Room, session: Session, _socket: ChatSocket, args: unknown[]) {
  const [payload, ack] = toPayloadAndAck(args);
  const refuse = (error: ErrorCode) => ack?.({ ok: false, error });
  if (!payload) return refuse('invalid_message');
  const { content: rawContent, to, cid, replyTo, mentions: rawMentions, mentionsAll } = payload;
  if ((to !== undefined && typeof to !== 'string') || (cid !== undefined && !isCid(cid))) return refuse('invalid_message');
  const seen = cid ? session.cids?.get(cid) : undefined;
  if (seen) return room.answerRetry(seen, ack);
  if (payload.upload !== undefined) return sendUpload(room, session, payload, refuse, ack);
  const content = toContent(rawContent);
  if (isContentError(content)) return refuse(content);
  const recipient = room.toRecipient(session, to);
  if (typeof recipient === 'string') return refuse(recipient);
  const reply = toReply(room.convs, replyTo, session.id, recipient?.id);
  if (typeof reply === 'string') return refuse(reply);
  const mentions = toMentions(room.people, session, content, rawMentions, mentionsAll, recipient !== undefined);
  if (typeof mentions === 'string') return refuse(mentions);
  room.commitLater(room.newEntry(session, recipient, content, cid, { reply, mentions }), ack);
}

/** A file or a voice message uploaded over HTTP, sent: checked like any message (mute, quiet, slow mode, flood),
 * then its stored file is its content. An upload is sent once, by the session that uploaded it. */
function sendUpload(room: Room, session: Session, payload: Record<string, unknown>, refuse: (e: ErrorCode) => void, ack?: AckFn) {
  const { upload, to, cid, name, duration } = payload;
  const uploaded = room.files.peek(session.id, upload);
  if (!uploaded) return refuse('not_found');
  const isVoice = uploaded.kind === 'voice';
  const isDuration = typeof duration === 'number' && duration > 0 && duration <= MAX_VOICE_MS + 1000; // a recorder stops a little late
  if (isVoice ? !isDuration : name !== undefined && typeof name !== 'string') return refuse('invalid_message');
  if (!isVoice && !session.isTeacher && !room.rules.files) return refuse('not_allowed');
  const recipient = room.toRecipient(session, to as string | undefined);
  if (typeof recipient === 'string') return refuse(recipient);
  room.files.take(session.id, upload);
  room.uploads.pending.add(uploaded.file); // from now until its message is kept, no clean-up may delete it
  const path = `${room.id}/${uploaded.file}`;
  const fileName = toFileName(name, uploaded.type.ext);
  const extras = isVoice
    ? { voice: { url: `/media/${path}`, duration: Math.round(duration as number) } }
    : { file: { url: `/files/${path}/${encodeURIComponent(fileName)}`, name: fileName, size: uploaded.size, type: uploaded.type.mime } };
  room.commitLater(room.newEntry(session, recipient, '', cid as string | undefined, extras), ack);
}

function onImage(room: Room, session: Session, _socket: ChatSocket, args: unknown[]) {
  const [payload, ack] = toPayloadAndAck<(a: ImageAck) => void>(args);
  const refuse = (error: ErrorCode) => ack?.({ ok: false, error });
  const chunk = toImageChunk(payload);
  if (!chunk) return refuse('invalid_message');
  const seen = session.cids?.get(chunk.cid);
  if (seen) return room.answerRetry(seen, ack);
  if (chunk.offset === 0) { // who may send, to whom, how often: checked once per picture
    const recipient = room.toRecipient(session, chunk.to);
    if (typeof recipient === 'string') return refuse(recipient);
  }
  const result = room.uploads.add(session, chunk);
  if (typeof result === 'string') return refuse(result);
  if (typeof result === 'number') return ack?.({ ok: true, received: result });
  storePicture(room, session, result, ack);
}

function storePicture(room: Room, session: Session, upload: Upload, ack?: AckFn) {
  const bytes = Buffer.concat(upload.chunks);
  const ext = toImageType(bytes);
  if (!ext) return ack?.({ ok: false, error: 'bad_image' });
  const recipient = upload.to === undefined ? undefined : room.people.recipient(upload.to);
  if (upload.to !== undefined && !recipient) return ack?.({ ok: false, error: 'not_online' });
  const file = `${nanoid()}.${ext}`;
  room.uploads.pending.add(file); // from now until its message is kept, no clean-up may delete it
  const entry = room.newEntry(session, recipient, '', upload.cid, { image: `/images/${room.id}/${file}` });
  room.media.store(file, bytes).then(() => room.commitLater(entry, ack), (err: Error) => {
    room.say(`could not store a picture: ${err.message}`);
    room.fail(entry, ack);
  });
}

function onTyping(room: Room, session: Session, socket: ChatSocket, args: unknown[]) {
  const [payload] = toPayloadAndAck(args);
  const now = Date.now();
  if (!payload || now - session.typingAt < TYPING_MIN_GAP_MS) return;
  const { to } = payload;
  if (to === undefined) {
    session.typingAt = now;
    socket.to(room.id).except(room.tabIds(session)).emit('typing', { name: session.name });
    return;
  }
  const recipient = typeof to === 'string' ? room.people.byName(to) : undefined;
  if (!recipient || recipient === session) return;
  session.typingAt = now;
  room.tabsOf(recipient)?.emit('typing', { name: session.name, to: recipient.name });
}

function onTeacher(room: Room, session: Session, _socket: ChatSocket, args: unknown[]) {
  const [payload, ack] = toPayloadAndAck<(a: TeacherAck) => void>(args);
  const answer = actAsTeacher(room, session, payload);
  if ('then' in answer) void answer.then((a) => ack?.(a));
  else ack?.(answer);
}

function onVote(room: Room, session: Session, _socket: ChatSocket, args: unknown[]) {
  const [payload, ack] = toPayloadAndAck<(a: VoteAck) => void>(args);
  const refuse = (error: VoteError) => ack?.({ ok: false, error });
  if (!payload || typeof payload.poll !== 'string') return refuse('invalid_message');
  const entry = room.polls.pollOf(payload.poll);
  if (!entry) return refuse('not_found');
  const { option } = payload;
  if (!Number.isSafeInteger(option) || (option as number) < 0 || (option as number) >= entry.msg.poll!.options.length) return refuse('invalid_message');
  if (session.isTeacher) return refuse('not_allowed'); // the teacher asks, the class answers
  if (room.polls.isClosed(entry.msg.id)) return refuse('closed');
  if (room.rules.floodRefusal(session)) return refuse('rate_limited');
  const id = entry.msg.id;
  room.polls.save({ poll: id, session: session.id, option: option as number }, (error) => {
    if (error) return refuse(error);
    room.tabsOf(session)?.emit('voted', { id, option: option as number });
    room.polls.pushCounts(id);
    ack?.({ ok: true });
  });
}

function onRecall(room: Room, session: Session, _socket: ChatSocket, args: unknown[]) {
  const [payload, ack] = toPayloadAndAck<(a: RecallAck) => void>(args);
  const id = payload?.id;
  if (typeof id !== 'string' || !id || id.length > 64) return ack?.({ ok: false, error: 'invalid_message' });
  ack?.(recall(room, session, id));
}

function onHand(room: Room, session: Session, _socket: ChatSocket, args: unknown[]) {
  const [payload, ack] = toPayloadAndAck<(a: HandAck) => void>(args);
  if (typeof payload?.up !== 'boolean') return ack?.({ ok: false, error: 'invalid_message' });
  ack?.(room.hands.set(session, payload.up));
}

function onRead(room: Room, session: Session, _socket: ChatSocket, args: unknown[]) {
  const [payload, ack] = toPayloadAndAck<(a: ReadAck) => void>(args);
  const answer = room.seen.read(session, payload);
  ack?.(answer);
}

function onUnseen(room: Room, session: Session, _socket: ChatSocket, args: unknown[]) {
  const [payload, ack] = toPayloadAndAck<(a: UnseenAck) => void>(args);
  if (!session.isTeacher) return ack?.({ ok: false, error: 'not_teacher' });
  if (typeof payload?.id !== 'string') return ack?.({ ok: false, error: 'invalid_message' });
  const names = room.seen.unseen(payload.id);
  ack?.(names ? { ok: true, names } : { ok: false, error: 'not_found' });
}

export const HANDLERS: Record<string, Handler> = {
  textmsg: onTextMsg, typing: onTyping, image: onImage, teacher: onTeacher, recall: onRecall, hand: onHand, vote: onVote,
  read: onRead, unseen: onUnseen,
};
