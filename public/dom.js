// View helpers the chat page's modules share: template clones, translated text, tags, badges, times, notes.
import { getLang, t, translate } from './i18n.js';

const TOAST_MS = 4000;

export const $ = (selector, root = document) => root.querySelector(selector);

/** The stylesheet of a module loaded on demand (the first load carries only what everyone sees). */
export function loadStyle(href) {
  if (!$(`link[href="${href}"]`)) document.head.append(Object.assign(document.createElement('link'), { rel: 'stylesheet', href }));
}

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

/** Made only when needed: hidden text would still be in textContent. */
export function addTag(el, key) {
  const tag = document.createElement('span');
  tag.className = key === 'teacher' ? 'tag' : 'tag is-muted';
  setText(tag, key);
  el.after(tag);
}

export function setBadge(badge, count, key = 'unread') {
  badge.hidden = !count;
  badge.firstElementChild.textContent = count > 99 ? '99+' : String(count);
  setText(badge.lastElementChild, key, { count: String(count) });
}

export function toClock(ts) {
  const date = new Date(ts);
  const isToday = date.toDateString() === new Date().toDateString();
  const options = isToday ? { hour: 'numeric', minute: '2-digit' } : { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' };
  return date.toLocaleString(getLang() === 'zh' ? 'zh-CN' : 'en', options);
}

export function setTime(li, ts) {
  const time = $('[data-time]', li);
  time.dateTime = new Date(ts).toISOString();
  time.textContent = toClock(ts);
}

/** Every time on the page again, in the current language (after a switch). */
export function retime(root = document) {
  for (const time of root.querySelectorAll('[data-time][datetime]')) time.textContent = toClock(Date.parse(time.dateTime));
}

let toastTimer;
export function toast(key, vars) {
  const el = $('[data-toast]');
  setText(el, key, vars);
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, TOAST_MS);
}

/** The connection line under the header; no key hides it. */
export function setBanner(key) {
  const banner = $('[data-banner]');
  banner.hidden = !key;
  if (key) setText(banner, key);
}

export const isBannerShown = () => !$('[data-banner]').hidden;
