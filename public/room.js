// The room's own lines: the pinned announcement for everyone, and a note when I cannot write (muted, quiet mode).
import { $, setText } from './dom.js';
import { state } from './state.js';

const ui = { pinned: $('[data-pinned]'), pinnedText: $('[data-pinned-text]'), note: $('[data-room-note]') };

function renderRoom() {
  const { room, me } = state;
  ui.pinned.hidden = !room.pinned;
  ui.pinnedText.textContent = room.pinned?.content ?? '';
  const note = !me.teacher && state.isMuted(me.name) ? 'mutedNote' : room.quiet ? 'quietNote' : null;
  ui.note.hidden = !note;
  if (note) setText(ui.note, note);
}

export function startRoom() {
  state.on('room', renderRoom);
  state.on('me', renderRoom);
}
