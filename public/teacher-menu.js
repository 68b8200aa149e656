// The teacher's menu of one person or one message, opened by its "⋯" button: write privately, mute (until
// lifted, or for 5 or 15 minutes) or unmute, remove, and for a message, delete it for everyone. Its items carry
// the same data-teacher hooks as the teacher bar, so teacher.js runs them. Loaded with teacher.js.
import { $, setText } from './dom.js';
import { state, toKey } from './state.js';

const MUTE_MINUTES = ['5', '15']; // as the server allows
let menu = null;
let opener = null;

/** The menu's items for the person or message `li` shows: [action, string key, data]. */
function itemsFor(li) {
  const isMessage = li.matches('.msg');
  const name = isMessage ? $('[data-name]', li).textContent : $('[data-person]', li).dataset.person;
  const items = isMessage ? [['delete', 'deleteMessage', { id: li.dataset.id }]] : [['write', 'writePrivately', { name }]];
  const person = state.people.get(toKey(name));
  if (!person || person.teacher || state.isMe(name)) return items; // nobody here to mute or remove
  if (state.isMuted(name)) items.push(['unmute', 'unmute', { name }]);
  else items.push(['mute', 'muteUntilLifted', { name }], ...MUTE_MINUTES.map((minutes) => ['mute', 'muteFor', { name, minutes }]));
  items.push(['kick', 'kick', { name }]);
  return items;
}

export function openMenu(button) {
  const wasOpen = opener === button;
  closeMenu();
  if (wasOpen) return; // a second tap on ⋯ closes it
  menu = document.createElement('div');
  menu.className = 'menu';
  menu.setAttribute('role', 'menu');
  for (const [action, key, data] of itemsFor(button.closest('li'))) {
    const item = menu.appendChild(document.createElement('button'));
    item.type = 'button';
    item.setAttribute('role', 'menuitem');
    item.dataset.teacher = action;
    setText(item, key, data); // the data (name, id, minutes) stays in data-*: teacher.js reads it there
  }
  document.body.append(menu);
  const at = button.getBoundingClientRect();
  const { width, height } = menu.getBoundingClientRect();
  menu.style.left = `${Math.max(8, Math.min(at.left, innerWidth - width - 8))}px`;
  menu.style.top = `${at.bottom + height + 8 < innerHeight ? at.bottom + 4 : Math.max(8, at.top - height - 4)}px`;
  opener = button;
  button.setAttribute('aria-expanded', 'true');
  menu.firstElementChild.focus();
}

export function closeMenu() {
  if (!menu) return;
  menu.remove();
  menu = null;
  opener.removeAttribute('aria-expanded');
  if (document.activeElement === document.body) opener.focus();
  opener = null;
}

document.addEventListener('keydown', (event) => {
  if (!menu) return;
  const items = [...menu.children];
  const at = items.indexOf(document.activeElement);
  if (event.key === 'Escape') closeMenu();
  else if (event.key === 'ArrowDown') items[(at + 1) % items.length].focus();
  else if (event.key === 'ArrowUp') items[(at + items.length - 1) % items.length].focus();
  else return;
  event.preventDefault();
});
document.addEventListener('pointerdown', (event) => {
  if (menu && !menu.contains(event.target) && !opener.contains(event.target)) closeMenu();
}, true);
