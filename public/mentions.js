// The @ picker: an @ typed in the group offers the people online whose names match what follows it (and
// everyone, for the teacher); picking one writes `@Name `. Loaded the first time someone types an @ there.
import { avatarUrl, t } from './i18n.js';
import { $, clone, loadStyle, setText } from './dom.js';
import { GROUP, state, toKey } from './state.js';

loadStyle('mentions.css');

const MAX_SHOWN = 8;
const QUERY_RE = /(^|\s)@([^\s@]*)$/;

/** Whom `query` (what follows the @) may mean: names that start with it first, then names that contain it. */
function candidates(query) {
  const names = [...state.people.values()].filter((p) => !state.isMe(p.name)).map((p) => ({ name: p.name, avatar: p.avatar }));
  const score = (n) => (toKey(n.name).startsWith(query) ? 0 : toKey(n.name).includes(query) ? 1 : 2);
  const found = names.filter((n) => score(n) < 2).sort((a, b) => score(a) - score(b) || a.name.localeCompare(b.name));
  if (state.me.teacher && ('all'.startsWith(query) || toKey(t('everyone')).startsWith(query))) found.unshift({ name: 'all' });
  return found.slice(0, MAX_SHOWN);
}

export function bindMentionPicker(input, list, onInsert) {
  let options = [];
  let picked = 0;
  const query = () => (state.active === GROUP ? QUERY_RE.exec(input.value.slice(0, input.selectionStart))?.[2] : undefined);

  function render() {
    list.replaceChildren(...options.map((option, i) => {
      const li = clone('tpl-mention');
      li.id = `mention-${i}`;
      li.dataset.mention = option.name;
      li.setAttribute('aria-selected', String(i === picked));
      $('[data-avatar]', li).src = option.name === 'all' ? 'avatars/group.svg' : avatarUrl(option.avatar);
      if (option.name === 'all') setText($('[data-name]', li), 'everyone');
      else $('[data-name]', li).textContent = option.name;
      return li;
    }));
    list.hidden = !options.length;
    input.setAttribute('aria-expanded', String(!list.hidden));
    if (list.hidden) input.removeAttribute('aria-activedescendant');
    else input.setAttribute('aria-activedescendant', `mention-${picked}`);
  }

  function update() {
    const q = query();
    options = q === undefined ? [] : candidates(toKey(q));
    picked = 0;
    render();
  }

  function insert(name) {
    const end = input.selectionStart;
    input.setRangeText(`@${name} `, input.value.lastIndexOf('@', end - 1), end, 'end');
    options = [];
    render();
    input.focus();
    onInsert();
  }

  const KEYS = {
    ArrowDown: () => { picked = (picked + 1) % options.length; render(); },
    ArrowUp: () => { picked = (picked + options.length - 1) % options.length; render(); },
    Enter: () => insert(options[picked].name),
    Tab: () => insert(options[picked].name),
    Escape: () => { options = []; render(); },
  };
  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-controls', list.id || 'mention-list');
  list.id ||= 'mention-list';
  input.addEventListener('input', update);
  input.addEventListener('click', update);
  // Capture: on the box itself this runs before the composer's Enter-sends listener.
  input.addEventListener('keydown', (event) => {
    const key = KEYS[event.key];
    if (!key || !options.length || event.isComposing) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    key();
  }, { capture: true });
  list.addEventListener('pointerdown', (event) => event.preventDefault()); // the box keeps the focus (and the phone its keyboard)
  list.addEventListener('click', (event) => {
    const name = event.target.closest('[data-mention]')?.dataset.mention;
    if (name) insert(name);
  });
  state.on('active', update);
  update();
}
