// Who is here: me in the header, the people online in the sidebar (tap one to talk privately), the count.
import { avatarUrl } from './i18n.js';
import { $, addTag, clone, setText } from './dom.js';
import { state } from './state.js';

const ui = { list: $('[data-list="people"]'), count: $('#online-count') };

function renderPeople() {
  const hadFocus = ui.list.contains(document.activeElement) ? document.activeElement.dataset.person : null;
  const self = clone('tpl-me');
  $('[data-avatar]', self).src = avatarUrl(state.me.avatar);
  setText($('[data-name]', self), 'you', { name: state.me.name });
  if (state.me.teacher) addTag($('[data-name]', self), 'teacher');
  const others = [...state.people.values()].filter((p) => !state.isMe(p.name))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map(toPersonItem);
  ui.list.replaceChildren(self, ...others);
  if (hadFocus) [...ui.list.querySelectorAll('[data-person]')].find((b) => b.dataset.person === hadFocus)?.focus();
}

function toPersonItem(p) {
  const li = clone('tpl-person');
  const name = $('[data-name]', li);
  $('[data-person]', li).dataset.person = p.name;
  $('[data-avatar]', li).src = avatarUrl(p.avatar);
  name.textContent = p.name;
  if (state.me.teacher && state.isMuted(p.name)) addTag(name, 'mutedTag'); // only the teacher learns who is muted
  if (p.teacher) addTag(name, 'teacher');
  return li;
}

function renderMe() {
  $('[data-me]').hidden = !state.me.name;
  $('[data-me-avatar]').src = avatarUrl(state.me.avatar);
  $('[data-me-name]').textContent = state.me.name;
}

export const setCount = (count) => { ui.count.textContent = String(count); };

export function startPeople() {
  state.on('me', () => { renderMe(); renderPeople(); });
  state.on('people', renderPeople);
  state.on('room', renderPeople);
  ui.list.addEventListener('click', (event) => {
    const name = event.target.closest('[data-person]')?.dataset.person;
    if (name) state.open(state.conversationWith(name).key);
  });
}
