// The chat page: one Socket.IO connection, a dispatch table keyed by the server's event names, and
// conversations (the group and one per private partner), each rendered into its own log.
import { io } from '/socket.io/socket.io.esm.min.js';
import { avatarUrl, bindLanguageSelect, getLang, store, t, toAvatar, toNickname, translate } from './i18n.js';
import { bindEmojiPicker } from './emoji.js';

const ACK_TIMEOUT_MS = 10_000;
const TYPING_EVERY_MS = 2000; // we announce our typing at most this often
const TYPING_SHOWN_MS = 3000; // someone's indicator lasts this long after their last event
const NEAR_BOTTOM_PX = 48;
const GROUP = 'group'; // private conversations are keyed '@' + the partner's name key, so no name collides
const ERRORS = ['rate_limited', 'not_online', 'too_long', 'empty', 'invalid_message', 'timeout'];

const $ = (selector, root = document) => root.querySelector(selector);
const toKey = (name) => name.normalize('NFKC').toLowerCase(); // how the server compares names
const toConvKey = (name) => '@' + toKey(name);
const newCid = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');

const ui = {
  logs: $('[data-logs]'), convs: $('[data-list="convs"]'), people: $('[data-list="people"]'),
  count: $('#online-count'), title: $('[data-conv-title]'), note: $('[data-conv-note]'), back: $('[data-action="group"]'),
  empty: $('[data-empty]'), pill: $('[data-action="bottom"]'), typing: $('[data-typing]'), banner: $('[data-banner]'),
  refused: $('[data-refused]'), composer: $('[data-composer]'), input: $('#content'),
  sidebar: $('#sidebar'), toggle: $('[data-action="people"]'), totalBadge: $('[data-total-badge]'),
};

// --- state

const params = new URLSearchParams(location.search);
const me = { name: toNickname(params.get('name') ?? ''), avatar: toAvatar(params.get('avatar')) };
const sessionKey = () => `chat.session.${toKey(me.name)}`;
const convs = new Map(); // key -> { key, name, avatar, log, button, unread, typers: Map(name key -> { name, timer }) }
const people = new Map(); // name key -> { name, avatar }
const seen = new Map(); // message id -> its <li>: catch-up and our own echoes never show twice
const outbox = []; // own messages not acknowledged yet, in the order they were written
let active = GROUP;
let inFlight = null; // one message at a time keeps the order
let lastId; // the newest message we have, for catch-up after a reconnect
let isWelcomed = false;
let typingSentAt = 0;

// --- rendering helpers

function clone(id) {
  const el = document.getElementById(id).content.firstElementChild.cloneNode(true);
  translate(el);
  return el;
}

/** Text from the dictionary; key and variables stay in data-* so a language switch can redo it. */
function setText(el, key, vars = {}) {
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
  $('[data-text]', li).textContent = m.content;
  setTime(li, m.ts);
  return li;
}

function setBadge(badge, count) {
  badge.hidden = !count;
  badge.firstElementChild.textContent = count > 99 ? '99+' : String(count);
  setText(badge.lastElementChild, 'unread', { count: String(count) });
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
  const others = [...people.values()].filter((p) => toKey(p.name) !== toKey(me.name))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((p) => {
      const li = clone('tpl-person');
      $('[data-person]', li).dataset.person = p.name;
      $('[data-avatar]', li).src = avatarUrl(p.avatar);
      $('[data-name]', li).textContent = p.name;
      return li;
    });
  ui.people.replaceChildren(self, ...others);
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
  if (!isLive || isOwn || (c.key === active && !document.hidden)) return;
  c.unread++;
  renderBadges();
}

/** The server broadcasts before it acks, so our message usually comes back first: its ack confirms the match. */
function isEchoOfInFlight(m) {
  const item = inFlight;
  const isSamePlace = item && (item.to === undefined ? m.to === undefined : m.to !== undefined && toKey(m.to) === toKey(item.to));
  if (!isSamePlace || item.echo || item.content !== m.content) return false;
  item.echo = m;
  seen.set(m.id, item.el);
  return true;
}

function send(content) {
  const c = convs.get(active);
  const el = renderMessage({ name: me.name, avatar: me.avatar, content, ts: Date.now() }, true);
  const item = { cid: newCid(), content, to: c.key === GROUP ? undefined : c.name, el, state: 'sending' };
  el.dataset.cid = item.cid;
  setState(item, 'sending');
  outbox.push(item);
  append(c, el, true);
  typingSentAt = 0;
  pump();
}

/** Sends the oldest waiting message; a retry after a drop reuses its cid, so the server never delivers it twice. */
function pump() {
  if (inFlight || !socket.connected) return;
  const item = outbox.find((i) => i.state === 'sending');
  if (!item) return;
  inFlight = item;
  const { content, to, cid } = item;
  socket.timeout(ACK_TIMEOUT_MS).emit('textmsg', to === undefined ? { content, cid } : { content, to, cid }, (err, ack) => {
    if (inFlight === item) inFlight = null;
    if (ack?.ok) settle(item, ack);
    else if (ack) setState(item, 'failed', ack.error);
    else if (socket.connected) setState(item, 'failed', 'timeout'); // else lost with the connection: resent on reconnect
    pump();
  });
}

function settle(item, ack) {
  if (item.echo && item.echo.id !== ack.id) { // not ours after all: another tab wrote the same words
    seen.delete(item.echo.id);
    receive(item.echo, true);
  }
  const duplicate = seen.get(ack.id); // already shown from a catch-up before this retry was acked
  if (duplicate && duplicate !== item.el) duplicate.remove();
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
}

function retry(cid) {
  const item = outbox.find((i) => i.cid === cid);
  if (!item || item.state !== 'failed') return;
  setState(item, 'sending');
  pump();
}

// --- the connection

const socket = io({
  autoConnect: Boolean(me.name),
  reconnectionDelayMax: 3000, // a restarted classroom server is back within seconds
  // A function, so every reconnect sends the current session and the last message seen.
  auth: (cb) => cb({ name: me.name, avatar: me.avatar, session: store.get(sessionKey()) ?? undefined, lastId, lang: getLang() }),
});

const ON = {
  welcome(w) {
    Object.assign(me, { name: w.name, avatar: w.avatar });
    store.set(sessionKey(), w.session);
    store.set('chat.name', w.name);
    store.set('chat.avatar', w.avatar);
    people.clear();
    for (const user of w.users) people.set(toKey(user.name), user);
    renderMe();
    renderPeople();
    ui.count.textContent = String(w.count);
    for (const m of w.history) receive(m, isWelcomed);
    lastId = w.history.at(-1)?.id ?? lastId;
    isWelcomed = true;
    ui.refused.hidden = true;
    setBanner(null);
    pump();
  },
  online({ count }) { ui.count.textContent = String(count); },
  join({ name, avatar }) {
    people.set(toKey(name), { name, avatar });
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
  disconnect(reason) {
    if (reason === 'io server disconnect') socket.connect(); // still the same person: try again
    if (ui.banner.hidden) setBanner('offline');
    inFlight = null;
    for (const c of convs.values()) for (const typer of c.typers.values()) stopTyping(c, typer.name);
  },
  connect_error(err) {
    if (err.message !== 'invalid_name' && err.message !== 'name_taken') return; // server away: retrying already
    setBanner(null);
    ui.refused.hidden = false;
    $('[data-refused-text]').textContent = err.data?.message ?? err.message;
    const back = $('[data-back]');
    back.href = `index.html?${new URLSearchParams({ name: me.name, avatar: me.avatar })}`;
    back.focus();
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
