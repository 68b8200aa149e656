// The chat page: one Socket.IO connection, a dispatch table keyed by the server's event names, and
// conversations (the group and one per private partner), each rendered into its own log.
import { io } from '/socket.io/socket.io.esm.min.js';
import { avatarUrl, bindLanguageSelect, getLang, store, t, tabStore, toAvatar, toNickname, translate } from './i18n.js';
import { bindEmojiPicker } from './emoji.js';

const ACK_TIMEOUT_MS = 10_000;
const TYPING_EVERY_MS = 2000; // we announce our typing at most this often
const TYPING_SHOWN_MS = 3000; // someone's indicator lasts this long after their last event
const NEAR_BOTTOM_PX = 48;
const GROUP = 'group'; // private conversations are keyed '@' + the partner's name key, so no name collides
const ERRORS = ['rate_limited', 'not_online', 'too_long', 'empty', 'invalid_message', 'timeout', 'muted', 'bad_image', 'too_large'];
const CHUNK = 32 * 1024; // a picture travels in chunks of this size, each acked before the next
const MAX_SIDE = 1280; // px, the long side of a picture sent
const MAX_BYTES = 300 * 1024;
const TOAST_MS = 4000;

const $ = (selector, root = document) => root.querySelector(selector);
export const toKey = (name) => name.normalize('NFKC').toLowerCase(); // how the server compares names
const toConvKey = (name) => '@' + toKey(name);
const newCid = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');

const ui = {
  logs: $('[data-logs]'), convs: $('[data-list="convs"]'), people: $('[data-list="people"]'),
  count: $('#online-count'), title: $('[data-conv-title]'), note: $('[data-conv-note]'), back: $('[data-action="group"]'),
  empty: $('[data-empty]'), pill: $('[data-action="bottom"]'), typing: $('[data-typing]'), banner: $('[data-banner]'),
  refused: $('[data-refused]'), composer: $('[data-composer]'), input: $('#content'),
  sidebar: $('#sidebar'), toggle: $('[data-action="people"]'), totalBadge: $('[data-total-badge]'),
  pinned: $('[data-pinned]'), roomNote: $('[data-room-note]'), toast: $('[data-toast]'), file: $('[data-file]'),
};

// --- state

const params = new URLSearchParams(location.search);
const me = { name: toNickname(params.get('name') ?? ''), avatar: toAvatar(params.get('avatar')) };
const sessionKey = () => `chat.session.${toKey(me.name)}`;
export const convs = new Map(); // key -> { key, name, avatar, log, button, unread, typers: Map(name key -> { name, timer }) }
export const people = new Map(); // name key -> { name, avatar }
const seen = new Map(); // message id -> its <li>: catch-up and our own echoes never show twice
const outbox = []; // own messages not acknowledged yet, in the order they were written
export let active = GROUP;
export let room = { quiet: false, muted: [], kicked: [], pinned: null };
let inFlight = null; // { item }: one message at a time keeps the order; a new object per attempt
let teacher = null; // the teacher's module, loaded only for the teacher
let lastId; // the newest message we have, for catch-up after a reconnect
let isWelcomed = false;
let typingSentAt = 0;

// --- rendering helpers

export function clone(id) {
  const el = document.getElementById(id).content.firstElementChild.cloneNode(true);
  translate(el);
  return el;
}

/** Text from the dictionary; key and variables stay in data-* so a language switch can redo it. */
export function setText(el, key, vars = {}) {
  el.dataset.i18n = key;
  Object.assign(el.dataset, vars);
  el.textContent = t(key, el.dataset);
}

function toClock(ts) {
  const date = new Date(ts);
  const isToday = date.toDateString() === new Date().toDateString();
  const options = isToday ? { hour: 'numeric', minute: '2-digit' } : { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' };
  return date.toLocaleString(getLang() === 'zh' ? 'zh-CN' : 'en', options);
}

function setTime(li, ts) {
  const time = $('[data-time]', li);
  time.dateTime = new Date(ts).toISOString();
  time.textContent = toClock(ts);
}

function renderMessage(m, isOwn) {
  const li = clone('tpl-msg');
  li.classList.toggle('own', isOwn);
  if (m.id) li.dataset.id = m.id;
  $('[data-avatar]', li).src = avatarUrl(m.avatar);
  $('[data-name]', li).textContent = m.name;
  if (m.teacher) addTag($('[data-name]', li), 'teacher');
  const text = $('[data-text]', li);
  text.textContent = m.content;
  if (/^(\/images\/|blob:)/.test(m.image)) { // a thumbnail, opening the full size in a new tab
    const link = text.appendChild(clone('tpl-pic'));
    link.href = link.firstChild.src = m.image;
  }
  setTime(li, m.ts);
  return li;
}

/** Made only when needed: hidden text would still be in textContent. */
function addTag(el, key) {
  const tag = document.createElement('span');
  tag.className = key === 'teacher' ? 'tag' : 'tag is-muted';
  setText(tag, key);
  el.after(tag);
}

const isMutedName = (name) => room.muted.some((n) => toKey(n) === toKey(name));

function setBadge(badge, count) {
  badge.hidden = !count;
  badge.firstElementChild.textContent = count > 99 ? '99+' : String(count);
  setText(badge.lastElementChild, 'unread', { count: String(count) });
}

let toastTimer;
export function toast(key, vars) {
  setText(ui.toast, key, vars);
  ui.toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { ui.toast.hidden = true; }, TOAST_MS);
}

const setBanner = (key) => {
  ui.banner.hidden = !key;
  if (key) setText(ui.banner, key);
};

// --- conversations

/** The conversation with `name` (null: the group), created on first use. */
function conversation(name, avatar) {
  const key = name === null ? GROUP : toConvKey(name);
  let c = convs.get(key);
  if (!c) {
    const item = clone('tpl-conv');
    c = { key, name, avatar, log: clone('tpl-log'), button: $('[data-conv]', item), unread: 0, typers: new Map() };
    c.button.dataset.conv = key;
    c.log.hidden = key !== active;
    ui.logs.prepend(c.log);
    ui.convs.append(item);
    convs.set(key, c);
  }
  if (avatar) c.avatar = avatar;
  const isGroup = key === GROUP;
  $('[data-avatar]', c.button).src = isGroup ? 'avatars/group.svg' : avatarUrl(c.avatar);
  if (isGroup) setText($('[data-name]', c.button), 'group');
  else $('[data-name]', c.button).textContent = name;
  Object.assign(c.log.dataset, { i18nLabel: isGroup ? 'group' : 'privateWith', name: name ?? '' });
  c.log.setAttribute('aria-label', t(c.log.dataset.i18nLabel, c.log.dataset));
  return c;
}

function open(key) {
  const c = convs.get(key) ?? convs.get(GROUP);
  const isGroup = c.key === GROUP;
  active = c.key;
  for (const other of convs.values()) {
    other.log.hidden = other !== c;
    if (other === c) other.button.setAttribute('aria-current', 'true');
    else other.button.removeAttribute('aria-current');
  }
  setText(ui.title, isGroup ? 'groupTitle' : 'privateWith', { name: c.name ?? '' });
  setText(ui.note, isGroup ? 'groupNote' : 'privateNote', { name: c.name ?? '' });
  ui.back.hidden = isGroup;
  ui.empty.hidden = c.log.childElementCount > 0;
  c.unread = 0;
  typingSentAt = 0;
  renderBadges();
  renderTyping();
  scrollDown();
  setDrawer(false);
  teacher?.render();
  if (matchMedia('(pointer: fine)').matches) ui.input.focus(); // a phone keyboard popping up would hide the chat
}

function openPrivate(name) {
  const person = people.get(toKey(name));
  open(conversation(person?.name ?? name, person?.avatar).key);
}

const activeLog = () => convs.get(active).log;
const isAtBottom = (log) => log.scrollHeight - log.scrollTop - log.clientHeight < NEAR_BOTTOM_PX;

function scrollDown() {
  activeLog().scrollTop = activeLog().scrollHeight;
  ui.pill.hidden = true;
}

/** Adds a line to a conversation; follows it down only if the reader was at the bottom (or wrote it). */
function append(c, li, isMine = false) {
  const wasAtBottom = isAtBottom(c.log);
  c.log.append(li);
  if (c.key !== active) return;
  ui.empty.hidden = true;
  if (wasAtBottom || isMine) scrollDown();
  else ui.pill.hidden = false;
}

function notice(key, name) {
  const li = clone('tpl-notice');
  setText(li, key, { name });
  append(convs.get(GROUP), li);
}

function countUnread(c) {
  if (c.key === active && !document.hidden) return;
  c.unread++;
  renderBadges();
}

function renderBadges() {
  let total = 0;
  let elsewhere = 0;
  for (const c of convs.values()) {
    total += c.unread;
    if (c.key !== active) elsewhere += c.unread;
    setBadge($('[data-badge]', c.button), c.unread);
  }
  setBadge(ui.totalBadge, elsewhere);
  document.title = document.hidden && total ? `(${total}) ${t('appName')}` : t('appName');
}

// --- people and typing

function renderPeople() {
  const hadFocus = ui.people.contains(document.activeElement) ? document.activeElement.dataset.person : null;
  const self = clone('tpl-me');
  $('[data-avatar]', self).src = avatarUrl(me.avatar);
  setText($('[data-name]', self), 'you', { name: me.name });
  if (teacher) addTag($('[data-name]', self), 'teacher');
  const others = [...people.values()].filter((p) => toKey(p.name) !== toKey(me.name))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((p) => {
      const li = clone('tpl-person');
      const name = $('[data-name]', li);
      $('[data-person]', li).dataset.person = p.name;
      $('[data-avatar]', li).src = avatarUrl(p.avatar);
      name.textContent = p.name;
      if (teacher && isMutedName(p.name)) addTag(name, 'mutedTag');
      if (p.teacher) addTag(name, 'teacher');
      return li;
    });
  ui.people.replaceChildren(self, ...others);
  teacher?.render();
  if (hadFocus) [...ui.people.querySelectorAll('[data-person]')].find((b) => b.dataset.person === hadFocus)?.focus();
}

function renderMe() {
  $('[data-me]').hidden = false;
  $('[data-me-avatar]').src = avatarUrl(me.avatar);
  $('[data-me-name]').textContent = me.name;
}

function renderTyping() {
  const names = [...convs.get(active).typers.values()].map((typer) => typer.name);
  const [a, b] = names;
  ui.typing.textContent = !a ? '' : !b ? t('typing1', { a }) : names.length === 2 ? t('typing2', { a, b }) : t('typingMany');
}

function stopTyping(c, name) {
  const typer = c.typers.get(toKey(name));
  if (!typer) return;
  clearTimeout(typer.timer);
  c.typers.delete(toKey(name));
  renderTyping();
}

function announceTyping() {
  const now = Date.now();
  if (!ui.input.value.trim() || !socket.connected || now - typingSentAt < TYPING_EVERY_MS) return;
  typingSentAt = now;
  const c = convs.get(active);
  socket.emit('typing', c.key === GROUP ? {} : { to: c.name });
}

// --- messages in and out

function receive(m, isLive) {
  if (seen.has(m.id)) return;
  const isOwn = toKey(m.name) === toKey(me.name);
  if (isOwn && isEchoOfInFlight(m)) return;
  const partner = m.to === undefined ? null : isOwn ? m.to : m.name;
  const c = conversation(partner, isOwn ? people.get(toKey(partner ?? ''))?.avatar : m.avatar);
  const li = renderMessage(m, isOwn);
  seen.set(m.id, li);
  stopTyping(c, m.name);
  append(c, li);
  if (isLive && !isOwn) countUnread(c);
}

/** The server broadcasts before it acks, so our message usually comes back first: its ack confirms the match. */
function isEchoOfInFlight(m) {
  const item = inFlight?.item;
  const isSamePlace = item && (item.to === undefined ? m.to === undefined : m.to !== undefined && toKey(m.to) === toKey(item.to));
  if (!isSamePlace || item.echo || item.content !== m.content) return false;
  item.echo = m;
  seen.set(m.id, item.el);
  return true;
}

/** `image`: a picture's bytes instead of text. */
function send(content, image) {
  const c = convs.get(active);
  const url = image && URL.createObjectURL(image);
  const el = renderMessage({ name: me.name, avatar: me.avatar, content, image: url, ts: Date.now() }, true);
  const item = { cid: newCid(), content, to: c.key === GROUP ? undefined : c.name, el, state: 'sending', image };
  if (image) item.progress = $('[data-text]', el).appendChild(document.createElement('progress'));
  el.dataset.cid = item.cid;
  setState(item, 'sending');
  outbox.push(item);
  append(c, el, true);
  typingSentAt = 0;
  pump();
}

const emitAck = (event, payload) => socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload).catch(() => null);

/** Sends the oldest waiting message; a retry after a drop reuses its cid, so the server never delivers it twice. */
function pump() {
  if (inFlight || !socket.connected) return;
  const item = outbox.find((i) => i.state === 'sending');
  if (!item) return;
  const attempt = (inFlight = { item });
  const { content, to, cid } = item;
  const sending = item.image ? upload(attempt) : emitAck('textmsg', to === undefined ? { content, cid } : { content, to, cid });
  sending.then((ack) => {
    if (inFlight !== attempt) return; // the connection dropped meanwhile: sent again after the reconnect
    inFlight = null;
    if (ack?.id) settle(item, ack);
    else setState(item, 'failed', ack?.error ?? 'timeout');
    pump();
  });
}

/** Each chunk's ack (`received`) comes before the next; the last ack is the message's. */
async function upload(attempt) {
  const { cid, to, image, progress } = attempt.item;
  const bytes = await image.arrayBuffer();
  progress.max = bytes.byteLength;
  let ack = null;
  for (let offset = 0; inFlight === attempt; offset = ack.received) {
    progress.value = offset;
    const chunk = { cid, total: bytes.byteLength, offset, data: bytes.slice(offset, offset + CHUNK) };
    if (to !== undefined) chunk.to = to;
    ack = await emitAck('image', chunk);
    if (!ack?.ok || ack.id) break;
  }
  return ack;
}

/** Any picture redrawn as a JPEG of at most MAX_SIDE px and about MAX_BYTES (so no EXIF location leaves either). */
async function toSmallImage(file) {
  const bitmap = await createImageBitmap(file);
  const canvas = document.createElement('canvas');
  let scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  for (let quality = 0.85; ; quality -= 0.15) {
    if (quality < 0.4) [quality, scale] = [0.7, scale * 0.7]; // still too big: fewer pixels
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    const g = canvas.getContext('2d');
    g.fillStyle = '#fff'; // JPEG has no transparency
    g.fillRect(0, 0, canvas.width, canvas.height);
    g.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality));
    if (blob.size <= MAX_BYTES) return blob;
  }
}

function sendPicture(file) {
  toSmallImage(file).then((image) => send('', image), () => toast('bad_image'));
}

function settle(item, ack) {
  if (item.echo && item.echo.id !== ack.id) { // not ours after all: another tab wrote the same words
    seen.delete(item.echo.id);
    receive(item.echo, true);
  }
  const duplicate = seen.get(ack.id); // already shown from a catch-up before this retry was acked
  if (duplicate && duplicate !== item.el) duplicate.remove();
  item.progress?.remove();
  seen.set(ack.id, item.el);
  item.el.dataset.id = ack.id;
  setTime(item.el, ack.ts);
  setState(item, 'sent');
  outbox.splice(outbox.indexOf(item), 1);
}

function setState(item, state, error) {
  item.state = state;
  item.el.dataset.state = state;
  const label = $('[data-state-label]', item.el);
  if (state === 'sent') label.replaceChildren();
  else setText(label, state === 'sending' ? 'sending' : ERRORS.includes(error) ? error : 'failed', { name: item.to ?? '' });
  $('[data-retry]', item.el).hidden = state !== 'failed';
  if (item.progress) item.progress.hidden = state !== 'sending';
}

function retry(cid) {
  const item = outbox.find((i) => i.cid === cid);
  if (!item || item.state !== 'failed') return;
  setState(item, 'sending');
  pump();
}

// --- the connection

export const socket = io({
  autoConnect: Boolean(me.name),
  reconnectionDelayMax: 3000, // a restarted classroom server is back within seconds
  // A function, so every reconnect sends the current session and the last message seen; a removed session
  // goes under any nickname, as the server refuses it until allowed back.
  auth: (cb) => cb({
    name: me.name, avatar: me.avatar, session: store.get(sessionKey()) || store.get('chat.kicked') || undefined,
    lastId, lang: getLang(), teacherKey: tabStore.get('teacherKey') ?? undefined,
  }),
});

function setRoom(state) {
  room = state;
  ui.pinned.hidden = !room.pinned;
  $('[data-pinned-text]').textContent = room.pinned?.content ?? '';
  const note = !teacher && isMutedName(me.name) ? 'mutedNote' : room.quiet ? 'quietNote' : null;
  ui.roomNote.hidden = !note;
  if (note) setText(ui.roomNote, note);
  renderPeople();
}

function showRefused(text, code) {
  setBanner(null);
  ui.refused.hidden = false;
  $('[data-refused-text]').textContent = text;
  const back = $('[data-back]');
  back.hidden = code === 'kicked'; // another nickname would not get in either
  back.href = `index.html?${new URLSearchParams({ name: me.name, avatar: me.avatar })}`;
  back.focus();
}

const ON = {
  welcome(w) {
    Object.assign(me, { name: w.name, avatar: w.avatar });
    store.set(sessionKey(), w.session);
    store.set('chat.name', w.name);
    store.set('chat.avatar', w.avatar);
    store.set('chat.kicked', '');
    if (w.teacher && !teacher) import('./teacher.js').then((module) => { (teacher = module).start(); setRoom(room); });
    people.clear();
    for (const user of w.users) people.set(toKey(user.name), user);
    renderMe();
    setRoom(w.room);
    ui.count.textContent = String(w.count);
    for (const m of w.history) receive(m, isWelcomed);
    lastId = w.history.at(-1)?.id ?? lastId;
    isWelcomed = true;
    ui.refused.hidden = true;
    setBanner(null);
    pump();
  },
  online({ count }) { ui.count.textContent = String(count); },
  join(user) {
    const { name } = user;
    people.set(toKey(name), user);
    renderPeople();
    notice('joined', name);
  },
  leave({ name }) {
    people.delete(toKey(name));
    renderPeople();
    notice('left', name);
    for (const c of convs.values()) stopTyping(c, name);
  },
  textmsg(m) {
    lastId = m.id;
    receive(m, true);
  },
  typing({ name, to }) {
    const c = convs.get(to === undefined ? GROUP : toConvKey(name));
    if (!c) return; // a private chat we have not opened: nothing to show it in
    clearTimeout(c.typers.get(toKey(name))?.timer);
    c.typers.set(toKey(name), { name, timer: setTimeout(() => stopTyping(c, name), TYPING_SHOWN_MS) });
    renderTyping();
  },
  restarting() { setBanner('restarting'); },
  room: setRoom,
  kicked() {
    store.set('chat.kicked', store.get(sessionKey()));
    socket.disconnect();
    showRefused(t('kicked'), 'kicked');
  },
  cleared() {
    const c = convs.get(GROUP);
    for (const li of [...c.log.children]) if (!li.matches('[data-state="sending"], [data-state="failed"]')) li.remove();
    for (const [id, li] of seen) if (!li.isConnected) seen.delete(id);
    c.unread = 0;
    renderBadges();
    notice('cleared');
  },
  announce(a) {
    const li = clone('tpl-announce');
    $('[data-text]', li).textContent = a.content;
    setTime(li, a.ts);
    const c = convs.get(GROUP);
    append(c, li);
    countUnread(c);
  },
  disconnect(reason) {
    if (!ui.refused.hidden) return; // removed by the teacher: no way back in
    if (reason === 'io server disconnect') socket.connect(); // still the same person: try again
    if (ui.banner.hidden) setBanner('offline');
    inFlight = null;
    for (const c of convs.values()) for (const typer of c.typers.values()) stopTyping(c, typer.name);
  },
  connect_error(err) {
    if (!['invalid_name', 'name_taken', 'kicked'].includes(err.message)) return; // server away: retrying already
    showRefused(err.data?.message ?? err.message, err.message);
  },
};

// --- the page's controls

function submit() {
  const content = ui.input.value.trim();
  if (!content) return;
  send(content);
  ui.input.value = '';
  autosize();
  ui.input.focus();
}

function autosize() {
  ui.input.style.height = 'auto';
  ui.input.style.height = `${Math.min(ui.input.scrollHeight + 2, 160)}px`;
}

function setDrawer(isOpen) {
  ui.sidebar.classList.toggle('is-open', isOpen);
  ui.toggle.setAttribute('aria-expanded', String(isOpen));
  if (isOpen) $('[data-action="close"]').focus();
}

const ACTIONS = {
  people: () => setDrawer(!ui.sidebar.classList.contains('is-open')),
  close: () => { setDrawer(false); ui.toggle.focus(); },
  group: () => open(GROUP),
  bottom: scrollDown,
};

function bindControls() {
  document.addEventListener('click', (event) => {
    const action = event.target.closest('[data-action]')?.dataset.action;
    if (action) ACTIONS[action]();
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && ui.sidebar.classList.contains('is-open')) ACTIONS.close();
  });
  ui.convs.addEventListener('click', (event) => {
    const key = event.target.closest('[data-conv]')?.dataset.conv;
    if (key) open(key);
  });
  ui.people.addEventListener('click', (event) => {
    const name = event.target.closest('[data-person]')?.dataset.person;
    if (name) openPrivate(name);
  });
  ui.logs.addEventListener('click', (event) => {
    const cid = event.target.closest('[data-retry]')?.closest('[data-cid]')?.dataset.cid;
    if (cid) retry(cid);
  });
  ui.logs.addEventListener('scroll', () => { if (isAtBottom(activeLog())) ui.pill.hidden = true; }, true);
  ui.input.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing || event.keyCode === 229) return; // 229: an IME is choosing
    event.preventDefault();
    submit();
  });
  ui.input.addEventListener('input', () => { autosize(); announceTyping(); });
  ui.input.addEventListener('paste', (event) => {
    const file = [...event.clipboardData.files].find((f) => f.type.startsWith('image/'));
    if (!file) return;
    event.preventDefault();
    sendPicture(file);
  });
  ui.file.addEventListener('change', () => {
    if (ui.file.files[0]) sendPicture(ui.file.files[0]);
    ui.file.value = '';
  });
  ui.composer.addEventListener('submit', (event) => { event.preventDefault(); submit(); });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) convs.get(active).unread = 0;
    renderBadges();
  });
  bindEmojiPicker($('[data-emoji-toggle]'), $('#emoji-panel'), ui.input, () => { autosize(); announceTyping(); });
  bindLanguageSelect($('[data-lang]'), () => { renderTyping(); renderBadges(); });
}

if (!me.name) location.replace('index.html');
conversation(null);
open(GROUP);
bindControls();
for (const [event, handler] of Object.entries(ON)) socket.on(event, handler);
