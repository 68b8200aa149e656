// The chat page's state owner: who I am, the room, the people online and the conversations. Views never
// change it behind its back; they call its methods and redraw on the events it dispatches:
// `me`, `room`, `people`, `conversation` (detail: the conversation), `active`, `unread`, `typing` (detail: the
// conversation), `reply` (the message the next one answers, or null), `hands` (the teacher's queue).
export const GROUP = 'group'; // private conversations are keyed '@' + the partner's name key, so no name collides
export const DEFAULT_ROOM = 'main';
const TYPING_SHOWN_MS = 3000; // someone's indicator lasts this long after their last event

export const toKey = (name) => name.normalize('NFKC').toLowerCase(); // how the server compares names
export const toConvKey = (name) => (name === null ? GROUP : '@' + toKey(name));

class ChatState extends EventTarget {
  me = { name: '', avatar: 'cat', teacher: false, hand: false };
  room = { id: DEFAULT_ROOM, title: '', quiet: false, muted: [], kicked: [], pinned: null, slow: 0 };
  people = new Map(); // name key -> { name, avatar, teacher? }
  convs = new Map(); // key -> { key, name, avatar, unread, mentions, typers: Map(name key -> { name, timer }) }
  active = GROUP;
  hands = []; // the teacher's queue of raised hands, oldest first: { name, avatar, at }
  waitlist = []; // the teacher's: who waits to come into a locked room, oldest first
  reply = null; // { id, name, content, image? }: what the next message of the active conversation answers

  emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }
  on(type, listener) { this.addEventListener(type, (event) => listener(event.detail)); }

  get activeConv() { return this.convs.get(this.active); }
  isMe(name) { return toKey(name) === toKey(this.me.name); }
  isMuted(name) { return this.room.muted.some((n) => toKey(n) === toKey(name)); }
  /** The active conversation is a private one with the teacher: no mute, quiet or slow mode holds there. */
  get isWithTeacher() {
    const c = this.activeConv;
    return !!c && c.key !== GROUP && !!this.people.get(toKey(c.name))?.teacher;
  }
  /** Muted, or quiet mode on: the server refuses what I write here. */
  get isSilenced() { return !this.me.teacher && (this.room.quiet || this.isMuted(this.me.name)) && !this.isWithTeacher; }
  /** Slow mode holds for what I write here. */
  get isSlowed() { return !this.me.teacher && this.room.slow > 0 && !this.isWithTeacher; }

  setMe(fields) {
    Object.assign(this.me, fields);
    this.emit('me');
  }

  /** A RoomState from the server; an older server sends no id or title, so those stay as they were. */
  setRoom(room) {
    this.room = { ...this.room, ...room };
    this.emit('room');
  }

  setPeople(users) {
    this.people = new Map(users.map((user) => [toKey(user.name), user]));
    this.emit('people');
  }

  /**
   * One presence frame: who left, then who came (a nickname freed and taken again within one frame is both).
   * Returns who is new here and who is gone, leaving out anyone the list already said (the welcome's list
   * may be newer than a frame under way).
   */
  applyPresence(joined = [], left = []) {
    const gone = left.filter((name) => this.people.delete(toKey(name)));
    const come = joined.filter((user) => !this.people.has(toKey(user.name)));
    for (const user of joined) this.people.set(toKey(user.name), user);
    for (const name of gone) for (const c of this.convs.values()) this.stopTyping(c, name);
    if (gone.length || joined.length) this.emit('people');
    return { come, gone };
  }

  /** The conversation with `name` (null: the group), created on first use. */
  conversation(name, avatar) {
    const key = toConvKey(name);
    let c = this.convs.get(key);
    if (!c) this.convs.set(key, (c = { key, name, avatar, unread: 0, mentions: 0, typers: new Map() }));
    if (avatar) c.avatar = avatar;
    this.emit('conversation', c);
    return c;
  }

  /** The private conversation with someone, under the spelling and avatar they are online with. */
  conversationWith(name) {
    const person = this.people.get(toKey(name));
    return this.conversation(person?.name ?? name, person?.avatar);
  }

  open(key) {
    const c = this.convs.get(key) ?? this.convs.get(GROUP);
    if (c.key !== this.active) this.setReply(null); // a reply belongs to its conversation
    this.active = c.key;
    c.unread = c.mentions = 0;
    this.emit('active', c);
    this.emit('unread');
  }

  /** One more unread message, unless the reader is looking at that conversation right now. */
  countUnread(c) {
    if (c.key === this.active && !document.hidden) return;
    c.unread++;
    this.emit('unread');
  }

  /** One more message that mentions me, counted apart (a badge of its own), unless I am looking. */
  countMention(c) {
    if (c.key === this.active && !document.hidden) return;
    c.mentions++;
    this.emit('unread');
  }

  readActive() {
    if (!document.hidden) this.activeConv.unread = this.activeConv.mentions = 0;
    this.emit('unread');
  }

  clearUnread(c) {
    c.unread = c.mentions = 0;
    this.emit('unread');
  }

  setWaitlist(queue) {
    this.waitlist = queue;
    this.emit('waitlist');
  }

  setHands(queue) {
    this.hands = queue;
    this.emit('hands');
  }

  setReply(quote) {
    this.reply = quote;
    this.emit('reply', quote);
  }

  /** Whom `content` mentions: at each @, the longest name of someone online (not me), and @all for the teacher. */
  mentionsIn(content) {
    const names = [...this.people.values()].map((p) => p.name).filter((n) => !this.isMe(n)).sort((a, b) => b.length - a.length);
    const found = new Set();
    for (let at = content.indexOf('@'); at >= 0; at = content.indexOf('@', at + 1)) {
      const name = names.find((n) => content.startsWith(n, at + 1));
      if (name) found.add(name);
    }
    return { mentions: [...found], mentionsAll: this.me.teacher && /(^|\s)@all\b/.test(content) };
  }

  typing(c, name) {
    clearTimeout(c.typers.get(toKey(name))?.timer);
    c.typers.set(toKey(name), { name, timer: setTimeout(() => this.stopTyping(c, name), TYPING_SHOWN_MS) });
    this.emit('typing', c);
  }

  stopTyping(c, name) {
    const typer = c.typers.get(toKey(name));
    if (!typer) return;
    clearTimeout(typer.timer);
    c.typers.delete(toKey(name));
    this.emit('typing', c);
  }

  stopAllTyping() {
    for (const c of this.convs.values()) for (const typer of c.typers.values()) this.stopTyping(c, typer.name);
  }
}

export const state = new ChatState();
