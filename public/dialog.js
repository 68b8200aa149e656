// Dialogs of the teacher's tools: DOM nodes only (constant markup, strings from the dictionary).
import { translate } from './i18n.js';
import { setText } from './dom.js';

/** A dialog of DOM nodes (constant markup, strings from the dictionary), closed and removed by its buttons. */
export function openDialog(className, fill) {
  const dialog = document.createElement('dialog');
  dialog.className = className;
  fill(dialog);
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  translate(dialog);
  dialog.showModal();
  return dialog;
}

export const element = (tag, props = {}, key) => {
  const el = Object.assign(document.createElement(tag), props);
  if (key) setText(el, key);
  return el;
};
