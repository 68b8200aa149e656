// A poll in the chat: the teacher's question, one button per answer (a student's vote, which they may change until
// the poll is closed), and bars with the counts once closed; the teacher sees them live, and who chose what unless
// the poll is anonymous. Loaded the first time a poll is shown.
import { $, loadStyle, setText } from './dom.js';
import { state } from './state.js';

loadStyle('polls.css');
const cards = new Map(); // poll id -> { el, poll: PollView as it stands }

/** Fills the bubble of the poll message `li` (the question is already its text). */
export function fillPoll(li, m) {
  const el = document.createElement('div');
  el.className = 'poll';
  $('[data-text]', li).after(el);
  cards.set(m.id, { el, id: m.id, poll: { ...m.poll } });
  render(m.id);
}

export function voted({ id, option }) { update(id, { mine: option }); }
export function votes({ id, counts, voters }) { update(id, { counts, voters }); }
export function closed({ id, counts }) { update(id, { counts, closed: true }); }

function update(id, fields) {
  const card = cards.get(id);
  if (!card) return;
  Object.assign(card.poll, fields);
  render(id);
}

function render(id) {
  const { el, poll } = cards.get(id);
  const total = poll.counts?.reduce((a, b) => a + b, 0) ?? 0;
  const rows = poll.options.map((option, i) => {
    const row = document.createElement(poll.closed || state.me.teacher ? 'div' : 'button');
    row.className = 'poll-option';
    if (row.tagName === 'BUTTON') {
      row.type = 'button';
      row.dataset.vote = String(i);
      row.setAttribute('aria-pressed', String(poll.mine === i));
    } else if (poll.mine === i) row.classList.add('is-mine');
    const label = Object.assign(document.createElement('span'), { className: 'poll-label', textContent: option });
    row.append(label);
    if (poll.counts) {
      const bar = Object.assign(document.createElement('progress'), { max: Math.max(total, 1), value: poll.counts[i] });
      const count = Object.assign(document.createElement('span'), { className: 'poll-count', textContent: String(poll.counts[i]) });
      row.append(bar, count);
      const who = poll.voters?.filter((v) => v.option === i).map((v) => v.name);
      if (who?.length) row.append(Object.assign(document.createElement('span'), { className: 'poll-who', textContent: who.join(', ') }));
    }
    return row;
  });
  const note = document.createElement('p');
  note.className = 'poll-note';
  setText(note, poll.closed ? 'pollClosedNote' : state.me.teacher ? 'pollLive' : 'pollOpenHint', { count: String(total) });
  if (poll.anonymous) note.prepend(Object.assign(document.createElement('span'), { className: 'tag' }), ' ');
  if (poll.anonymous) setText(note.firstElementChild, 'pollAnonymous');
  const parts = [...rows, note];
  if (state.me.teacher && !poll.closed) {
    const close = Object.assign(document.createElement('button'), { type: 'button', className: 'poll-close' });
    close.dataset.teacher = 'closePoll';
    close.dataset.id = id;
    setText(close, 'closePoll');
    parts.push(close);
  }
  el.replaceChildren(...parts);
}
