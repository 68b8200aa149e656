// The chat page's entry: who I am comes from the address, each view subscribes to the state owner, then
// the connection opens. The teacher's tools load only once the server says this person is the teacher.
import { bindLanguageSelect, roomParams, store, toAvatar, toNickname, toRoomId } from './i18n.js';
import { $, retime, toast } from './dom.js';
import { connect, joinAsStudent, recall, retry } from './connection.js';
import { renderBadges, renderTyping, scrollDown, startConversations } from './conversations.js';
import { startComposer } from './composer.js';
import { startPeople } from './people.js';
import { startRoom } from './room.js';
import { GROUP, state } from './state.js';

const ui = { sidebar: $('#sidebar'), toggle: $('[data-action="people"]'), logs: $('[data-logs]') };

function setDrawer(isOpen) {
  ui.sidebar.classList.toggle('is-open', isOpen);
  ui.toggle.setAttribute('aria-expanded', String(isOpen));
  if (isOpen) $('[data-action="close"]').focus();
}

const ACTIONS = {
  people: () => setDrawer(!ui.sidebar.classList.contains('is-open')),
  close: () => { setDrawer(false); ui.toggle.focus(); },
  group: () => state.open(GROUP),
  bottom: scrollDown,
  student: joinAsStudent,
  sound: () => { // sound and vibration for private messages: on unless switched off here (kept in this browser)
    store.set('chat.sound', store.get('chat.sound') === 'off' ? 'on' : 'off');
    renderSound();
  },
};

const renderSound = () => $('[data-action="sound"]').setAttribute('aria-pressed', String(store.get('chat.sound') !== 'off'));

function bindControls() {
  document.addEventListener('click', (event) => {
    const action = event.target.closest('[data-action]')?.dataset.action;
    if (action) ACTIONS[action]();
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && ui.sidebar.classList.contains('is-open')) ACTIONS.close();
  });
  ui.logs.addEventListener('click', async (event) => {
    const cid = event.target.closest('[data-retry]')?.closest('[data-cid]')?.dataset.cid;
    if (cid) retry(cid);
    const recallButton = event.target.closest('[data-recall]');
    const id = recallButton?.closest('[data-id]')?.dataset.id;
    if (!id) return;
    const error = await recall(id);
    if (error) { // too late, or the connection is away: the button says so instead
      recallButton.hidden = true;
      toast(error === 'too_late' ? 'recallTooLate' : 'recallFailed');
    }
  });
  document.addEventListener('visibilitychange', () => state.readActive());
  bindLanguageSelect($('[data-lang]'), () => { renderTyping(); renderBadges(); retime(); });
}

let teacherTools = null;
function loadTeacherTools() {
  if (!state.me.teacher) return;
  teacherTools ??= import('./teacher.js').then((module) => module.start(), () => { teacherTools = null; }); // retried at the next welcome
}

const params = new URLSearchParams(location.search);
// Before any view listens: who and where, from the address the login page made (`?room=7b&name=…&avatar=…`).
state.setMe({ name: toNickname(params.get('name') ?? ''), avatar: toAvatar(params.get('avatar')) });
state.setRoom({ id: toRoomId(params.get('room')) });
if (!state.me.name) location.replace(`index.html?${new URLSearchParams(roomParams(state.room.id))}`);
startConversations();
startPeople();
startRoom();
startComposer();
state.on('me', loadTeacherTools);
state.on('active', () => setDrawer(false));
state.conversation(null);
state.open(GROUP);
bindControls();
renderSound();
if (state.me.name) connect();
