// The teacher's controls, loaded by chat.js only once the server says this person is the teacher: room
// actions through the `teacher` event, the transcript over HTTP with the key as a bearer token (never in a URL).
// Everything here follows state.me.teacher, so a page that stops being the teacher's shows no control that would fail.
import { avatarUrl, t, translate } from './i18n.js';
import { element, openDialog } from './dialog.js';
import { $, clone, loadStyle, setText, toast } from './dom.js';
import { emitAck, teacherKey } from './connection.js';
import { state, toKey } from './state.js';
import { closeMenu, openMenu } from './teacher-menu.js';

loadStyle('teacher.css');

const BAR = [['quiet', 'quiet'], ['lock', 'lockRoom'], ['files', 'studentFiles'], ['newPoll', 'newPoll'], ['pin', 'pin'], ['clear', 'clear'], ['transcript', 'transcript']];
const TOGGLES = ['quiet', 'lock', 'files'];

/** The teacher bar, made here: only the teacher has it, so every student's first load is without it. */
function makeBar() {
  const bar = element('div', { className: 'teacher-bar', hidden: true });
  Object.assign(bar.dataset, { teacherBar: '', i18nLabel: 'teacher' });
  bar.setAttribute('role', 'group');
  bar.setAttribute('aria-label', t('teacher'));
  // On a phone the tools fold behind this (teacher.css); what is on (quiet, lock, files, slow) stays in view.
  const fold = element('button', { type: 'button', className: 'tools-toggle' }, 'teacher');
  fold.setAttribute('aria-expanded', 'false');
  fold.addEventListener('click', () => fold.setAttribute('aria-expanded', String(fold.getAttribute('aria-expanded') === 'false')));
  bar.append(fold);
  for (const [action, key] of BAR) {
    const button = element('button', { type: 'button' }, key);
    button.dataset.teacher = action;
    if (TOGGLES.includes(action)) button.setAttribute('aria-pressed', 'false');
    bar.append(button);
  }
  const select = element('select');
  select.dataset.teacherSlow = '';
  for (const seconds of [0, 10, 30, 60]) {
    const option = element('option', { value: String(seconds) });
    setText(option, seconds ? 'slowEvery' : 'slowOff', seconds ? { seconds: String(seconds) } : {});
    select.append(option);
  }
  const slow = element('label', { className: 'slow-mode' });
  slow.append(element('span', {}, 'slowMode'), ' ', select);
  bar.append(slow);
  translate(bar);
  $('header').after(bar);
  return bar;
}

const ui = {
  hands: $('[data-hands]'), waitlist: $('[data-waitlist]'),
  bar: makeBar(), unpin: $('[data-teacher="unpin"]'), tools: $('[data-tools]'),
  kickedHead: $('[data-kicked-head]'), kicked: $('[data-list="kicked"]'), slow: $('[data-teacher-slow]'),
};

/** One action from a button: its data-teacher, and data-name, data-id, data-minutes where it has them. */
async function act(button) {
  const { teacher: action, name, id, minutes } = button.dataset;
  closeMenu();
  if (action === 'transcript') return download();
  if (action === 'clear') return confirmClear();
  if (action === 'newPoll') return askPoll();
  if (action === 'write') return state.open(state.conversationWith(name).key);
  if (action === 'kick' && !confirm(t('kickConfirm', { name }))) return;
  const payload = { action };
  if (name) payload.name = name;
  if (id) payload.id = id;
  if (minutes) payload.minutes = Number(minutes);
  if (action === 'pin') payload.content = prompt(t('pinPrompt'), state.room.pinned?.content ?? '')?.trim();
  if (action === 'pin' && !payload.content) return;
  await send(payload);
}

async function send(payload) {
  const ack = await emitAck('teacher', payload);
  if (!ack?.ok) toast('notDone');
}

/** The teacher asks the class: a question, 2 to 6 answers, anonymous or not. */
function askPoll() {
  const answers = element('div', { className: 'poll-answers' });
  const addAnswer = () => {
    const n = answers.children.length + 1;
    const label = element('label', {}, undefined);
    const text = element('span');
    setText(text, 'pollAnswer', { n: String(n) });
    label.append(text, element('input', { name: 'answer', maxLength: 100, required: n <= 2 }));
    answers.append(label);
    add.hidden = answers.children.length >= 6;
  };
  const add = element('button', { type: 'button' }, 'addAnswer');
  add.addEventListener('click', () => { addAnswer(); answers.lastElementChild.querySelector('input').focus(); });
  const form = element('form', { method: 'dialog' });
  const question = element('label');
  question.append(element('span', {}, 'pollQuestion'), element('textarea', { name: 'question', required: true, maxLength: 2000, rows: 2 }));
  const anonymous = element('label', { className: 'check' });
  anonymous.append(element('input', { type: 'checkbox', name: 'anonymous' }), element('span', {}, 'pollAnonymousChoice'));
  const buttons = element('p', { className: 'buttons' });
  buttons.append(element('button', { type: 'button', value: 'cancel' }, 'cancel'), element('button', { type: 'submit', className: 'primary' }, 'askPoll'));
  form.append(element('h2', {}, 'newPoll'), question, answers, add, anonymous, buttons);
  const dialog = openDialog('confirm poll-dialog', (d) => d.append(form));
  addAnswer();
  addAnswer();
  buttons.firstElementChild.addEventListener('click', () => dialog.close());
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const options = [...form.querySelectorAll('[name="answer"]')].map((input) => input.value.trim()).filter(Boolean);
    const content = form.elements.namedItem('question').value.trim();
    if (!content || options.length < 2) return toast('notDone');
    dialog.close();
    await send({ action: 'poll', content, options, anonymous: form.elements.namedItem('anonymous').checked });
  });
  question.querySelector('textarea').focus();
}

/** Clearing cannot be undone: the teacher is told so and offered the transcript first. */
function confirmClear() {
  const dialog = document.createElement('dialog');
  dialog.className = 'confirm';
  const title = dialog.appendChild(document.createElement('h2'));
  const text = dialog.appendChild(document.createElement('p'));
  const buttons = dialog.appendChild(document.createElement('p'));
  setText(title, 'clearTitle');
  setText(text, 'clearWarning');
  for (const [key, what] of [['transcript', 'transcript'], ['clearNow', 'clear'], ['cancel', 'cancel']]) {
    const button = buttons.appendChild(document.createElement('button'));
    Object.assign(button, { type: 'button', className: what === 'clear' ? 'danger' : '' });
    button.dataset.choice = what;
    setText(button, key);
  }
  dialog.addEventListener('click', async (event) => {
    const choice = event.target.closest('[data-choice]')?.dataset.choice;
    if (choice === 'transcript') return download();
    if (choice === 'clear') await send({ action: 'clear' });
    if (choice) dialog.close();
  });
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  translate(dialog);
  dialog.showModal();
  buttons.firstElementChild.focus(); // the safe choice first
}

async function download() {
  const headers = { Authorization: `Bearer ${teacherKey()}` };
  const query = new URLSearchParams({ format: 'md', room: state.room.id });
  const res = await fetch(`/api/transcript?${query}`, { headers }).catch(() => null);
  if (!res?.ok) return toast('notDone');
  const link = document.createElement('a');
  link.href = URL.createObjectURL(await res.blob());
  link.download = `transcript-${new Date().toISOString().slice(0, 10)}.md`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

function render() {
  const isTeacher = state.me.teacher;
  ui.bar.hidden = ui.unpin.hidden = !isTeacher;
  document.body.classList.toggle('is-teacher', isTeacher);
  const { room } = state;
  ui.slow.value = String(room.slow ?? 0);
  for (const [button, isOn, on, off] of [[$('[data-teacher$="quiet"]', ui.bar), room.quiet, 'quiet', 'unquiet'], [$('[data-teacher$="lock"]', ui.bar), room.locked, 'lock', 'unlock'], [$('[data-teacher$="files"]', ui.bar), room.files, 'files', 'nofiles']]) {
    button.setAttribute('aria-pressed', String(!!isOn));
    button.dataset.teacher = isOn ? off : on;
  }

  const partner = state.activeConv.name; // null in the group
  const mute = ui.tools.firstElementChild;
  ui.tools.hidden = !isTeacher || !partner || !state.people.has(toKey(partner));
  for (const button of ui.tools.children) button.dataset.name = partner ?? '';
  mute.dataset.teacher = partner && state.isMuted(partner) ? 'unmute' : 'mute';
  setText(mute, mute.dataset.teacher);

  const kicked = isTeacher ? room.kicked : [];
  ui.kickedHead.hidden = !kicked.length;
  ui.kicked.replaceChildren(...kicked.map((name) => {
    const li = clone('tpl-kicked');
    $('[data-name]', li).textContent = name;
    $('button', li).dataset.name = name;
    return li;
  }));
}

/** A button of a queue: its action on one person (`name`) or on all, its label, and for a screen reader whose. */
function queueButton(action, key, name, labelKey) {
  const button = Object.assign(document.createElement('button'), { type: 'button' });
  button.dataset.teacher = action;
  setText(button, key, name ? { name } : {});
  if (labelKey) {
    button.dataset.i18nLabel = labelKey;
    button.setAttribute('aria-label', t(labelKey, button.dataset));
  }
  return button;
}

/** A queue of people above the chat, oldest first: who, since when, and buttons for each and for all. */
function renderQueue(region, queue, titleKey, each, all) {
  region.hidden = !queue.length;
  const title = document.createElement('h2');
  setText(title, titleKey);
  const items = queue.map((person) => {
    const item = document.createElement('span');
    item.className = 'hand-item';
    const avatar = Object.assign(document.createElement('img'), { className: 'avatar', src: avatarUrl(person.avatar), alt: '', width: 24, height: 24 });
    const name = Object.assign(document.createElement('span'), { textContent: person.name });
    const since = document.createElement('time');
    const minutes = Math.floor((Date.now() - person.at) / 60_000);
    setText(since, minutes ? 'minutesAgo' : 'justNow', { minutes: String(minutes) });
    item.append(avatar, name, since, ...each.map(([action, key, labelKey]) => queueButton(action, key, person.name, labelKey)));
    return item;
  });
  region.replaceChildren(title, ...items, ...(queue.length > 1 ? [queueButton(...all)] : []));
}

/** The raised hands and the people waiting to come in. */
function renderQueues() {
  const isTeacher = state.me.teacher;
  renderQueue(ui.hands, isTeacher ? state.hands : [], 'handsTitle', [['lower', 'lower', 'lowerHandOf']], ['lowerAll', 'lowerAll']);
  renderQueue(ui.waitlist, isTeacher ? state.waitlist : [], 'waitlistTitle',
    [['admit', 'letIn', 'letInWho'], ['refuse', 'refuseEntry', 'refuseWho']], ['admitAll', 'letAllIn']);
}

export function start() {
  for (const event of ['me', 'room', 'people', 'active']) state.on(event, render);
  for (const event of ['hands', 'waitlist', 'me']) state.on(event, renderQueues);
  setInterval(renderQueues, 30_000); // "how long ago" moves on
  document.addEventListener('click', (event) => {
    if (!state.me.teacher) return;
    const button = event.target.closest('[data-teacher], [data-more]');
    if (button?.matches('[data-more]')) openMenu(button);
    else if (button) act(button);
  });
  ui.slow.addEventListener('change', () => send({ action: 'slow', seconds: Number(ui.slow.value) }));
  render();
  renderQueues();
}
