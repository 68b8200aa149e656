// The pages' language: the reader's dictionary (one module per language, only that one loaded), and the
// helpers every page shares.
import READERS from './strings.js'; // the server sends the reader's language under this name (server.ts)

const DICTIONARIES = { en: () => import('./strings-en.js'), zh: () => import('./strings-zh.js') }; // a switch, or a mismatch
export const DEFAULT_TITLE = 'Class chat'; // the server's title of a room nobody named

export const AVATARS = ['cat', 'dog', 'fox', 'panda', 'owl', 'frog', 'rabbit', 'bear', 'penguin', 'tiger'];
export const toAvatar = (id) => (AVATARS.includes(id) ? id : 'cat');
export const avatarUrl = (id) => `avatars/${toAvatar(id)}.svg`;
/** The nickname as the server will store it (so the session saved under it is found again). */
export const toNickname = (raw) => raw.normalize('NFC').trim().replace(/\s+/gu, ' ');

export const DEFAULT_ROOM = 'main';
const ROOM_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;
/** The room named in the address (`?room=7b`, as typed on a phone: any case); none is the default room. */
export const toRoomId = (raw) => String(raw ?? '').trim().toLowerCase() || DEFAULT_ROOM;
export const isRoomId = (id) => ROOM_ID.test(id);
/** The query-string part that names a room: nothing for the default room, so its addresses stay as they were. */
export const roomParams = (id) => (id === DEFAULT_ROOM ? {} : { room: id });
/** The default room under its default title (or a server that sends none) shows the app's name, translated. */
export const isDefaultTitle = ({ id, title }) => !title || (id === DEFAULT_ROOM && title === DEFAULT_TITLE);
export const toRoomTitle = (room) => (isDefaultTitle(room) ? t('appName') : room.title);

/** Web storage that never throws (private mode, disabled storage, quota). */
const toStore = (kind) => ({
  get(key) { try { return window[kind].getItem(key); } catch { return null; } },
  set(key, value) { try { window[kind].setItem(key, value); } catch {} },
});
export const store = toStore('localStorage');
export const tabStore = toStore('sessionStorage'); // this tab only: the teacher and admin keys

const toLang = (tag) => (String(tag).toLowerCase().startsWith('zh') ? 'zh' : 'en');
let lang = toLang(store.get('chat.lang') ?? navigator.language);
let strings = READERS.lang === lang ? READERS : (await DICTIONARIES[lang]()).default; // a wrong guess (a choice older than the cookie): one fetch more
const keepLangCookie = () => { document.cookie = `lang=${lang}; path=/; max-age=31536000; samesite=lax`; }; // the server preloads it
keepLangCookie();
export const getLang = () => lang;

/** The string `key` with `{var}` filled from `vars` (an element's dataset works too). */
export function t(key, vars = {}) {
  const text = strings[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => vars[name] ?? '');
}

const ATTRS = { label: 'aria-label', placeholder: 'placeholder', alt: 'alt', title: 'title' };

/** Fills every `data-i18n*` element under `root`; dynamic elements keep their variables in data-*. */
export function translate(root = document) {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n, el.dataset);
  for (const [hook, attr] of Object.entries(ATTRS)) {
    const key = 'i18n' + hook[0].toUpperCase() + hook.slice(1);
    for (const el of root.querySelectorAll(`[data-i18n-${hook}]`)) el.setAttribute(attr, t(el.dataset[key], el.dataset));
  }
}

/** Wires a `<select>` of languages: shows the current one, switches, remembers, then calls `onChange`. */
export function bindLanguageSelect(select, onChange = () => {}) {
  select.value = lang;
  select.addEventListener('change', async () => {
    const next = toLang(select.value);
    strings = (await DICTIONARIES[next]()).default;
    lang = next;
    store.set('chat.lang', lang);
    keepLangCookie();
    translate();
    onChange(lang);
  });
  translate();
}
