// The teacher's controls, loaded by chat.js only once the server says this person is the teacher: room
// actions through the `teacher` event, the transcript over HTTP with the key as a bearer token (never in a URL).
// Everything here follows state.me.teacher, so a page that stops being the teacher's shows no control that would fail.
import { t } from './i18n.js';
import { $, clone, setText, toast } from './dom.js';
import { emitAck, teacherKey } from './connection.js';
import { state, toKey } from './state.js';

const ui = {
  bar: $('[data-teacher-bar]'), unpin: $('[data-teacher="unpin"]'), tools: $('[data-tools]'),
  kickedHead: $('[data-kicked-head]'), kicked: $('[data-list="kicked"]'),
};

async function act(action, name) {
  if (action === 'transcript') return download();
  if (/^(clear|kick)$/.test(action) && !confirm(t(`${action}Confirm`, { name }))) return;
  const payload = name ? { action, name } : { action };
  if (action === 'pin') payload.content = prompt(t('pinPrompt'), state.room.pinned?.content ?? '')?.trim();
  if (action === 'pin' && !payload.content) return;
  const ack = await emitAck('teacher', payload);
  if (!ack?.ok) toast('notDone');
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
  const { room } = state;
  const quiet = $('[aria-pressed]', ui.bar);
  quiet.setAttribute('aria-pressed', room.quiet);
  quiet.dataset.teacher = room.quiet ? 'unquiet' : 'quiet';

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

export function start() {
  for (const event of ['me', 'room', 'people', 'active']) state.on(event, render);
  document.addEventListener('click', (event) => {
    const button = event.target.closest('[data-teacher]');
    if (button && state.me.teacher) act(button.dataset.teacher, button.dataset.name);
  });
  render();
}
