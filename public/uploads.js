// Files and voice messages go over HTTP in chunks of 1 MB, never in Socket.IO frames. Each chunk goes where the
// server says the upload stands, so a drop on flaky Wi-Fi costs one chunk and Retry goes on from there; then the
// message that sends the upload, under the item's cid like any message.
import { state } from './state.js';

const CHUNK = 2 ** 20;
const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';
const newId = () => Array.from(crypto.getRandomValues(new Uint8Array(21)), (b) => ID_CHARS[b & 63]).join('');

/** Uploads `item.media` (what is not there yet), then sends it: the ack, or why not. */
export async function sendMedia(item, emitAck, isCurrent, session) {
  const { media } = item;
  media.id ??= newId();
  const url = `/api/uploads/${state.room.id}/${media.id}`;
  const headers = { 'x-chat-session': session };
  for (let isAgain = false; ; isAgain = true) {
    const refused = await upload(media, url, headers, item, isCurrent);
    if (refused !== undefined) return refused;
    const payload = { content: '', cid: item.cid, upload: media.id };
    if (item.to !== undefined) payload.to = item.to;
    if (media.kind === 'voice') payload.duration = media.duration;
    else payload.name = media.blob.name;
    const ack = await emitAck('textmsg', payload);
    // A finished upload the server no longer holds (it restarted, or its cluster node died, before the send):
    // once more from the start, once.
    if (ack?.error === 'not_found' && !isAgain && isCurrent()) {
      media.done = false;
      continue;
    }
    if (ack?.ok && item.echo) import('./media-card.js').then((card) => card.fill(item.el, item.echo)); // its URL, from the server
    return ack;
  }
}

/** The chunks the server does not have yet: nothing once done, else why not (null if no longer current). */
async function upload(media, url, headers, item, isCurrent) {
  let at = media.done ? media.blob.size : (await (await fetch(url, { headers })).json()).received ?? 0;
  while (!media.done) {
    if (!isCurrent()) return null;
    const end = Math.min(at + CHUNK, media.blob.size);
    const res = await fetch(`${url}?kind=${media.kind}`, {
      method: 'PUT', body: media.blob.slice(at, end), headers: { ...headers, 'content-range': `bytes ${at}-${end - 1}/${media.blob.size}` },
    });
    const answer = await res.json();
    if (res.status === 201) media.done = true;
    else if (res.ok || res.status === 409) at = answer.received;
    else return { ok: false, error: answer.error };
    if (item.progress) item.progress.value = at / media.blob.size;
  }
}
