// The room's own lines: its title in the header, the pinned announcement for everyone, and a note when I
// cannot write (muted, quiet mode).
import { isDefaultTitle } from './i18n.js';
import { $, setText } from './dom.js';
import { state } from './state.js';

const ui = { title: $('[data-room-title]'), pinned: $('[data-pinned]'), pinnedText: $('[data-pinned-text]'), note: $('[data-room-note]') };

function renderTitle() {
  if (isDefaultTitle(state.room)) return setText(ui.title, 'appName');
  delete ui.title.dataset.i18n; // a teacher's title stays as typed in every language
  ui.title.textContent = state.room.title;
}

function renderRoom() {
  const { room, me } = state;
  renderTitle();
  ui.pinned.hidden = !room.pinned;
  ui.pinnedText.textContent = room.pinned?.content ?? '';
  const note = !me.teacher && state.isMuted(me.name) ? 'mutedNote' : room.quiet ? 'quietNote' : null;
  ui.note.hidden = !note;
  if (note) setText(ui.note, note);
  document.body.classList.toggle('is-silenced', state.isSilenced); // a retry would be refused again: none offered
}

export function startRoom() {
  state.on('room', renderRoom);
  state.on('me', renderRoom);
}
