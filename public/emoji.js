// A small built-in emoji picker: a toggle button, a panel of buttons, insertion at the caret. Loaded the
// first time the toggle is pressed, so a page that never opens it never downloads it (nor its stylesheet).
import { loadStyle } from './dom.js';

loadStyle('emoji.css');

const EMOJI = [
  '😀', '😂', '😊', '😍', '🥰', '😎', '🤩', '🥳', '😇', '🤗', '🤔', '😅', '😮', '🙄', '😴', '😭', '😡', '🙈',
  '👍', '👎', '👏', '🙌', '🙏', '💪', '👋', '✌️', '👌', '❤️', '💔', '🔥', '⭐', '🎉', '💯', '✅', '❌', '❓',
  '📚', '✏️', '🍎', '⚽', '🐱', '🐶', '🌈', '☀️',
];

/** Wires the picker; `onPick` runs after an emoji went into `input`. Returns `show(isOpen)`. */
export function bindEmojiPicker(toggle, panel, input, onPick = () => {}) {
  for (const emoji of EMOJI) {
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.emoji = emoji;
    button.textContent = emoji;
    panel.append(button);
  }
  const show = (isOpen) => {
    panel.hidden = !isOpen;
    toggle.setAttribute('aria-expanded', String(isOpen));
    if (isOpen) panel.querySelector('button').focus();
  };
  toggle.addEventListener('click', () => show(panel.hidden));
  panel.addEventListener('click', (event) => {
    const emoji = event.target.closest('[data-emoji]')?.dataset.emoji;
    if (!emoji) return;
    input.setRangeText(emoji, input.selectionStart, input.selectionEnd, 'end');
    show(false);
    input.focus();
    onPick();
  });
  panel.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    show(false);
    toggle.focus();
  });
  document.addEventListener('click', (event) => {
    if (!panel.hidden && !panel.contains(event.target) && !toggle.contains(event.target)) show(false);
  });
  return show;
}
