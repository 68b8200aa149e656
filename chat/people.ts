// The people of one room: sessions (a person across tabs, reloads and reconnects), who is online, and
// nickname claims. A nickname is held by at most one session online, compared by its key (names.ts).
import { nanoid } from 'nanoid';
import { SESSION_RE, type Avatar, type UserInfo } from './contract.ts';
import type { Entry } from './conversations.ts';
import { toNameKey } from './names.ts';

export interface Session {
  id: string;
  name: string;
  key: string; // the nickname's comparison key
  avatar: Avatar;
  tabs: string[]; // ids of this person's sockets
  lastSeen: number;
  tokens: number; // flood control bucket
  refilledAt: number;
  typingAt: number;
  spokeAt: number; // the last message slow mode counted
  cids?: Map<string, Entry>; // client message ids (retry dedupe), made on first use
  isTeacher: boolean;
  rosterAt?: string; // in a cluster: the last roster event applied to this session
}

export const toUserInfo = (s: Session): UserInfo =>
  s.isTeacher ? { name: s.name, avatar: s.avatar, teacher: true } : { name: s.name, avatar: s.avatar };

export class People {
  readonly sessions = new Map<string, Session>();
  readonly online = new Map<string, Session>(); // name key -> session with at least one tab
  private usersCache: UserInfo[] | null = null; // the first `listLimit` people; most joins in a big room leave it as is

  /** `shared`: in a cluster, who is online is set by the cluster (setOnline), not by this node's tabs. */
  constructor(private readonly listLimit: number, private readonly burst: number, private readonly shared = false) {}

  isOnline = (s: Session) => this.online.get(s.key) === s;

  get(id: string | undefined): Session | undefined {
    return id === undefined ? undefined : this.sessions.get(id);
  }

  /** Whether a handshake's session token is a person this room knows, under this nickname. */
  knows(token: unknown, name: string): boolean {
    const known = typeof token === 'string' ? this.sessions.get(token) : undefined;
    return !!known && known.key === toNameKey(name);
  }

  /** The person online under this nickname (or a look-alike of it). */
  byName(name: string): Session | undefined {
    return this.online.get(toNameKey(name));
  }

  /** Whom a private message to this nickname is for: the person online under it, else the session that held it
   * last (offline: the message waits for that session, never for a newcomer who takes the name later). */
  recipient(name: string): Session | undefined {
    const key = toNameKey(name);
    const online = this.online.get(key);
    if (online) return online;
    let last: Session | undefined;
    for (const s of this.sessions.values()) if (s.key === key && (!last || s.lastSeen > last.lastSeen)) last = s;
    return last;
  }

  /** The session a handshake speaks for: the one it names if that holds this nickname and nobody else holds
   * it now; else a new one if the nickname is free. An old token never beats who holds the nickname now. */
  resolve(token: unknown, name: string, avatar: Avatar): Session | 'name_taken' {
    const key = toNameKey(name);
    const known = typeof token === 'string' && SESSION_RE.test(token) ? this.sessions.get(token) : undefined;
    const holder = this.online.get(key);
    if (holder && holder !== known) return 'name_taken';
    if (known && known.key === key) {
      if (!this.isOnline(known)) [known.name, known.avatar] = [name, avatar]; // while online, the first tab's spelling stays
      return known;
    }
    return this.add(nanoid(), name, avatar);
  }

  add(id: string, name: string, avatar: Avatar): Session {
    const now = Date.now();
    const session: Session = {
      id, name, key: toNameKey(name), avatar, tabs: [], lastSeen: now, tokens: this.burst, refilledAt: now, typingAt: 0, spokeAt: 0, isTeacher: false,
    };
    this.sessions.set(id, session);
    return session;
  }

  /** Adds a tab; true when it is the person's first here (alone, they just came online). */
  claim(session: Session, socketId: string): boolean {
    session.tabs = session.tabs.concat(socketId); // exact size: a push would reserve 17 slots per person
    session.lastSeen = Date.now();
    if (session.tabs.length > 1) return false;
    if (!this.shared) this.setOnline(session, true);
    return true;
  }

  /** Removes a tab; true when it was the person's last here (alone, they just went offline). */
  release(session: Session, socketId: string): boolean {
    if (!session.tabs.includes(socketId)) return false;
    session.tabs = session.tabs.filter((id) => id !== socketId);
    session.lastSeen = Date.now();
    if (session.tabs.length) return false;
    if (!this.shared) this.setOnline(session, false);
    return true;
  }

  /** Marks a person online or not; true if that changed anything. */
  setOnline(session: Session, isOnline: boolean): boolean {
    if (this.isOnline(session) === isOnline) return false;
    if (isOnline) this.online.set(session.key, session);
    else this.online.delete(session.key);
    session.lastSeen = Date.now();
    this.usersCache = null;
    return true;
  }

  usersOnline(): UserInfo[] {
    if (this.usersCache) return this.usersCache;
    this.usersCache = [];
    for (const s of this.online.values()) {
      if (this.usersCache.length >= this.listLimit) break;
      this.usersCache.push(toUserInfo(s));
    }
    return this.usersCache;
  }

  /** Sessions to forget: offline past the TTL; past the cap also offline ones, first those with nothing to
   * read (a flood of throw-away nicknames), then the longest gone, never one with conversations seen within `recentMs`. */
  toForget(now: number, ttlMs: number, cap: number, recentMs: number, hasConversations: (id: string) => boolean): Session[] {
    const offline = [...this.sessions.values()].filter((s) => !s.tabs.length && !this.isOnline(s)); // Map order: oldest first
    const gone = new Set(offline.filter((s) => now - s.lastSeen > ttlMs));
    let excess = this.sessions.size - gone.size - cap;
    if (excess <= 0) return [...gone];
    const rest = offline.filter((s) => !gone.has(s));
    const silent = rest.filter((s) => !hasConversations(s.id));
    const talkers = rest.filter((s) => hasConversations(s.id) && now - s.lastSeen > recentMs).sort((a, b) => a.lastSeen - b.lastSeen);
    for (const s of [...silent, ...talkers]) {
      if (excess-- <= 0) break;
      gone.add(s);
    }
    return [...gone];
  }
}
