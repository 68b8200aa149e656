// The login page: a plain GET form to chat.html, prefilled from the query string or the last visit.
import { AVATARS, avatarUrl, bindLanguageSelect, store, t, tabStore, toAvatar, toNickname } from './i18n.js';

const form = document.querySelector('[data-login]');
const choice = document.getElementById('tpl-avatar');
for (const id of AVATARS) { // one radio button per animal, named in the current language
  const label = choice.content.firstElementChild.cloneNode(true);
  const [input, img, name] = label.children;
  input.value = id;
  img.src = avatarUrl(id);
  name.dataset.i18n = id;
  choice.before(label);
}
const nameInput = form.elements.namedItem('name');
const params = new URLSearchParams(location.search);

// The teacher link (/#teacher=KEY): the key stays in this tab only, and leaves the address bar at once.
const teacherKey = new URLSearchParams(location.hash.slice(1)).get('teacher');
if (teacherKey) {
  tabStore.set('teacherKey', teacherKey);
  history.replaceState(null, '', location.pathname + location.search);
}
document.querySelector('[data-teacher-note]').hidden = !tabStore.get('teacherKey');

nameInput.value = params.get('name') ?? store.get('chat.name') ?? '';
const avatar = toAvatar(params.get('avatar') ?? store.get('chat.avatar'));
form.querySelector(`input[name="avatar"][value="${avatar}"]`).checked = true;
if (!nameInput.value) nameInput.focus();

nameInput.addEventListener('input', () => nameInput.setCustomValidity(''));
form.addEventListener('submit', (event) => {
  const name = toNickname(nameInput.value);
  if (!name) { // only spaces: `required` lets it through
    event.preventDefault();
    nameInput.setCustomValidity(t('nicknameHint'));
    nameInput.reportValidity();
    return;
  }
  nameInput.value = name;
  store.set('chat.name', name);
  store.set('chat.avatar', form.elements.namedItem('avatar').value);
});

bindLanguageSelect(document.querySelector('[data-lang]'));
