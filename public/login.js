// The login page: a plain GET form to chat.html, prefilled from the query string or the last visit.
import { bindLanguageSelect, store, t, toAvatar, toNickname } from './i18n.js';

const form = document.querySelector('[data-login]');
const nameInput = form.elements.namedItem('name');
const params = new URLSearchParams(location.search);

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
