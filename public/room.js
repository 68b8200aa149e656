// The room's own lines: its title in the header (and as the group's heading), the pinned announcement for
// everyone, and a note when I cannot write here (muted, quiet mode) or must wait between messages (slow mode).
import { isDefaultTitle } from './i18n.js';
import { $, setText, toClock } from './dom.js';
import { state } from './state.js';

const ui = { title: $('[data-room-title]'), pinned: $('[data-pinned]'), pinnedText: $('[data-pinned-text]'), note: $('[data-room-note]') };

/** The class's title in `el`: the teacher's as typed, in every language; else the string `key`. */
export function setRoomTitle(el, key) {
  if (isDefaultTitle(state.room)) return setText(el, key);
  delete el.dataset.i18n;
  el.textContent = state.room.title;
}

function renderRoom() {
  const { room, me } = state;
  setRoomTitle(ui.title, 'appName');
  ui.pinned.hidden = !room.pinned;
  ui.pinnedText.textContent = room.pinned?.content ?? '';
  const isMuted = state.isMuted(me.name);
  const note = !state.isSilenced ? (state.isSlowed ? 'slowNote' : null)
    : isMuted && room.mutedUntil ? 'mutedUntilNote' : isMuted ? 'mutedNote' : 'quietNote';
  ui.note.hidden = !note;
  ui.note.classList.toggle('is-info', note === 'slowNote');
  if (note) setText(ui.note, note, { time: room.mutedUntil ? toClock(room.mutedUntil) : '', seconds: String(room.slow) });
  document.body.classList.toggle('is-silenced', state.isSilenced); // a retry would be refused again: none offered
}

export function startRoom() {
  for (const event of ['room', 'me', 'active', 'people']) state.on(event, renderRoom); // a private chat with the teacher is never held
}
