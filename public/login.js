// The login page of a room (`/?room=7b`, none: the default room): a plain GET form to chat.html carrying
// room, nickname and avatar, prefilled from the query string or the last visit, under the room's title.
import {
  AVATARS, DEFAULT_ROOM, avatarUrl, bindLanguageSelect, isDefaultTitle, isRoomId, store, t, tabStore, toAvatar, toNickname, toRoomId,
} from './i18n.js';

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
const roomId = toRoomId(params.get('room'));
const roomInput = form.elements.namedItem('room');
roomInput.value = roomId;
roomInput.disabled = roomId === DEFAULT_ROOM; // the default room's chat address stays as it always was

// The teacher link (/?room=7b#teacher=KEY): the key is kept for that room in this tab only, and leaves the
// address bar at once.
const teacherKey = new URLSearchParams(location.hash.slice(1)).get('teacher');
if (teacherKey) {
  tabStore.set(`teacherKey.${roomId}`, teacherKey);
  history.replaceState(null, '', location.pathname + location.search);
}
document.querySelector('[data-teacher-note]').hidden = !tabStore.get(`teacherKey.${roomId}`);

nameInput.value ||= params.get('name') ?? store.get('chat.name') ?? ''; // what was typed before this ran stays
const avatar = toAvatar(params.get('avatar') ?? store.get('chat.avatar'));
form.querySelector(`input[name="avatar"][value="${avatar}"]`).checked = true;
if (!nameInput.value) nameInput.focus();

const MAX_NAME = 24; // code points, as the server counts them (maxlength would count UTF-16 units: 😀 is two)
const isTooLong = (name) => [...name].length > MAX_NAME;

/** What is wrong with the nickname as typed (a dictionary key), or nothing; empty is for `required` to say. */
function toNameError(raw) {
  const name = toNickname(raw);
  if (!raw) return '';
  if (!name) return 'nicknameHint'; // only spaces: `required` lets them through
  return isTooLong(name) ? 'nicknameTooLong' : '';
}

/** Sets the field's refusal in the current language; whether the nickname may go. */
function checkName() {
  const key = toNameError(nameInput.value);
  nameInput.setCustomValidity(key ? t(key) : '');
  return !key;
}

nameInput.addEventListener('input', checkName);
form.addEventListener('submit', (event) => {
  if (!checkName()) { // said, never cut
    event.preventDefault();
    nameInput.reportValidity();
    return;
  }
  const name = toNickname(nameInput.value);
  nameInput.value = name;
  store.set('chat.name', name);
  store.set('chat.avatar', form.elements.namedItem('avatar').value);
});

/** The room's title as the heading; an unknown room gets a sentence instead of the form. */
async function showRoom() {
  const res = isRoomId(roomId) ? await fetch(`/api/rooms/${roomId}`).catch(() => null) : { status: 404, isApi: true };
  // A 404 counts only from the rooms API (JSON): an older server without it still gets the form.
  const isMissing = res?.status === 404 && (res.isApi || res.headers.get('content-type')?.includes('json'));
  if (isMissing) {
    for (const el of document.querySelectorAll('[data-intro], [data-teacher-note], [data-login]')) el.hidden = true;
    document.querySelector('[data-no-room]').hidden = false;
    return;
  }
  const room = res?.ok ? await res.json().catch(() => null) : null;
  if (!room || isDefaultTitle(room)) return;
  const heading = document.querySelector('[data-room-title]');
  delete heading.dataset.i18n; // a teacher's title stays as typed in every language
  heading.textContent = room.title;
}

bindLanguageSelect(document.querySelector('[data-lang]'), checkName);
checkName();
showRoom();
