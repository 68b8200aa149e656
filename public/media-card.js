// A shared file (a card that downloads it) or a voice message (play/pause, progress, duration) in its message.
// One voice message plays at a time. Loaded with the first such message.
import { translate } from './i18n.js';
import { $, loadStyle } from './dom.js';

loadStyle('media.css');
let playing = null; // the <audio> playing now

const span = (className, text) => Object.assign(document.createElement('span'), { className, textContent: text });
const toClock = (ms) => `${Math.floor(ms / 60_000)}:${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}`;
const toSize = (bytes) => (bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} KB` : `${(bytes / 2 ** 20).toFixed(1)} MB`);

/** The card of message `m` in its line `li` (again when the server's URL comes for our own). */
export function fill(li, m) {
  const text = $('[data-text]', li);
  $('.media', text)?.remove();
  const card = document.createElement(m.file?.url ? 'a' : 'div');
  card.className = 'media';
  if (m.file) {
    if (m.file.url) Object.assign(card, { href: m.file.url, download: m.file.name });
    Object.assign(card.dataset, { i18nLabel: 'download', name: m.file.name }); // what a screen reader says of it
    card.append(span('icon', '📄'), span('file-name', m.file.name), span('file-size', toSize(m.file.size)));
  } else {
    card.classList.add('voice');
    const play = document.createElement('button');
    Object.assign(play, { type: 'button', className: 'play', textContent: '▶' });
    play.dataset.play = '';
    play.dataset.i18nLabel = 'play';
    const audio = Object.assign(document.createElement('audio'), { preload: 'metadata' });
    if (m.voice.url) audio.src = m.voice.url;
    const bar = Object.assign(document.createElement('progress'), { max: 1, value: 0 });
    card.append(play, bar, span('duration', toClock(m.voice.duration)), audio);
    audio.addEventListener('timeupdate', () => { bar.value = audio.currentTime / (m.voice.duration / 1000); });
    audio.addEventListener('pause', () => { play.textContent = '▶'; });
    audio.addEventListener('play', () => { play.textContent = '⏸'; });
    audio.addEventListener('ended', () => { bar.value = 0; });
  }
  text.append(card);
  translate(text);
}

/** A tap on ▶ or ⏸: this one plays (and any other stops), or pauses. */
export function toggle(button) {
  const audio = button.parentElement.querySelector('audio');
  if (!audio?.src) return;
  if (!audio.paused) return audio.pause();
  if (playing && playing !== audio) playing.pause();
  playing = audio;
  audio.play().catch(() => {});
}
