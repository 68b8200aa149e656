// The teacher's actions in a room: each is checked here, changes the room's rules, is told to the room
// and kept for the next start, and is printed in the terminal with the time and the names.
import { nanoid } from 'nanoid';
import {
  isContentError, MUTE_MINUTES, SLOW_SECONDS, toContent, type PollView, type TeacherAck, type TeacherAction, type TextMsg,
} from './contract.ts';
import { toPollOptions } from './polls.ts';
import { toNameKey } from './names.ts';
import type { Session } from './people.ts';
import type { Room } from './room.ts';
import { clearGroup, deleteMessage } from './take-back.ts';

/** What an action may carry besides its name, unchecked: each action checks what it uses. */
interface Args { name?: string; content?: unknown; id?: unknown; minutes?: unknown; seconds?: unknown; options?: unknown; anonymous?: unknown }
type Action = (room: Room, teacher: Session, args: Args) => TeacherAck | Promise<TeacherAck>; // a promise: answered once stored
const OK: TeacherAck = { ok: true };
const INVALID: TeacherAck = { ok: false, error: 'invalid_message' };

const ACTIONS: Record<TeacherAction, Action> = {
  mute: (room, t, { name, minutes }) => {
    if (minutes !== undefined && !MUTE_MINUTES.includes(minutes as number)) return INVALID;
    const target = name === undefined ? undefined : room.people.byName(name);
    if (!target) return { ok: false, error: 'not_online' };
    if (target.isTeacher) return { ok: false, error: 'not_allowed' };
    room.rules.mute(target, minutes as number | undefined);
    room.watchMutes();
    room.say(`${t.name} muted ${target.name}${minutes ? ` for ${minutes} minutes` : ''}`);
    return OK;
  },
  unmute: (room, t, { name }) => { // by nickname: a mute outlives the person's connection
    const key = name === undefined ? '' : toNameKey(name);
    if (!room.rules.muted.has(key) && !room.people.online.has(key)) return { ok: false, error: 'not_online' };
    room.say(`${t.name} unmuted ${room.rules.muted.get(key) ?? name}`);
    room.rules.unmute(key);
    return OK;
  },
  slow: (room, t, { seconds }) => {
    if (!SLOW_SECONDS.includes(seconds as number)) return INVALID;
    room.rules.slow = seconds as number;
    room.say(seconds ? `${t.name} turned slow mode on: one message every ${seconds} s per student` : `${t.name} turned slow mode off`);
    return OK;
  },
  lower: (room, t, { name }) => {
    const person = name === undefined ? undefined : room.people.recipient(name);
    if (!person || !room.hands.has(person.id)) return { ok: false, error: 'not_found' };
    room.hands.lower([person]);
    room.say(`${t.name} lowered the hand of ${person.name}`);
    return OK;
  },
  lowerAll: (room, t) => {
    room.hands.lower([...room.people.sessions.values()].filter((s) => room.hands.has(s.id)));
    room.say(`${t.name} lowered every hand`);
    return OK;
  },
  lock: (room, t) => {
    room.rules.locked = true;
    room.say(`${t.name} locked the room: newcomers wait for the teacher`);
    return OK;
  },
  unlock: (room, t) => {
    room.rules.locked = false;
    for (const entry of room.waiting.list.waiting()) room.waiting.decide(entry, 'admit');
    room.say(`${t.name} unlocked the room (everyone waiting is let in)`);
    return OK;
  },
  admit: (room, t, { name }) => {
    const entry = name === undefined ? undefined : room.waiting.list.byName(name);
    if (!entry) return { ok: false, error: 'not_found' };
    room.waiting.decide(entry, 'admit');
    room.say(`${t.name} let ${entry.name} in`);
    return OK;
  },
  admitAll: (room, t) => {
    const waiting = room.waiting.list.waiting();
    for (const entry of waiting) room.waiting.decide(entry, 'admit');
    room.say(`${t.name} let everyone waiting in (${waiting.length})`);
    return OK;
  },
  refuse: (room, t, { name }) => {
    const entry = name === undefined ? undefined : room.waiting.list.byName(name);
    if (!entry) return { ok: false, error: 'not_found' };
    room.waiting.decide(entry, 'refuse');
    room.say(`${t.name} did not let ${entry.name} in`);
    return OK;
  },
  poll: (room, t, { content, options, anonymous }) => {
    const question = toContent(content);
    if (isContentError(question)) return { ok: false, error: question };
    const answers = toPollOptions(options);
    if (!answers || (anonymous !== undefined && typeof anonymous !== 'boolean')) return INVALID;
    const poll: PollView = anonymous ? { options: answers, anonymous: true } : { options: answers };
    const entry = room.newEntry(t, undefined, question, undefined, { poll });
    return new Promise((resolve) => room.commitLater(entry, (ack) => {
      if (!ack.ok) return resolve({ ok: false, error: 'server_error' });
      room.say(`${t.name} asked${anonymous ? ' (anonymous)' : ''}: ${question} (${answers.join(' / ')})`);
      resolve(OK);
    }));
  },
  closePoll: (room, t, { id }) => {
    const entry = room.polls.pollOf(id);
    if (!entry) return { ok: false, error: 'not_found' };
    const { id: pollId, content, poll } = entry.msg;
    return new Promise((resolve) => room.polls.save({ poll: pollId, closed: true }, (error) => {
      if (error) return resolve({ ok: false, error });
      const counts = room.polls.counts(pollId, poll!.options.length);
      room.everyone.emit('pollClosed', { id: pollId, counts });
      room.say(`${t.name} closed the poll "${content}": ${poll!.options.map((o, i) => `${o} ${counts[i]}`).join(', ')}`);
      resolve(OK);
    }));
  },
  delete: (room, t, { id }) => {
    if (typeof id !== 'string' || !id || id.length > 64) return INVALID;
    return deleteMessage(room, t, id) ? OK : { ok: false, error: 'not_found' };
  },
  quiet: (room, t) => { room.rules.quiet = true; room.say(`${t.name} turned quiet mode on`); return OK; },
  unquiet: (room, t) => { room.rules.quiet = false; room.say(`${t.name} turned quiet mode off`); return OK; },
  files: (room, t) => { room.rules.files = true; room.say(`${t.name} let students share files`); return OK; },
  nofiles: (room, t) => { room.rules.files = false; room.say(`${t.name} stopped students sharing files`); return OK; },
  kick: (room, t, { name }) => {
    const target = name === undefined ? undefined : room.people.byName(name);
    if (!target) return { ok: false, error: 'not_online' };
    if (target.isTeacher) return { ok: false, error: 'not_allowed' };
    room.rules.kicked.set(target.key, target.name); // the nickname too: a private window must not walk back in
    room.rules.kickedSessions.add(target.id);
    const tabs = room.tabsOf(target);
    tabs?.emit('kicked');
    tabs?.disconnectSockets(true);
    room.say(`${t.name} removed ${target.name}`);
    return OK;
  },
  allow: (room, t, { name }) => {
    const key = name === undefined ? '' : toNameKey(name);
    if (!room.rules.kicked.has(key)) return { ok: false, error: 'not_found' };
    room.rules.kicked.delete(key);
    for (const id of room.rules.kickedSessions) if (room.people.get(id)?.key === key) room.rules.kickedSessions.delete(id);
    room.say(`${t.name} allowed ${name} back`);
    return OK;
  },
  clear: (room, t) => { clearGroup(room); room.say(`${t.name} cleared the group history`); return OK; },
  pin: (room, t, { content: text }) => {
    const content = toContent(text);
    if (isContentError(content)) return { ok: false, error: content };
    room.rules.pinned = { content, ts: Date.now() };
    room.say(`${t.name} pinned: ${content}`);
    return OK;
  },
  unpin: (room, t) => { room.rules.pinned = null; room.say(`${t.name} removed the pinned announcement`); return OK; },
};

const NO_RULE = new Set<TeacherAction>(['delete', 'lower', 'lowerAll', 'admit', 'admitAll', 'refuse', 'poll', 'closePoll']); // they change no rule: told otherwise

/** Runs one teacher action from an untrusted payload. */
export function actAsTeacher(room: Room, session: Session, payload: Record<string, unknown> | null): TeacherAck | Promise<TeacherAck> {
  if (!session.isTeacher) return { ok: false, error: 'not_teacher' };
  const action = payload && Object.hasOwn(ACTIONS, String(payload.action)) ? (payload.action as TeacherAction) : null;
  if (!payload || !action || (payload.name !== undefined && typeof payload.name !== 'string')) return { ok: false, error: 'invalid_message' };
  const result = ACTIONS[action](room, session, payload as Args);
  if ('then' in result) return result; // answered once stored; it changes no rule
  if (result.ok && !NO_RULE.has(action)) {
    room.broadcastState();
    room.saveMeta();
  }
  return result;
}

/** The push API: an announcement to everyone in the room, or to the people named (those online). */
export function announce(room: Room, content: string, to: string[] | undefined): { delivered: string[]; offline: string[] } {
  const announcement = { id: nanoid(), content, ts: Date.now() };
  const targets = to === undefined ? [...room.people.online.values()] : [];
  const offline: string[] = [];
  for (const name of to ?? []) {
    const person = room.people.byName(name);
    if (person && !targets.includes(person)) targets.push(person);
    else if (!person) offline.push(name);
  }
  if (to === undefined) room.everyone.emit('announce', announcement);
  else room.tabsOf(...targets)?.emit('announce', announcement);
  room.seen.announce(announcement.id, to === undefined ? null : targets.map((p) => p.id));
  room.say(`announcement to ${to === undefined ? 'everyone' : targets.length + ' people'}: ${content}`);
  return { delivered: targets.map((p) => p.name), offline };
}

/** The group's messages for the teacher's transcript: private messages never leave their two people; polls come
 * with their counts. */
export function transcriptOf(room: Room): TextMsg[] {
  const reader = { id: '', isTeacher: true };
  return room.convs.group.map((e) => (e.msg.poll ? room.polls.viewFor(e.msg, reader, room.people) : e.msg));
}

/** The transcript as Markdown: one line per group message, with its time and who wrote it. */
export function toMarkdown(title: string, day: string, messages: TextMsg[]): string {
  const quote = ({ reply: q }: TextMsg) => (!q ? '' : 'gone' in q ? '(replying to a recalled message) ' : `(replying to ${q.name}: “${q.image ? 'picture' : q.content}”) `);
  const poll = ({ poll: p }: TextMsg) => (!p ? '' : ` (poll${p.closed ? ', closed' : ''}: ${p.options.map((o, i) => `${o} ${p.counts?.[i] ?? 0}`).join(' · ')})`);
  const line = (m: TextMsg) =>
    `- ${new Date(m.ts).toLocaleString()} **${m.name}**${m.teacher ? ' (teacher)' : ''}: ${quote(m)}${m.image ? `[picture](${m.image})` : m.file ? `[${m.file.name}](${m.file.url})` : m.voice ? `[voice message, ${Math.round(m.voice.duration / 1000)} s](${m.voice.url})` : m.content}${poll(m)}`;
  return `# ${title}: chat transcript, ${day}\n\n${messages.map(line).join('\n')}\n`;
}
