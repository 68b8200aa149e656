// The chat page's entry: who I am comes from the address, each view subscribes to the state owner, then
// the connection opens. The teacher's tools load only once the server says this person is the teacher.
import { bindLanguageSelect, roomParams, store, toAvatar, toNickname, toRoomId } from './i18n.js';
import { $, retime, toast } from './dom.js';
import { connect, emitAck, joinAsStudent, recall, retry } from './connection.js';
import { showOriginal, toQuoteOf } from './messages.js';
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
  'cancel-reply': () => state.setReply(null),
  file: () => import('./attach.js').then((attach) => attach.pick()),
  voice: () => import('./voice.js').then((voice) => voice.record()),
  hand: async () => { // the server's `hand` event redraws the button
    if (!(await emitAck('hand', { up: !state.me.hand }))?.ok) toast('notDone');
  },
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
  ui.logs.addEventListener('click', onMessageClick);
  document.addEventListener('visibilitychange', () => state.readActive());
  bindLanguageSelect($('[data-lang]'), () => { renderTyping(); renderBadges(); retime(); });
}

let picked = null; // the message whose actions a tap showed (a phone has no hover)

/** One listener for every message: retry, recall, reply, a quote, a picture, a tap on a bubble. */
async function onMessageClick(event) {
  const li = event.target.closest('.msg');
  const hook = event.target.closest('[data-retry], [data-recall], [data-reply], [data-quote], [data-vote], [data-play], .pic');
  if (hook?.matches('[data-play]')) import('./media-card.js').then((card) => card.toggle(hook));
  else if (hook?.matches('.pic')) {
    event.preventDefault();
    import('./viewer.js').then((viewer) => viewer.open(hook.href), () => window.open(hook.href, '_blank', 'noopener'));
  } else if (hook?.matches('[data-vote]')) {
    const ack = await emitAck('vote', { poll: li.dataset.id, option: Number(hook.dataset.vote) }); // the server's `voted` marks it
    if (!ack?.ok) toast(ack?.error === 'closed' ? 'pollIsClosed' : 'notDone');
  } else if (hook?.matches('[data-quote]')) showOriginal(hook.dataset.quote);
  else if (hook?.matches('[data-reply]')) state.setReply(toQuoteOf(li));
  else if (hook?.matches('[data-retry]')) retry(li.dataset.cid);
  else if (hook?.matches('[data-recall]')) {
    const error = await recall(li.dataset.id);
    if (error) { // too late, or the connection is away: the button says so instead
      hook.hidden = true;
      toast(error === 'too_late' ? 'recallTooLate' : 'recallFailed');
    }
  } else if (li && event.target.closest('.bubble') && !event.target.closest('a')) {
    if (picked !== li) picked?.classList.remove('picked');
    picked = li.classList.toggle('picked') ? li : null;
  }
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
