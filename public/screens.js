// The screen that covers the chat when this page cannot (or may no longer) take part: a refusal at the door,
// or a removal by the teacher. It says why and offers the one next step that can work.
import { t } from './i18n.js';
import { $, setBanner } from './dom.js';
import { state } from './state.js';

const ui = { screen: $('[data-refused]'), text: $('[data-refused-text]'), back: $('[data-back]') };

export const isScreenShown = () => !ui.screen.hidden;

/** `sentence`: the server's own words for the refusal, in the page's language. */
export function showScreen(code, sentence) {
  setBanner(null);
  ui.screen.hidden = false;
  ui.text.textContent = code === 'kicked' ? t('kicked') : sentence ?? code;
  ui.back.hidden = code === 'kicked'; // another nickname would not get in either
  ui.back.href = `index.html?${new URLSearchParams({ name: state.me.name, avatar: state.me.avatar })}`;
  ui.back.focus();
}

export function hideScreen() {
  ui.screen.hidden = true;
}
