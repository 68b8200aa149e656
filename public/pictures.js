// Pictures, loaded by the outbox the first time it sends one (not at page load, and not while the server
// is away: a picture attached offline waits in the outbox like a text). Shrunk in the page, sent in chunks.
const CHUNK = 32 * 1024; // a picture travels in chunks of this size, each acked before the next
const MAX_SIDE = 1280; // px, the long side of a picture sent
const MAX_BYTES = 300 * 1024;

/** Any picture redrawn as a JPEG of at most MAX_SIDE px and about MAX_BYTES (so no EXIF location leaves either). */
async function toSmallImage(file) {
  const bitmap = await createImageBitmap(file);
  const canvas = document.createElement('canvas');
  let scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  for (let quality = 0.85; ; quality -= 0.15) {
    if (quality < 0.4) [quality, scale] = [0.7, scale * 0.7]; // still too big: fewer pixels
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    const g = canvas.getContext('2d');
    g.fillStyle = '#fff'; // JPEG has no transparency
    g.fillRect(0, 0, canvas.width, canvas.height);
    g.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality));
    if (blob.size <= MAX_BYTES) return blob;
  }
}

/**
 * Sends an outbox item's picture. Each chunk's ack (`received`) comes before the next; the last ack is the
 * message's. `isCurrent()` turns false when the connection dropped: the outbox starts it over later.
 */
export async function upload(item, emitAck, isCurrent) {
  item.small ??= await toSmallImage(item.image); // once: a retry sends the same bytes
  const { cid, to, progress } = item;
  const bytes = await item.small.arrayBuffer();
  progress.max = bytes.byteLength;
  let ack = null;
  for (let offset = 0; isCurrent(); offset = ack.received) {
    progress.value = offset;
    const chunk = { cid, total: bytes.byteLength, offset, data: bytes.slice(offset, offset + CHUNK) };
    if (to !== undefined) chunk.to = to;
    ack = await emitAck('image', chunk);
    if (!ack?.ok || ack.id) break;
  }
  return ack;
}
