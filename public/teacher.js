// The teacher's controls, loaded by chat.js only for the teacher: room actions through the `teacher`
// event, the transcript over HTTP with the key as a bearer token (never in a URL).
import { t, tabStore } from './i18n.js';
import { active, clone, convs, people, room, setText, socket, toast, toKey } from './chat.js';

const $ = (selector) => document.querySelector(selector);

async function act(action, name) {
  if (action === 'transcript') return download();
  if (/^(clear|kick)$/.test(action) && !confirm(t(`${action}Confirm`, { name }))) return;
  const payload = name ? { action, name } : { action };
  if (action === 'pin') payload.content = prompt(t('pinPrompt'), room.pinned?.content ?? '')?.trim();
  if (action === 'pin' && !payload.content) return;
  const ack = await socket.timeout(10_000).emitWithAck('teacher', payload).catch(() => ({}));
  if (!ack.ok) toast('notDone');
}

async function download() {
  const headers = { Authorization: `Bearer ${tabStore.get('teacherKey')}` };
  const res = await fetch('/api/transcript?format=md', { headers }).catch(() => null);
  if (!res?.ok) return toast('notDone');
  const link = document.createElement('a');
  link.href = URL.createObjectURL(await res.blob());
  link.download = `transcript-${new Date().toISOString().slice(0, 10)}.md`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

export function render() {
  const quiet = $('[data-teacher-bar] [aria-pressed]');
  quiet.setAttribute('aria-pressed', room.quiet);
  quiet.dataset.teacher = room.quiet ? 'unquiet' : 'quiet';

  const partner = convs.get(active).name; // null in the group
  const tools = $('[data-tools]');
  const mute = tools.firstElementChild;
  tools.hidden = !partner || !people.has(toKey(partner));
  for (const button of tools.children) button.dataset.name = partner ?? '';
  mute.dataset.teacher = partner && room.muted.some((n) => toKey(n) === toKey(partner)) ? 'unmute' : 'mute';
  setText(mute, mute.dataset.teacher);

  $('[data-kicked-head]').hidden = !room.kicked.length;
  $('[data-list="kicked"]').replaceChildren(...room.kicked.map((name) => {
    const li = clone('tpl-kicked');
    li.querySelector('[data-name]').textContent = name;
    li.querySelector('button').dataset.name = name;
    return li;
  }));
}

export function start() {
  $('[data-teacher-bar]').hidden = false;
  $('[data-teacher="unpin"]').hidden = false;
  document.addEventListener('click', (event) => {
    const button = event.target.closest('[data-teacher]');
    if (button) act(button.dataset.teacher, button.dataset.name);
  });
}
