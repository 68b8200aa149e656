// Pictures in one room: uploads in chunks (one per person at a time), judged by magic bytes, and the files
// that must never be deleted because a message about to be acked points to them.
import { MAX_IMAGE, type ErrorCode, type ImageChunk } from './contract.ts';
import type { Session } from './people.ts';

const IDLE_UPLOAD_MS = 10_000; // an upload with no chunk for this long is dropped: it holds memory for nothing
const MAGIC = { jpg: [0xff, 0xd8, 0xff], png: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], gif: [0x47, 0x49, 0x46, 0x38] } as const;

export type PictureType = 'jpg' | 'png' | 'gif' | 'webp';

/** The file extension for these bytes if they are a JPEG, PNG, GIF or WebP picture, judged by magic bytes only. */
export function toImageType(bytes: Buffer): PictureType | null {
  for (const [ext, magic] of Object.entries(MAGIC)) {
    if (magic.every((b, i) => bytes[i] === b)) return ext as PictureType;
  }
  const isWebp = bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP';
  return isWebp ? 'webp' : null;
}

/** Bytes held by unfinished uploads, shared by every room of the server (it bounds memory, not a room). */
export interface UploadBudget { held: number; readonly max: number }

export interface Upload { cid: string; to?: string; total: number; chunks: Buffer[]; received: number; timer: NodeJS.Timeout }

export class Uploads {
  private readonly bySession = new Map<string, Upload>();
  readonly pending = new Set<string>(); // files written (or being written) whose message is not kept yet

  constructor(private readonly budget: UploadBudget, private readonly idleMs = IDLE_UPLOAD_MS) {}

  /** Takes one chunk; answers the upload once complete, the bytes received so far, or an error code. */
  add(session: Session, chunk: ImageChunk): Upload | number | ErrorCode {
    if (chunk.total > MAX_IMAGE) return 'too_large';
    if (chunk.offset === 0) this.start(session, chunk);
    const upload = this.bySession.get(session.id);
    const isNext = upload?.cid === chunk.cid && upload.total === chunk.total && upload.received === chunk.offset;
    if (!upload || !isNext || chunk.offset + chunk.data.length > chunk.total) return 'invalid_message';
    if (this.budget.held + chunk.data.length > this.budget.max) {
      this.drop(session.id);
      return 'rate_limited';
    }
    upload.chunks.push(chunk.data);
    upload.received += chunk.data.length;
    this.budget.held += chunk.data.length;
    upload.timer.refresh();
    if (upload.received < upload.total) return upload.received;
    this.drop(session.id);
    return upload;
  }

  private start(session: Session, chunk: ImageChunk) {
    this.drop(session.id);
    const timer = setTimeout(() => this.drop(session.id), this.idleMs).unref();
    this.bySession.set(session.id, { cid: chunk.cid, to: chunk.to, total: chunk.total, chunks: [], received: 0, timer });
  }

  drop(sessionId: string) {
    const upload = this.bySession.get(sessionId);
    if (!upload) return;
    clearTimeout(upload.timer);
    this.budget.held -= upload.received;
    this.bySession.delete(sessionId);
  }

  dropAll() {
    for (const id of [...this.bySession.keys()]) this.drop(id);
  }
}
