// Taking messages back: one's own recall within two minutes, the teacher's delete, the teacher's clear. What is
// taken back goes from every page, history, catch-up and the stored log, and a message's file with it.
import { RECALL_MS, type RecallAck, type TextMsg } from './contract.ts';
import type { Entry } from './conversations.ts';
import type { Session } from './people.ts';
import type { Room } from './room.ts';
import { toMediaFile } from './store.ts';

/** Takes back one's own message within RECALL_MS; told to whoever could see it, as "X recalled a message". */
export function recall(room: Room, session: Session, id: string): RecallAck {
  const entry = visibleTo(room, session, id);
  if (!entry) return { ok: false, error: 'not_found' };
  if (entry.from !== session.id) return { ok: false, error: 'not_allowed' };
  if (Date.now() - entry.msg.ts > RECALL_MS) return { ok: false, error: 'too_late' };
  takeBack(room, entry, { id, name: session.name });
  room.say(`${session.name} recalled a message`);
  return { ok: true };
}

/** The teacher deletes a message for everyone, whoever wrote it, whenever: as a recall, said to be the teacher's. */
export function deleteMessage(room: Room, teacher: Session, id: string): boolean {
  const entry = visibleTo(room, teacher, id);
  if (!entry) return false;
  takeBack(room, entry, { id, name: entry.msg.name, byTeacher: true });
  room.say(`${teacher.name} deleted a message of ${entry.msg.name}: ${toLine(entry.msg)}`);
  return true;
}

/** The teacher clears the group's history (private conversations stay). */
export function clearGroup(room: Room) {
  room.convs.clearGroup();
  room.unlogGroup();
  room.everyone.emit('cleared', { ts: Date.now() });
}

/** A stored message this person can see (the group's, or a private one of theirs), by id. */
function visibleTo(room: Room, session: Session, id: string): Entry | undefined {
  const entry = room.convs.get(id);
  const canSee = entry && (!entry.toS || entry.from === session.id || entry.toS === session.id);
  return canSee && entry.committed ? entry : undefined;
}

function takeBack(room: Room, entry: Entry, told: { id: string; name: string; byTeacher?: true }) {
  room.convs.remove(told.id);
  if (entry.toS) room.tabsOf(room.people.get(entry.from), room.people.get(entry.toS))?.emit('recalled', told);
  else room.everyone.emit('recalled', told);
  room.unlog(told.id);
  const file = toMediaFile(entry.msg);
  if (file) room.media.delete(file);
}

/** A message in the terminal: its words, or what it carries. */
const toLine = (m: TextMsg) => (m.image ? '[picture]' : m.file ? `[file ${m.file.name}]` : m.voice ? '[voice message]' : m.content);
