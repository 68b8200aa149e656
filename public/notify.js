// A short sound and a vibration for what is addressed to me (a private message), loaded the first time one
// comes. Browsers allow sound only after the reader has touched the page: before that, the beep stays silent
// (the vibration and the toast still work).
import { store } from './i18n.js';

let audio = null;

export const isOn = () => store.get('chat.sound') !== 'off';

export function ring() {
  if (!isOn()) return;
  navigator.vibrate?.(120);
  try {
    audio ??= new AudioContext();
    if (audio.state === 'suspended') audio.resume().catch(() => {});
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = 880;
    gain.gain.setValueAtTime(0.08, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.25);
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.25);
  } catch {} // no Web Audio here: the vibration and the toast are enough
}
