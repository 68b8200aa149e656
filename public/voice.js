// Recording a voice message: tap 🎤, then Send or Cancel, at most 60 s with the time shown. The microphone exists
// only in a secure context (HTTPS, or localhost): elsewhere the button says why and offers the phone's own
// recorder (a file input with `capture`, which works over plain HTTP).
import { send } from './connection.js';
import { element, openDialog } from './dialog.js';
import { $, loadStyle, setText, toast } from './dom.js';

loadStyle('media.css');
const MAX_MS = 60_000;
const TYPES = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/mp4']; // Chromium and Firefox, then Safari
let current = null; // the recording under way

export async function record() {
  if (current) return;
  if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia || !window.MediaRecorder) return explain();
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch {
    return toast('micDenied');
  }
  const mimeType = TYPES.find((type) => MediaRecorder.isTypeSupported(type));
  const recorder = new MediaRecorder(stream, { ...(mimeType && { mimeType }), audioBitsPerSecond: 32_000 });
  const chunks = [];
  recorder.addEventListener('dataavailable', (event) => chunks.push(event.data));
  const bar = element('div', { className: 'recording' });
  const time = element('span', { className: 'rec-time' });
  const cancel = element('button', { type: 'button' }, 'cancel');
  const done = element('button', { type: 'button', className: 'primary' }, 'send');
  done.dataset.voiceSend = '';
  bar.append(time, cancel, done);
  $('[data-composer]').before(bar);
  const started = performance.now();
  const tick = () => {
    const ms = performance.now() - started;
    setText(time, 'recording', { time: `${Math.floor(ms / 60_000)}:${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}` });
    if (ms >= MAX_MS) stop(true);
  };
  const timer = setInterval(tick, 250);
  tick();
  const stop = (isSent) => {
    if (!current) return;
    current = null;
    clearInterval(timer);
    const duration = Math.min(MAX_MS, Math.round(performance.now() - started));
    recorder.addEventListener('stop', () => {
      stream.getTracks().forEach((track) => track.stop());
      bar.remove();
      if (isSent && chunks.length) send('', null, { kind: 'voice', blob: new Blob(chunks, { type: recorder.mimeType }), duration });
    });
    recorder.stop();
  };
  cancel.addEventListener('click', () => stop(false));
  done.addEventListener('click', () => stop(true));
  current = recorder;
  recorder.start(1000);
}

/** Not a secure context: why, and the phone's recorder instead. */
function explain() {
  const input = element('input', { type: 'file', accept: 'audio/*', className: 'visually-hidden' });
  input.setAttribute('capture', '');
  input.addEventListener('change', () => { if (input.files[0]) sendRecorded(input.files[0]); dialog.close(); });
  const recorderButton = element('label', { className: 'button' });
  recorderButton.append(input, element('span', {}, 'useRecorder'));
  const close = element('button', { type: 'button' }, 'close');
  const dialog = openDialog('confirm voice-dialog', (d) => {
    const buttons = element('p', { className: 'buttons' });
    buttons.append(recorderButton, close);
    d.append(element('h2', {}, 'voiceNeedsHttps'), element('p', {}, 'voiceNeedsHttpsText'), buttons);
  });
  close.addEventListener('click', () => dialog.close());
}

/** A recording made by the phone's recorder: its length from the browser's decoder, at most 60 s. */
function sendRecorded(file) {
  const audio = new Audio(URL.createObjectURL(file));
  audio.addEventListener('loadedmetadata', () => {
    const duration = Math.round(audio.duration * 1000);
    URL.revokeObjectURL(audio.src);
    if (!(duration > 0) || duration > MAX_MS + 1000) return toast(duration > 0 ? 'voiceTooLong' : 'bad_type');
    send('', null, { kind: 'voice', blob: file, duration });
  });
  audio.addEventListener('error', () => toast('bad_type'));
}
