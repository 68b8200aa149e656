// The picture viewer: a picture of the chat, full size, over the page. It closes with Escape, the close
// button, a tap beside the picture, or the Back button (a phone's habit): opening it adds a history entry.
// Loaded the first time a picture is tapped.
import { t, translate } from './i18n.js';
import { loadStyle } from './dom.js';

loadStyle('viewer.css');

const dialog = Object.assign(document.createElement('dialog'), { className: 'viewer' });
const close = Object.assign(document.createElement('button'), { className: 'viewer-close', type: 'button' });
close.dataset.i18n = 'close';
const img = document.createElement('img');
dialog.append(close, img);
document.body.append(dialog);
translate(dialog);

dialog.addEventListener('click', (event) => { // the backdrop or the button; a tap on the picture itself keeps it open
  if (event.target !== img) dialog.close();
});
dialog.addEventListener('close', () => {
  img.removeAttribute('src');
  if (history.state?.viewer) history.back(); // closed here: the entry it added goes too
});
addEventListener('popstate', () => { if (dialog.open) dialog.close(); });

/** Shows the picture at `url` (one of the chat's own, or a blob: of ours). */
export function open(url) {
  img.src = url;
  img.alt = t('viewer');
  if (!dialog.open) {
    dialog.showModal();
    history.pushState({ viewer: true }, '');
  }
}
