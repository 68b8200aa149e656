// Sharing a file (a worksheet): picked, then queued like any message; the server judges what it is.
import { send } from './connection.js';
import { toast } from './dom.js';

const MAX_FILE = 10 * 2 ** 20;

export function pick() {
  const input = Object.assign(document.createElement('input'), { type: 'file' });
  input.addEventListener('change', () => {
    const [file] = input.files;
    if (!file) return;
    if (file.size > MAX_FILE) return toast('fileTooLarge');
    send('', null, { kind: 'file', blob: file });
  });
  input.click();
}
