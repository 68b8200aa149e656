// Messages on screen: each one a clone of its template filled with textContent, put in the conversation
// it belongs to, and shown once only, whether it came live, from a catch-up, or back as our own echo.
import { avatarUrl } from './i18n.js';
import { $, addTag, clone, setText, setTime, toast } from './dom.js';
import { append, lastLine, linesOf } from './conversations.js';
import { GROUP, state, toKey } from './state.js';

const ERRORS = [
  'rate_limited', 'not_online', 'too_long', 'empty', 'invalid_message', 'timeout', 'muted', 'bad_image', 'too_large', 'not_found', 'not_allowed',
  'slow_mode', 'bad_type', 'disk_full',
];
const RECALL_MS = 2 * 60_000; // as the server allows
const GROUP_MS = 3 * 60_000; // one person's messages this close together show as one run (one name, one avatar)
const LINK_RE = /\bhttps?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]}'’”]/giu; // ends before trailing punctuation
const ONLY_EMOJI_RE = /^(?:\p{Extended_Pictographic}(?:\p{Emoji_Modifier}|\uFE0F|\u200D\p{Extended_Pictographic})*\s*){1,3}$/u;

/** The text with its http(s) links made links and its mentions marked: DOM nodes only, so nothing in it is
 * ever read as HTML. */
function fillText(el, content, mentioned) {
  let at = 0;
  for (const match of content.matchAll(LINK_RE)) {
    appendMentions(el, content.slice(at, match.index), mentioned);
    const a = document.createElement('a');
    a.href = match[0];
    a.textContent = match[0];
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    el.append(a);
    at = match.index + match[0].length;
  }
  appendMentions(el, content.slice(at), mentioned);
}

/** `@name` of each person the message mentions (the server checked them), as a highlighted span. */
function appendMentions(el, text, names) {
  let at = 0;
  let i = names.length ? text.indexOf('@') : -1;
  while (i >= 0) {
    const name = names.find((n) => text.startsWith(n, i + 1));
    if (name) {
      el.append(text.slice(at, i));
      const span = el.appendChild(document.createElement('span'));
      span.className = name === 'all' || state.isMe(name) ? 'mention is-me' : 'mention';
      span.textContent = `@${name}`;
      at = i + name.length + 1;
    }
    i = text.indexOf('@', name ? at : i + 1);
  }
  el.append(text.slice(at));
}

/** What a reply shows of its original: who and the start of what they wrote, or that it was taken back. */
function fillQuote(el, quote) {
  el.hidden = false;
  el.dataset.quote = quote.id;
  if (quote.gone) setText(el, 'quoteGone');
  else if (quote.image) setText(el, 'quotePicture', { name: quote.name });
  else el.textContent = `${quote.name}: ${quote.content}`;
}
const seen = new Map(); // message id -> its <li>: catch-up and our own echoes never show twice

export const isSeen = (id) => seen.has(id);
export const markSeen = (id, li) => seen.set(id, li);

function renderMessage(m, isOwn) {
  const li = clone('tpl-msg');
  li.classList.toggle('own', isOwn);
  if (m.id) li.dataset.id = m.id;
  $('[data-avatar]', li).src = avatarUrl(m.avatar);
  $('[data-name]', li).textContent = m.name;
  if (m.teacher) {
    addTag($('[data-name]', li), 'teacher');
    li.dataset.teacher = '';
  }
  const text = $('[data-text]', li);
  fillText(text, m.content, [...(m.mentions ?? []), ...(m.mentionsAll ? ['all'] : [])].sort((a, b) => b.length - a.length));
  if (m.reply) fillQuote($('[data-quote]', li), m.reply);
  $('[data-reply]', li).hidden = !m.id;
  text.classList.toggle('only-emoji', ONLY_EMOJI_RE.test(m.content));
  if (isOwn) setText($('[data-who]', li), 'youSaid'); // own messages show no name: a screen reader still says whose
  li.dataset.from = toKey(m.name);
  li.dataset.ts = String(m.ts);
  if (m.poll) import('./poll-card.js').then((polls) => polls.fillPoll(li, m), () => {});
  if (m.file || m.voice) import('./media-card.js').then((card) => card.fill(li, m), () => {});
  if (/^(\/images\/|blob:)/.test(m.image)) { // a thumbnail, opening the full size in a new tab
    const link = text.appendChild(clone('tpl-pic'));
    link.href = link.firstChild.src = m.image;
  }
  setTime(li, m.ts);
  return li;
}

/** Live, a message mentions me if it names my nickname (held by one person online) or everyone. */
export const isMentionOfMe = (m) => m.mentionsAll === true || (m.mentions ?? []).some((n) => state.isMe(n));

/** A message from the server, in the conversation it belongs to: the group, or the partner of a private one.
 * Live, the nickname tells whether it is ours or mentions us (one person online holds it); in history the
 * server says so by session, as someone who had this nickname before is not us. */
export function receive(m, isLive, isOwn = state.isMe(m.name), isMentioned = !isOwn && isMentionOfMe(m)) {
  if (seen.has(m.id)) return;
  const partner = m.to === undefined ? null : isOwn ? m.to : m.name;
  const c = state.conversation(partner, isOwn ? state.people.get(toKey(partner ?? ''))?.avatar : m.avatar);
  const li = renderMessage(m, isOwn);
  li.classList.toggle('mentions-me', isMentioned);
  seen.set(m.id, li);
  if (isOwn) offerRecall(li, m.ts);
  state.stopTyping(c, m.name);
  appendMessage(c, li);
  if (!isLive || isOwn) return;
  state.countUnread(c);
  if (isMentioned) state.countMention(c);
  if (partner !== null) tell(c, 'privateFrom', m.name);
  else if (isMentioned) tell(c, 'mentionedBy', m.name);
}

/** What is addressed to me while I look elsewhere (another conversation, another tab): a toast, a sound, a vibration. */
function tell(c, key, name) {
  if (c.key === state.active && !document.hidden) return;
  toast(key, { name });
  import('./notify.js').then((notify) => notify.ring(), () => {});
}

/** Our own message as written, before the server has it: `item` gets its element (and a progress bar for a picture). */
export function showOwn(item, c) {
  const url = item.image && URL.createObjectURL(item.image);
  const { content, reply, mentions, mentionsAll, media } = item;
  const own = { name: state.me.name, avatar: state.me.avatar, content, image: url, ts: Date.now(), reply, mentions, mentionsAll };
  if (media) own[media.kind] = media.kind === 'file' ? { name: media.blob.name, size: media.blob.size } : { duration: media.duration };
  item.el = renderMessage(own, true);
  if (item.image || media) item.progress = $('[data-text]', item.el).appendChild(document.createElement('progress'));
  item.el.dataset.cid = item.cid;
  showOwnState(item);
  appendMessage(c, item.el, true);
}

/** A message after the same person's within a few minutes continues their run: no second name or avatar. */
function appendMessage(c, li, isMine = false) {
  const last = lastLine(c);
  const isRun = last?.matches('.msg') && last.dataset.from === li.dataset.from && Number(li.dataset.ts) - Number(last.dataset.ts) < GROUP_MS;
  li.classList.toggle('cont', !!isRun);
  append(c, li, isMine);
}

/** Why a message was refused; the server says 'muted' for quiet mode too. */
function toFailure(error) {
  if (error === 'muted' && state.room.quiet && !state.isMuted(state.me.name)) return 'quiet_mode';
  return ERRORS.includes(error) ? error : 'failed';
}

export function showOwnState(item, error) {
  item.el.dataset.state = item.state;
  const label = $('[data-state-label]', item.el);
  const key = item.state === 'failed' ? toFailure(error) : item.state; // 'sending' or 'sent'
  setText(label, key, { name: item.to ?? '' }); // the key stays in data-i18n, so a language switch redoes the right label
  $('[data-retry]', item.el).hidden = item.state !== 'failed';
  if (item.progress) item.progress.hidden = item.state !== 'sending';
}

/** The ack of our message: it takes the server's id and time; an echo that was not ours after all is shown. */
export function confirmOwn(item, ack) {
  if (item.echo && item.echo.id !== ack.id) { // another tab of ours wrote the same words
    seen.delete(item.echo.id);
    receive(item.echo, true);
  }
  const duplicate = seen.get(ack.id); // already shown from a catch-up before this retry was acked
  if (duplicate && duplicate !== item.el) duplicate.remove();
  item.progress?.remove();
  seen.set(ack.id, item.el);
  item.el.dataset.id = ack.id;
  $('[data-reply]', item.el).hidden = false;
  setTime(item.el, ack.ts);
  item.state = 'sent';
  showOwnState(item);
  offerRecall(item.el, ack.ts);
}

/** Our own sent message may be taken back for two minutes: the button shows until then. */
function offerRecall(li, ts) {
  const left = ts + RECALL_MS - Date.now();
  if (left <= 0) return;
  const button = $('[data-recall]', li);
  button.hidden = false;
  setTimeout(() => { button.hidden = true; }, left);
}

/** A message was taken back by its author: its line says so, in place. */
export function recalled({ id, name, byTeacher }) {
  const li = seen.get(id);
  if (!li) return;
  const line = clone('tpl-notice');
  const isMine = li.classList.contains('own');
  if (byTeacher) setText(line, isMine ? 'yoursDeletedByTeacher' : 'deletedByTeacher', { name });
  else if (isMine) setText(line, 'youRecalled');
  else setText(line, 'recalled', { name });
  li.replaceWith(line);
  seen.set(id, line);
  for (const quote of document.querySelectorAll(`[data-quote="${CSS.escape(id)}"]`)) setText(quote, 'quoteGone');
}

/** What the reply composer shows of the message `li`, from the message on screen. */
export function toQuoteOf(li) {
  const image = !!$('.pic', li);
  return { id: li.dataset.id, name: $('[data-name]', li).textContent, content: image ? '' : $('[data-text]', li).textContent, image };
}

/** Tapping a quote: its original, scrolled to and lit up for a moment, if it is still on the page. */
export function showOriginal(id) {
  const li = seen.get(id);
  if (!li?.isConnected || !li.matches('.msg')) return toast('quoteNotHere');
  li.scrollIntoView({ block: 'center', behavior: 'smooth' });
  li.classList.remove('flash');
  void li.offsetWidth; // restarts the animation
  li.classList.add('flash');
}

export function notice(key, name) {
  const li = clone('tpl-notice');
  setText(li, key, { name });
  append(state.convs.get(GROUP), li);
}

export function announce(a) {
  const li = clone('tpl-announce');
  li.dataset.id = a.id;
  $('[data-text]', li).textContent = a.content;
  setTime(li, a.ts);
  const c = state.convs.get(GROUP);
  append(c, li);
  state.countUnread(c);
}

/** The teacher cleared the group history: everything goes but our own messages still on their way. */
export function clearGroup() {
  const c = state.convs.get(GROUP);
  for (const li of linesOf(c)) if (!li.matches('[data-state="sending"], [data-state="failed"]')) li.remove();
  for (const [id, li] of seen) if (!li.isConnected) seen.delete(id);
  state.clearUnread(c);
  notice('cleared');
}
