// The connection and the outbox. One Socket.IO connection that says who it is again on every reconnect
// (session, last message seen), a dispatch table keyed by the server's event names, and our own messages
// sent one at a time in the order written, each retried under its cid so the server never delivers it twice.
import { io } from '/socket.io/socket.io.esm.min.js';
import { DEFAULT_ROOM, getLang, store, tabStore } from './i18n.js';
import { $, isBannerShown, setBanner } from './dom.js';
import { announce, clearGroup, confirmOwn, isSeen, markSeen, notice, recalled, receive, showOwn, showOwnState } from './messages.js';
import { setCount } from './people.js';
import { resetReads } from './conversations.js';
import { GROUP, state, toConvKey, toKey } from './state.js';

const ACK_TIMEOUT_MS = 10_000;
const REFUSALS = ['invalid_name', 'name_taken', 'kicked', 'no_room', 'bad_key', 'rate_limited'];
const RETRY_MS = [1000, 2000, 4000, 8000]; // after a server_error at the door, then every 8 s

const outbox = []; // own messages not acknowledged yet, in the order they were written
let inFlight = null; // { item }: one message at a time keeps the order; a new object per attempt
let lastId; // the newest message we have, for catch-up after a reconnect
let isWelcomed = false;
const screen = $('[data-refused]');

// Stored per room (a student may be in two classes' chats), the session per nickname too. Room ids have no dot.
const sessionKey = () => `chat.session.${state.room.id}.${toKey(state.me.name)}`;
const kickedKey = () => `chat.kicked.${state.room.id}`;
const teacherKeyName = () => `teacherKey.${state.room.id}`;
const waitKey = () => `chat.wait.${state.room.id}`; // this tab's place in a locked room's waiting list
export const teacherKey = () => tabStore.get(teacherKeyName()) || undefined;
const newCid = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');

export const socket = io({
  autoConnect: false,
  transports: ['websocket', 'polling'], // WebSocket first (one round trip less); polling if it cannot open
  tryAllTransports: true,
  reconnectionDelayMax: 3000, // a restarted classroom server is back within seconds
  // A function, so every reconnect sends the current session and the last message seen; a removed session
  // goes under any nickname, as the server refuses it until allowed back.
  auth: (cb) => cb({
    name: state.me.name, avatar: state.me.avatar, session: store.get(sessionKey()) || store.get(kickedKey()) || undefined,
    lastId, lang: getLang(), teacherKey: teacherKey(), waitToken: tabStore.get(waitKey()) || undefined,
    room: state.room.id === DEFAULT_ROOM ? undefined : state.room.id, // none: the default room, as before rooms
  }),
});

/** An event with an ack; null when the server did not answer in time (or the connection dropped). */
export const emitAck = (event, payload) => socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload).catch(() => null);

/** Whether the typing signal went out (offline it is not worth queueing). */
export function emitTyping(to) {
  if (!socket.connected) return false;
  socket.emit('typing', to === undefined ? {} : { to });
  return true;
}

// --- the outbox

/** Queues a message (or, with `image`, a picture's bytes) to the active conversation, as a reply if one is
 * being written, with whom it mentions (the group only). */
export function send(content, image, media) {
  const c = state.activeConv;
  const item = { cid: newCid(), content, to: c.key === GROUP ? undefined : c.name, image, media, state: 'sending' };
  if (state.reply && !image) {
    item.reply = state.reply;
    state.setReply(null);
  }
  if (c.key === GROUP && content.includes('@')) Object.assign(item, state.mentionsIn(content));
  showOwn(item, c);
  outbox.push(item);
  pump();
}

function pump() {
  if (inFlight || !socket.connected) return;
  const item = outbox.find((i) => i.state === 'sending');
  if (!item) return;
  const attempt = (inFlight = { item });
  const sending = item.image
    ? import('./pictures.js').then(({ upload }) => upload(item, emitAck, () => inFlight === attempt)).catch(() => null)
    : item.media ? import('./uploads.js').then((u) => u.sendMedia(item, emitAck, () => inFlight === attempt, store.get(sessionKey()))).catch(() => null)
      : emitAck('textmsg', toPayload(item));
  sending.then((ack) => {
    if (inFlight !== attempt) return; // the connection dropped meanwhile: sent again after the reconnect
    inFlight = null;
    if (ack?.id) settle(item, ack);
    else fail(item, ack?.error ?? 'timeout');
    pump();
  });
}

/** A text message as the server takes it: only the fields it has. */
function toPayload({ content, to, cid, reply, mentions, mentionsAll }) {
  const payload = { content, cid };
  if (to !== undefined) payload.to = to;
  if (reply) payload.replyTo = reply.id;
  if (mentions?.length) payload.mentions = mentions;
  if (mentionsAll) payload.mentionsAll = true;
  return payload;
}

function settle(item, ack) {
  confirmOwn(item, ack);
  outbox.splice(outbox.indexOf(item), 1);
}

function fail(item, error) {
  item.state = 'failed';
  showOwnState(item, error);
  if (error === 'server_error') setTimeout(() => retry(item.cid), RETRY_MS.at(-1) / 2); // its storage is away for a moment: again by itself
}

/** Asks to take back our message `id`; the server's `recalled` redraws it. Refused: why, or null if unanswered. */
export async function recall(id) {
  const ack = await emitAck('recall', { id });
  return ack?.ok ? null : ack?.error ?? 'timeout';
}

export function retry(cid) {
  const item = outbox.find((i) => i.cid === cid);
  if (!item || item.state !== 'failed') return;
  item.state = 'sending';
  showOwnState(item);
  pump();
}

/** The server broadcasts before it acks, so our message usually comes back first: its ack confirms the match. */
function isEchoOfInFlight(m) {
  const item = inFlight?.item;
  const isSamePlace = item && (item.to === undefined ? m.to === undefined : m.to !== undefined && toKey(m.to) === toKey(item.to));
  if (!isSamePlace || item.echo || item.content !== m.content) return false;
  item.echo = m;
  markSeen(m.id, item.el);
  return true;
}

function onMessage(m, isLive, isOwn = state.isMe(m.name), isMentioned = undefined) {
  if (isSeen(m.id) || (isOwn && isEchoOfInFlight(m))) return;
  receive(m, isLive, isOwn, isMentioned);
}

// --- what the server says

const ON = {
  welcome(w) {
    retries = 0;
    store.set(sessionKey(), w.session);
    store.set('chat.name', w.name);
    store.set('chat.avatar', w.avatar);
    store.set(kickedKey(), '');
    tabStore.set(waitKey(), '');
    state.setMe({ name: w.name, avatar: w.avatar, teacher: w.teacher });
    state.setPeople(w.users);
    state.setRoom(w.room);
    setCount(w.count);
    for (const m of w.history) onMessage(m, isWelcomed, m.own === true, m.mentioned === true);
    lastId = w.history.at(-1)?.id ?? lastId;
    isWelcomed = true;
    hideScreen();
    setBanner(null);
    resetReads();
    pump();
  },
  online({ count, joined, left }) { // who came and went are left out in a crowded room: the count stays exact
    setCount(count);
    const { come, gone } = state.applyPresence(joined, left);
    for (const name of gone) notice('left', name);
    for (const user of come) if (!state.isMe(user.name)) notice('joined', user.name); // the frame comes to me too
  },
  textmsg(m) {
    lastId = m.id;
    onMessage(m, true);
  },
  typing({ name, to }) {
    const c = state.convs.get(to === undefined ? GROUP : toConvKey(name));
    if (c) state.typing(c, name); // a private chat we have not opened: nothing to show it in
  },
  restarting() { setBanner('restarting'); },
  room(room) { state.setRoom(room); },
  kicked() {
    store.set(kickedKey(), store.get(sessionKey()));
    showScreen('kicked'); // first: the disconnect below must not start a reconnect
    socket.disconnect();
  },
  closed() { // the admin deleted the room; the server disconnects every tab right after
    showScreen('closed');
    socket.disconnect();
  },
  cleared: clearGroup,
  hand({ up }) { state.setMe({ hand: up }); },
  waiting({ token }) { // a locked room: connected, and waiting for the teacher (a welcome ends it)
    tabStore.set(waitKey(), token);
    showScreen('waiting');
    setBanner(null);
  },
  turnedAway({ why }) {
    tabStore.set(waitKey(), '');
    showScreen(why === 'refused' ? 'refused' : 'taken'); // first: the disconnect that follows must not reconnect
  },
  waitlist({ queue }) { state.setWaitlist(queue); },
  voted: (v) => { import('./poll-card.js').then((polls) => polls.voted(v)); },
  pollVotes: (v) => { import('./poll-card.js').then((polls) => polls.votes(v)); },
  pollClosed: (v) => { import('./poll-card.js').then((polls) => polls.closed(v)); },
  hands({ queue }) { state.setHands(queue); },
  seen: (s) => { import('./seen.js').then((seen) => seen.show(s, emitAck)); },
  announce,
  recalled,
  disconnect(reason) {
    if (isScreenShown() && !isWaiting()) return; // refused or removed: no way back in by retrying
    if (reason === 'io server disconnect') socket.connect(); // still the same person: try again
    if (!isBannerShown()) setBanner('offline');
    inFlight = null;
    state.stopAllTyping();
  },
  connect_error(err) {
    if (err.message === 'server_error') return retryLater(); // its storage is away for a moment (a cluster's Redis)
    if (!REFUSALS.includes(err.message)) return; // server away: retrying already
    showScreen(err.message, err.data?.message);
  },
};

// --- the screen over the chat: shown at once (the page stops retrying), its words loaded on demand

const isScreenShown = () => !screen.hidden;
const isWaiting = () => !!tabStore.get(waitKey()); // a waiting page reconnects as any page does
const hideScreen = () => { screen.hidden = true; };

function showScreen(code, sentence) {
  setBanner(null);
  screen.hidden = false;
  $('[data-refused-text]', screen).textContent = sentence ?? ''; // until screens.js has said it better
  import('./screens.js').then((screens) => screens.fillScreen(code, sentence), () => {});
}

export function connect() {
  for (const [event, handler] of Object.entries(ON)) socket.on(event, handler);
  state.on('read', (r) => { if (socket.connected) socket.emit('read', r); }); // lost offline: resent after the welcome
  socket.connect();
}

/** A handshake refused with server_error is not retried by Socket.IO (a middleware said no): we do, as the same person. */
let retries = 0;
function retryLater() {
  setBanner('connecting');
  setTimeout(() => { if (!socket.connected) socket.connect(); }, RETRY_MS[Math.min(retries++, RETRY_MS.length - 1)]);
}

/** Off the screen and in again, as the same person. */
function reconnect() {
  hideScreen();
  setBanner('connecting');
  socket.connect();
}

/** The teacher link is no longer valid: forget it for this room and come back without it. */
export function joinAsStudent() {
  tabStore.set(teacherKeyName(), '');
  reconnect();
}
