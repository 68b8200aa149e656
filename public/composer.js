// The composer: Enter sends (Shift+Enter and an IME choosing do not), the box grows with its text, our
// typing is announced now and then, pictures are attached or pasted, a reply shows what it answers; the emoji
// picker loads when first opened, the @ picker when an @ is first typed in the group.
import { $, setText, toast } from './dom.js';
import { emitTyping, send } from './connection.js';
import { GROUP, state } from './state.js';

const TYPING_EVERY_MS = 2000; // we announce our typing at most this often
const MAX_HEIGHT_PX = 160;

const ui = {
  form: $('[data-composer]'), input: $('#content'), file: $('[data-file]'), emoji: $('[data-emoji-toggle]'),
  replying: $('[data-replying]'), replyingTo: $('[data-replying-to]'), replyingText: $('[data-replying-text]'),
};
const AT_END_RE = /(^|\s)@[^\s@]*$/; // the text before the caret ends with an @ being typed
let typingSentAt = 0;

/** A student's ✋: pressed while their hand is up (the server says, for every tab of theirs). */
function renderHand() {
  const button = $('[data-action="hand"]', ui.form);
  button.hidden = !state.me.name || state.me.teacher;
  button.setAttribute('aria-pressed', String(state.me.hand));
}

let slowUntil = 0; // slow mode: when I may write again here
let slowTimer;

function submit() {
  const content = ui.input.value.trim();
  if (!content || Date.now() < slowUntil) return;
  if (state.isSlowed) waitSlowly(Date.now() + state.room.slow * 1000);
  send(content);
  typingSentAt = 0;
  ui.input.value = '';
  autosize();
  ui.input.focus();
}

function autosize() {
  ui.input.style.height = 'auto';
  ui.input.style.height = `${Math.min(ui.input.scrollHeight + 2, MAX_HEIGHT_PX)}px`;
}

function announceTyping() {
  const now = Date.now();
  if (!ui.input.value.trim() || now - typingSentAt < TYPING_EVERY_MS) return;
  const c = state.activeConv;
  if (emitTyping(c.key === GROUP ? undefined : c.name)) typingSentAt = now;
}

/** Queued at once (offline too); the browser's own decoder tells a picture from a file in disguise. */
function sendPicture(file) {
  createImageBitmap(file).then((bitmap) => {
    bitmap.close();
    send('', file);
    typingSentAt = 0;
  }, () => toast('bad_image'));
}

let emojiPicker = null;
/** The first click loads the picker, which then owns the toggle (and opens at once for this click). */
function loadEmoji() {
  emojiPicker ??= import('./emoji.js').then(({ bindEmojiPicker }) => {
    bindEmojiPicker(ui.emoji, $('#emoji-panel'), ui.input, () => { autosize(); announceTyping(); })(true);
  }, () => {
    emojiPicker = null; // the server is away: the next click tries again
    toast('notDone');
  });
}

let mentionPicker = null;
/** The first @ typed in the group loads the picker, which then follows the input itself. */
function loadMentions() {
  if (mentionPicker || state.active !== GROUP || !AT_END_RE.test(ui.input.value.slice(0, ui.input.selectionStart))) return;
  mentionPicker = import('./mentions.js').then(({ bindMentionPicker }) => {
    bindMentionPicker(ui.input, $('[data-list="mentions"]'), () => { autosize(); announceTyping(); });
  }, () => { mentionPicker = null; });
}

/** Above the box: the message the next one answers, until it is sent or cancelled. */
function renderReply(quote) {
  ui.replying.hidden = !quote;
  if (!quote) return;
  setText(ui.replyingTo, 'replyingTo', { name: quote.name });
  if (quote.image) setText(ui.replyingText, 'picture');
  else {
    delete ui.replyingText.dataset.i18n; // the words themselves: a language switch leaves them alone
    ui.replyingText.textContent = quote.content;
  }
  ui.input.focus();
}

function onOpen() {
  typingSentAt = 0;
  if (matchMedia('(pointer: fine)').matches) ui.input.focus(); // a phone keyboard popping up would hide the chat
}

/** Nothing to write with while the server would refuse it (the room note says why); back when lifted. */
function renderSilenced() {
  for (const el of ui.form.elements) if (!el.matches('[data-action="hand"]')) el.disabled = state.isSilenced; // a muted hand may still go up
  if (!state.isSlowed) waitSlowly(0);
  $('[data-action="file"]', ui.form).hidden = !state.me.teacher && !state.room.files;
}

/** Slow mode: Send counts down until the next message may go (the box stays open for writing it). */
function waitSlowly(until) {
  slowUntil = until;
  clearInterval(slowTimer);
  const button = $('.send', ui.form);
  const tick = () => {
    const left = Math.ceil((slowUntil - Date.now()) / 1000);
    if (left > 0) return setText(button, 'slowWait', { seconds: String(left) });
    clearInterval(slowTimer);
    setText(button, 'send');
    button.removeAttribute('aria-disabled');
  };
  if (until > Date.now()) {
    button.setAttribute('aria-disabled', 'true');
    slowTimer = setInterval(tick, 250);
  }
  tick();
}

export function startComposer() {
  ui.input.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing || event.keyCode === 229) return; // 229: an IME is choosing
    event.preventDefault();
    submit();
  });
  ui.input.addEventListener('input', () => { autosize(); announceTyping(); loadMentions(); });
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
  ui.form.addEventListener('submit', (event) => { event.preventDefault(); submit(); });
  ui.emoji.addEventListener('click', loadEmoji);
  state.on('active', onOpen);
  state.on('reply', renderReply);
  state.on('me', renderHand);
  for (const event of ['room', 'me', 'active', 'people']) state.on(event, renderSilenced);
}
