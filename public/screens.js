// The screen that covers the chat when this page cannot (or may no longer) take part: a refusal at the door,
// a removal by the teacher, a class that is gone. It says why and offers the one next step that can work:
// a link (`link`, to `href` or back to the login page) or a button (`action`, a data-action of chat.js).
// connection.js shows the screen at once and loads this module to fill it: few pages ever need it.
import { roomParams } from './i18n.js';
import { $, loadStyle, setText } from './dom.js';
import { state } from './state.js';

loadStyle('screens.css');

const SCREENS = {
  invalid_name: { link: 'backToLogin' }, // the server's sentence says what is wrong with the name
  name_taken: { link: 'backToLogin' },
  kicked: { text: 'kicked', hint: 'kickedHint', link: 'loginPage' }, // another nickname would not get in either
  no_room: { text: 'noRoomAnyMore', link: 'home', href: '/' },
  bad_key: { text: 'badKey', hint: 'badKeyHint', action: 'student', label: 'joinAsStudent' }, // never teacher controls that fail
  rate_limited: { text: 'tooManyTries', hint: 'tooManyTriesHint', action: 'student', label: 'joinAsStudent' }, // only keys are held back
  closed: { text: 'closedRoom' }, // nothing to go back to
  waiting: { text: 'waitingForTeacher', hint: 'waitingHint' }, // the page goes on by itself once let in
  refused: { text: 'notLetIn', link: 'backToLogin' },
  taken: { text: 'nameTakenWhileWaiting', link: 'backToLogin' },
};

const ui = {
  screen: $('[data-refused]'), text: $('[data-refused-text]'), hint: $('[data-refused-hint]'),
  link: $('[data-back]'), button: $('[data-refused] button'),
};

/** `sentence`: the server's own words for the refusal (in the page's language), for codes without our own. */
export function fillScreen(code, sentence) {
  const screen = SCREENS[code] ?? {};
  if (screen.text) setText(ui.text, screen.text);
  else {
    delete ui.text.dataset.i18n;
    ui.text.textContent = sentence ?? code;
  }
  ui.hint.hidden = !screen.hint;
  if (screen.hint) setText(ui.hint, screen.hint);
  ui.link.hidden = !screen.link;
  if (screen.link) setText(ui.link, screen.link);
  const { name, avatar } = state.me;
  ui.link.href = screen.href ?? `index.html?${new URLSearchParams({ ...roomParams(state.room.id), name, avatar })}`;
  ui.button.hidden = !screen.action;
  if (screen.action) {
    ui.button.dataset.action = screen.action;
    setText(ui.button, screen.label);
  }
  if (!ui.screen.hidden) (screen.action ? ui.button : ui.link).focus();
}
