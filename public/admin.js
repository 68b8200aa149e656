// The admin page (/admin#key=…): every class of the school with who is online, a form to open a new one,
// and for each its student address and QR code, its projector page and its teacher link. The admin key
// comes in the address's fragment, moves to this tab's storage and leaves the address bar at once; it only
// ever travels in the Authorization header, never in a URL.
import { DEFAULT_ROOM, bindLanguageSelect, roomParams, t, tabStore, translate } from './i18n.js';
import { $, clone, setText } from './dom.js';

const REFRESH_MS = 5000; // the online counts; the rest only changes through this page
const STATUS_MS = 4000;

const ui = {
  main: $('[data-admin]'), noKey: $('[data-no-key]'), status: $('[data-status]'), list: $('[data-list="rooms"]'),
  form: $('[data-create]'), error: $('[data-create-error]'),
};
const cards = new Map(); // room id -> its <li>
const statusTimers = new WeakMap(); // a card -> the timer that clears its status line
let refresher;

const fragmentKey = new URLSearchParams(location.hash.slice(1)).get('key');
if (fragmentKey) {
  tabStore.set('adminKey', fragmentKey);
  history.replaceState(null, '', location.pathname + location.search);
}

/** A call of the admin API (null: no answer); a refused key (401, 403) ends the page's work with the sentence saying where the link is. */
async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${tabStore.get('adminKey')}` };
  if (body) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body && JSON.stringify(body) }).catch(() => null);
  if (res?.status === 401 || res?.status === 403) showNoKey();
  if (!res) setText(ui.status, 'adminOffline');
  ui.status.hidden = Boolean(res);
  return res;
}

function showNoKey() {
  clearInterval(refresher);
  ui.main.hidden = true;
  ui.noKey.hidden = false;
}

async function load() {
  const res = await api('GET', '/api/rooms');
  if (res?.ok) return render(await res.json());
  if (res?.status !== 429) return;
  delete ui.status.dataset.i18n;
  ui.status.textContent = (await res.json().catch(() => ({}))).error ?? t('notDone'); // too many wrong keys from here: wait
  ui.status.hidden = false;
}

/** Updates the cards in place, so a refresh never takes away a selection or the focus. */
function render(rooms) {
  const ids = new Set(rooms.map((room) => room.id));
  for (const [id, li] of cards) if (!ids.has(id)) forget(id, li);
  rooms.forEach((room, i) => {
    const li = cards.get(room.id) ?? toCard(room);
    $('[data-title]', li).textContent = room.title;
    $('[data-online]', li).textContent = String(room.online ?? 0);
    if (ui.list.children[i] !== li) ui.list.insertBefore(li, ui.list.children[i] ?? null);
  });
}

function toCard(room) {
  const li = clone('tpl-room');
  li.dataset.room = room.id;
  $('[data-id]', li).textContent = room.id;
  $('[data-default-tag]', li).hidden = room.id !== DEFAULT_ROOM;
  const qr = $('[data-qr]', li);
  const query = new URLSearchParams(roomParams(room.id)).toString(); // none for the default room, as the server prints it
  qr.src = `/join.svg${query && '?'}${query}`;
  qr.dataset.url = room.url;
  const url = $('[data-student-url]', li);
  url.href = url.textContent = room.url;
  const join = $('[data-join]', li);
  join.href = `/join${query && '?'}${query}`;
  join.textContent = new URL(join.href, location.href).href;
  $('[data-teacher-url]', li).value = room.teacherUrl;
  $('[data-delete]', li).hidden = room.id === DEFAULT_ROOM; // the default room is where addresses without a room lead
  translate(li); // the QR code's alt text names the address
  cards.set(room.id, li);
  return li;
}

function forget(id, li) {
  li.remove();
  cards.delete(id);
}

/** A short line under a card (copied, or not done), gone after a few seconds. */
function say(li, key) {
  const status = $('[data-copy-status]', li);
  setText(status, key);
  clearTimeout(statusTimers.get(li));
  statusTimers.set(li, setTimeout(() => { delete status.dataset.i18n; status.textContent = ''; }, STATUS_MS));
}

/** The clipboard API needs a secure page (localhost, not http://<LAN ip>): else the text is selected for Ctrl+C. */
async function copy(li) {
  const input = $('[data-teacher-url]', li);
  let isCopied = await navigator.clipboard?.writeText(input.value).then(() => true, () => false);
  if (!isCopied) {
    input.focus();
    input.select();
    try { isCopied = document.execCommand('copy'); } catch { isCopied = false; } // the old way still works on plain http
  }
  say(li, isCopied ? 'copied' : 'copyByHand');
}

async function remove(li) {
  if (!confirm(t('deleteConfirm', { title: $('[data-title]', li).textContent }))) return;
  const id = li.dataset.room;
  const res = await api('DELETE', `/api/rooms/${encodeURIComponent(id)}`);
  if (res?.ok || res?.status === 404) forget(id, li); // 404: someone else deleted it already
  else if (res) say(li, 'notDone');
}

async function create(event) {
  event.preventDefault();
  const title = ui.form.elements.namedItem('title').value.trim();
  const id = ui.form.elements.namedItem('id').value.trim().toLowerCase();
  const res = await api('POST', '/api/rooms', id ? { title, id } : { title });
  if (!res || res.status === 401 || res.status === 403) return;
  const body = await res.json().catch(() => ({}));
  ui.error.hidden = res.ok;
  if (!res.ok) { // the server's sentence says what to change (a bad address name, one already taken, too many classes)
    ui.error.textContent = body.error ?? t('notDone');
    return;
  }
  ui.form.reset();
  await load();
  cards.get(body.id)?.scrollIntoView({ block: 'nearest' });
}

bindLanguageSelect($('[data-lang]'));
if (!tabStore.get('adminKey')) showNoKey();
else {
  ui.main.hidden = false;
  ui.form.addEventListener('submit', create);
  ui.list.addEventListener('click', (event) => {
    const li = event.target.closest('[data-room]');
    if (event.target.closest('[data-copy]')) copy(li);
    if (event.target.closest('[data-delete]')) remove(li);
  });
  document.addEventListener('visibilitychange', () => { if (!document.hidden) load(); });
  refresher = setInterval(() => { if (!document.hidden) load(); }, REFRESH_MS);
  load();
}
