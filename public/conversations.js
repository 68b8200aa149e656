// The conversations on screen: one log per conversation (only the active one shown), its button in the
// sidebar with an unread badge, the heading, the typing line and the scrolling rules.
import { avatarUrl, t, toRoomTitle } from './i18n.js';
import { $, clone, setBadge, setText } from './dom.js';
import { setRoomTitle } from './room.js';
import { GROUP, state, toKey } from './state.js';

const NEAR_BOTTOM_PX = 48;
const views = new Map(); // conversation key -> { log, button }
let below = 0; // messages that came under the reader's view of the active log
const reads = new Map(); // conversation key -> { li: the last line reported, pin, next, timer, first: when next was first due }
let readFrame = 0;
let isStuck = true; // the reader is at the bottom: stays there when the log's box shrinks (a pin, a note, a keyboard)

const ui = {
  logs: $('[data-logs]'), list: $('[data-list="convs"]'), title: $('[data-conv-title]'), note: $('[data-conv-note]'),
  back: $('[data-action="group"]'), empty: $('[data-empty]'), pill: $('[data-action="bottom"]'), typing: $('[data-typing]'),
  totalBadge: $('[data-total-badge]'),
};

const isAtBottom = (log) => log.scrollHeight - log.scrollTop - log.clientHeight < NEAR_BOTTOM_PX;
const activeLog = () => views.get(state.active).log;

/** Creates the conversation's log and button the first time, then keeps its name and avatar current. */
function draw(c) {
  let view = views.get(c.key);
  if (!view) {
    const item = clone('tpl-conv');
    view = { log: clone('tpl-log'), button: $('[data-conv]', item) };
    view.button.dataset.conv = c.key;
    view.log.hidden = c.key !== state.active;
    ui.logs.prepend(view.log);
    ui.list.append(item);
    views.set(c.key, view);
  }
  const isGroup = c.key === GROUP;
  $('[data-avatar]', view.button).src = isGroup ? 'avatars/group.svg' : avatarUrl(c.avatar);
  if (isGroup) setText($('[data-name]', view.button), 'group');
  else $('[data-name]', view.button).textContent = c.name;
  Object.assign(view.log.dataset, { i18nLabel: isGroup ? 'group' : 'privateWith', name: c.name ?? '' });
  view.log.setAttribute('aria-label', t(view.log.dataset.i18nLabel, view.log.dataset));
}

function show(c) {
  const isGroup = c.key === GROUP;
  for (const [key, view] of views) {
    view.log.hidden = key !== c.key;
    if (key === c.key) view.button.setAttribute('aria-current', 'true');
    else view.button.removeAttribute('aria-current');
  }
  renderHeading();
  renderNote();
  ui.back.hidden = isGroup;
  ui.empty.hidden = activeLog().childElementCount > 0;
  renderTyping();
  scrollDown();
  noteRead();
}

/** The group is headed by the class's title, as a group chat in WeChat is (on a phone the header has no room
 * for it); a private conversation by its person. */
function renderHeading() {
  const c = state.activeConv;
  if (c.key === GROUP) setRoomTitle(ui.title, 'groupTitle');
  else setText(ui.title, 'privateWith', { name: c.name ?? '' });
}

/** Under the heading: who can read this; in a private conversation, whether the other person is here now. */
function renderNote() {
  const c = state.activeConv;
  const key = c.key === GROUP ? 'groupNote' : isAway(c) ? 'privateNoteAway' : 'privateNote';
  setText(ui.note, key, { name: c.name ?? '' });
}

const isAway = (c) => c.key !== GROUP && !state.people.has(toKey(c.name));

/** A private conversation's button shows whether its person is online. */
function renderPresence() {
  for (const c of state.convs.values()) views.get(c.key).button.toggleAttribute('data-away', isAway(c));
  renderNote();
}

export function renderBadges() {
  let total = 0;
  let elsewhere = 0;
  for (const c of state.convs.values()) {
    total += c.unread;
    if (c.key !== state.active) elsewhere += c.unread;
    setBadge($('[data-badge]', views.get(c.key).button), c.unread);
    setBadge($('[data-mention-badge]', views.get(c.key).button), c.mentions, 'mentionsOfYou');
  }
  setBadge(ui.totalBadge, elsewhere);
  const title = toRoomTitle(state.room);
  document.title = document.hidden && total ? `(${total}) ${title}` : title;
}

export function renderTyping() {
  const names = [...state.activeConv.typers.values()].map((typer) => typer.name);
  const [a, b] = names;
  ui.typing.textContent = !a ? '' : !b ? t('typing1', { a }) : names.length === 2 ? t('typing2', { a, b }) : t('typingMany');
}

function hidePill() {
  below = 0;
  ui.pill.hidden = true;
}

export function scrollDown() {
  activeLog().scrollTop = activeLog().scrollHeight;
  hidePill();
}

function showPill(li) {
  if (li.matches('.msg, .announce')) below++; // a joined/left notice is not news
  if (!below) return;
  setText(ui.pill, below === 1 ? 'newMessage' : 'newMessages', { count: String(below) });
  ui.pill.hidden = false;
}

/** Adds a line to a conversation; follows it down only if the reader was at the bottom (or wrote it). */
export function append(c, li, isMine = false) {
  const { log } = views.get(c.key);
  const wasAtBottom = isAtBottom(log);
  log.append(li);
  if (c.key !== state.active) return;
  ui.empty.hidden = true;
  if (wasAtBottom || isMine) scrollDown();
  else showPill(li);
  noteRead();
}

/** The last line of a conversation's log, if any. */
export const lastLine = (c) => views.get(c.key).log.lastElementChild;

/** The lines of a conversation's log (to prune them when the teacher clears the history). */
export const linesOf = (c) => [...views.get(c.key).log.children];

/** The teacher's "seen by": the last line of the teacher (a message, an announcement) shown on a visible screen in
 * the active conversation, and the pin in the group. Only the group and a conversation with the teacher have one.
 * Reported once it held for a second, or every 5 s while lines keep coming: what the teacher sees lags a little in
 * a torrent, and the server is not woken by every page every second (bench: "seen by"). */
const noteRead = () => { readFrame ||= requestAnimationFrame(measureRead); }; // once a frame: a welcome adds hundreds of lines

function measureRead() {
  readFrame = 0;
  const c = state.activeConv;
  if (document.hidden || state.me.teacher || (c.key !== GROUP && !state.people.get(toKey(c.name))?.teacher)) return;
  const log = activeLog();
  const bottom = log.getBoundingClientRect().bottom;
  let li = log.lastElementChild;
  while (li && (!li.dataset.id || li.getBoundingClientRect().top >= bottom)) li = li.previousElementSibling;
  while (li && !(li.dataset.id && (li.dataset.teacher !== undefined || li.matches('.announce')))) li = li.previousElementSibling;
  const r = reads.get(c.key) ?? reads.set(c.key, {}).get(c.key);
  const pin = c.key === GROUP ? state.room.pinned?.ts : undefined;
  if (li && (!r.li?.isConnected || r.li.compareDocumentPosition(li) & Node.DOCUMENT_POSITION_FOLLOWING)) r.li = li;
  else if (pin === r.pin) return;
  r.pin = pin;
  if (!r.li) return;
  r.next = { id: r.li.dataset.id, to: c.key === GROUP ? undefined : c.name, pin };
  r.first ||= Date.now();
  clearTimeout(r.timer);
  r.timer = setTimeout(() => {
    r.first = 0;
    state.emit('read', r.next);
  }, Math.max(0, Math.min(1000, r.first + 5000 - Date.now())));
}

/** After a reconnect the server may have missed a report: the next one goes again. */
export function resetReads() {
  reads.clear();
  noteRead();
}

export function startConversations() {
  state.on('conversation', draw);
  state.on('active', show);
  state.on('people', renderPresence);
  state.on('conversation', renderPresence);
  state.on('unread', renderBadges);
  state.on('room', renderBadges); // the title of the tab is the room's
  state.on('room', renderHeading);
  state.on('typing', (c) => { if (c.key === state.active) renderTyping(); });
  ui.list.addEventListener('click', (event) => {
    const key = event.target.closest('[data-conv]')?.dataset.conv;
    if (key) state.open(key);
  });
  ui.logs.addEventListener('scroll', () => {
    isStuck = isAtBottom(activeLog());
    if (isStuck) hidePill();
    noteRead();
  }, true);
  document.addEventListener('visibilitychange', noteRead);
  state.on('room', noteRead); // a new pin
  new ResizeObserver(() => { if (isStuck) activeLog().scrollTop = activeLog().scrollHeight; }).observe(ui.logs);
}
