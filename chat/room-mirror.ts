// In a cluster: what other nodes did in a room, applied in the order Redis stored it. Every node applies the same
// events, so every node's view of the room (people, messages, votes, reads) is the same.
import { toAvatar } from './contract.ts';
import type { ClusterEvent, Who } from './cluster.ts';
import type { Conversations } from './conversations.ts';
import type { Hands } from './hands.ts';
import { toNameKey } from './names.ts';
import type { People, Session } from './people.ts';
import type { Polls } from './polls.ts';
import type { Presence } from './presence.ts';
import { restoreRecord } from './records.ts';
import type { SeenBy } from './seen.ts';
import type { LogRecord, MessageLog } from './store.ts';
import { isAfter } from './stream-ids.ts';
import type { WaitingRoom } from './waiting-room.ts';

/** The parts of a room that other nodes' events change. */
export interface MirroredRoom {
  id: string;
  nodeId: string;
  people: People;
  convs: Conversations;
  presence: Presence;
  messageLog: MessageLog;
  waiting: WaitingRoom;
  polls: Polls;
  hands: Hands;
  seen: SeenBy;
}

export class RoomMirror {
  constructor(private readonly room: MirroredRoom) {}

  apply(event: Exclude<ClusterEvent, { t: 'meta' | 'deleted' }>) {
    const { room } = this;
    switch (event.t) {
      case 'msg':
        room.messageLog.observe?.(event.gen, event.len);
        if (!room.convs.has(event.rec.id)) this.applyMessage(event.rec, event.at, event.node);
        break;
      case 'compacted':
        room.messageLog.observe?.(event.gen, event.len);
        break;
      case 'cleared':
        room.messageLog.observe?.(event.gen, event.len);
        room.convs.clearGroup(event.at);
        break;
      case 'roster':
        this.roster(event.s, event.on, event.at, event.who);
        break;
      case 'recalled':
        room.messageLog.observe?.(event.gen, event.len);
        room.convs.remove(event.id);
        break;
      case 'wait': case 'admit': case 'refuse': case 'unwait':
        room.waiting.apply(event);
        break;
      case 'vote': case 'pollClosed':
        room.polls.applyEvent(event);
        break;
      case 'hand':
        room.hands.apply(event);
        break;
      case 'reads': case 'announced':
        room.seen.applyEvent(event);
        break;
    }
  }

  /** A person came online or left somewhere in the cluster (`at`: the event; older news is ignored). */
  roster(id: string, isOnline: boolean, at: string, who?: Who) {
    const { people, presence, seen } = this.room;
    const session = people.get(id) ?? (who ? people.add(id, who.name, toAvatar(who.avatar)) : undefined);
    if (!session || !isAfter(at, session.rosterAt)) return;
    session.rosterAt = at;
    if (isOnline && !session.isTeacher) seen.schedulePush();
    if (who && !people.isOnline(session)) adopt(session, who);
    const holder = people.online.get(session.key);
    if (isOnline && holder && holder !== session && people.setOnline(holder, false)) presence.note(holder, false); // its leave is on its way
    if (people.setOnline(session, isOnline)) presence.note(session, isOnline);
  }

  /** Who the cluster knows in this room, and who is online, as the room opens. */
  restore({ sessions, online }: { sessions: Map<string, Who>; online: Set<string> }) {
    const { people, presence } = this.room;
    for (const [id, who] of sessions) {
      adopt(people.get(id) ?? people.add(id, who.name, toAvatar(who.avatar)), who);
    }
    for (const id of online) {
      const session = people.get(id);
      if (session && people.setOnline(session, true)) presence.note(session, true);
    }
  }

  private applyMessage(record: LogRecord, at: string, node: string) {
    const { room } = this;
    const entry = restoreRecord(record, room.id, room.people, room.convs);
    entry.at = at;
    if (node !== room.nodeId) entry.node = node;
    if (entry.msg.teacher) room.seen.schedulePush();
  }
}

/** A session as the cluster knows it: its nickname, avatar and role. */
function adopt(session: Session, who: Who) {
  Object.assign(session, { name: who.name, key: toNameKey(who.name), avatar: toAvatar(who.avatar), isTeacher: who.teacher === true });
}
