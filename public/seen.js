// The teacher's "seen by": under each of the teacher's messages, announcements and the pin, how many of the class
// have seen it, and on a tap who has not yet. Loaded with the first `seen` frame (only the teacher gets them).
import { $, loadStyle, setText, toast } from './dom.js';
import { element, openDialog } from './dialog.js';

loadStyle('seen.css');

const counts = new Map(); // item id -> { id, n, of }
const PIN = 'pin';
let emitAck = null; // connection.js's, handed in (importing it back would make a cycle)

/** Counts that changed (or all of them, at the welcome). */
export function show({ items }, emit) {
  emitAck = emit;
  for (const item of items) {
    counts.set(item.id, item);
    render(item);
  }
}

/** Where an item's count goes: its line's state row, or the pinned bar. */
function placeOf(id) {
  if (id === PIN) return $('[data-pinned]');
  const li = $(`[data-logs] [data-id="${CSS.escape(id)}"]`);
  if (!li) return null;
  return $('.state', li) ?? li.appendChild(element('p', { className: 'state' }));
}

function render({ id, n, of }) {
  const place = placeOf(id);
  if (!place) return; // not on this page (cleared, or older than its history)
  let button = $('[data-seen]', place);
  if (!button) {
    button = element('button', { type: 'button', className: 'seen' });
    button.dataset.seen = id;
    place.append(button);
  }
  if (place.closest('[data-i18n-label]')?.dataset.i18nLabel === 'privateWith') setText(button, n ? 'seenPrivate' : 'notSeenYet');
  else setText(button, n === of ? 'seenByAll' : 'seenBy', { n: String(n), of: String(of) });
  button.classList.toggle('is-all', n === of && of > 0);
}

/** Who has not seen it, asked when the teacher wants to know (names are not pushed with every count). */
async function showUnseen(id) {
  const ack = await emitAck('unseen', { id });
  if (!ack?.ok) return toast('notDone');
  const list = element('ul', { className: 'unseen' });
  for (const name of ack.names) list.append(element('li', { textContent: name }));
  const close = element('button', { type: 'button', className: 'primary' }, 'close');
  const dialog = openDialog('confirm seen-dialog', (d) => {
    const title = element('h2');
    setText(title, ack.names.length ? 'unseenTitle' : 'unseenNobody', { count: String(ack.names.length) });
    d.append(title, ...(ack.names.length ? [list] : []), element('p', { className: 'buttons' }));
    $('.buttons', d).append(close);
  });
  close.addEventListener('click', () => dialog.close());
}

document.addEventListener('click', (event) => { // every count on the page, one listener
  const button = event.target.closest('[data-seen]');
  if (button) showUnseen(button.dataset.seen);
});
