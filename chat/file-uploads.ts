// Files and voice messages travel over HTTP, never in Socket.IO frames: PUTs of at most 1 MB with a Content-Range,
// each written at its place in a part file on this node's disk (HAProxy keeps a browser on one node). A chunk cut
// halfway counts for nothing and is sent again; a page that lost track asks how much arrived. Once complete the
// bytes are judged by their content, stored through the store like a picture, and kept for the message that sends
// them (textmsg with `upload`), by session: nobody else can send someone's upload.
import fs from 'node:fs';
import { join } from 'node:path';
import { nanoid } from 'nanoid';
import type { UploadError } from './contract.ts';
import { MAX_FILE, MAX_VOICE, toAudioType, toFileType, type FileType } from './file-types.ts';

export const MAX_CHUNK = 2 ** 20;
export const UPLOAD_ID_RE = /^[\w-]{21}$/;
const IDLE_MS = 10 * 60_000; // an upload (or a stored one never sent) forgotten after this long without news
const MAX_OPEN = 3; // unfinished uploads per person

export type UploadKind = 'file' | 'voice';
/** A complete upload, stored, waiting for its message. */
export interface Uploaded { file: string; type: FileType; size: number; kind: UploadKind }
interface Part { path: string; kind: UploadKind; total: number; received: number; busy: boolean; at: number }

/** What a chunk did: the bytes received so far, the upload complete, or why not (`received`: where to go on from). */
export type ChunkResult = { received: number } | { done: Uploaded } | { error: UploadError; status: number; received?: number };

export class FileUploads {
  private readonly parts = new Map<string, Part>(); // "session upload" -> unfinished
  private readonly done = new Map<string, Uploaded & { at: number }>(); // "session upload" -> stored, not sent yet

  /** `store` writes a judged file (through the store and the disk budget); it throws ENOSPC on a full disk. */
  constructor(private readonly dir: string, private readonly store: (file: string, bytes: Buffer) => Promise<void>) {}

  /** How much of an upload arrived: its bytes so far, or the whole of it once stored; null if unknown. */
  status(session: string, upload: string): { received: number; done?: true } | null {
    const key = `${session} ${upload}`;
    const done = this.done.get(key);
    if (done) return { received: done.size, done: true };
    const part = this.parts.get(key);
    return part ? { received: part.received } : null;
  }

  /** One chunk, `bytes` at `start` of `total`. A retry of the last chunk of a stored upload answers it again. */
  async chunk(session: string, upload: string, kind: UploadKind, start: number, total: number, bytes: Buffer): Promise<ChunkResult> {
    const key = `${session} ${upload}`;
    const done = this.done.get(key);
    if (done) return { done };
    if (total > (kind === 'voice' ? MAX_VOICE : MAX_FILE)) return { error: 'too_large', status: 413 };
    if (!total || bytes.length > MAX_CHUNK || start + bytes.length > total) return { error: 'invalid_message', status: 400 };
    const opened = this.parts.get(key) ?? (start === 0 ? this.open(session, key, kind, total) : undefined);
    if (!opened) return { error: 'not_found', status: 404, received: 0 };
    if ('error' in opened) return opened;
    const part = opened;
    if (part.total !== total || part.kind !== kind) return { error: 'invalid_message', status: 400 };
    if (part.busy || start !== part.received) return { error: 'invalid_message', status: 409, received: part.received };
    part.busy = true;
    try {
      const handle = await fs.promises.open(part.path, 'r+');
      try { // a nearly full disk takes part of a write without an error: the rest is tried, and ENOSPC comes then
        for (let written = 0; written < bytes.length;) {
          const { bytesWritten } = await handle.write(bytes, written, bytes.length - written, start + written);
          if (!bytesWritten) throw Object.assign(new Error('nothing written'), { code: 'ENOSPC' });
          written += bytesWritten;
        }
      } finally { await handle.close(); }
      part.received += bytes.length;
      part.at = Date.now();
    } catch (err) {
      return this.failed(err, part.received);
    } finally {
      part.busy = false;
    }
    return part.received < total ? { received: part.received } : this.finish(key, part);
  }

  private open(session: string, key: string, kind: UploadKind, total: number): Part | { error: UploadError; status: number } {
    let open = 0;
    for (const k of this.parts.keys()) if (k.startsWith(`${session} `)) open++;
    if (open >= MAX_OPEN) return { error: 'rate_limited', status: 429 };
    const part: Part = { path: join(this.dir, `${nanoid()}.part`), kind, total, received: 0, busy: false, at: Date.now() };
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      fs.writeFileSync(part.path, '');
    } catch (err) {
      return this.failed(err, 0); // no room even for an empty file
    }
    this.parts.set(key, part);
    return part;
  }

  /** The whole upload judged by its content; stored if it may be shared, else refused and gone. */
  private async finish(key: string, part: Part): Promise<ChunkResult> {
    this.parts.delete(key);
    try {
      const bytes = await fs.promises.readFile(part.path);
      const type = part.kind === 'voice' ? toAudioType(bytes) : toFileType(bytes);
      if (!type) return { error: 'bad_type', status: 415 };
      const uploaded: Uploaded = { file: `${nanoid()}.${type.ext}`, type, size: bytes.length, kind: part.kind };
      await this.store(uploaded.file, bytes);
      this.done.set(key, { ...uploaded, at: Date.now() });
      return { done: uploaded };
    } catch (err) {
      return this.failed(err, 0);
    } finally {
      fs.promises.rm(part.path, { force: true }).catch(() => {});
    }
  }

  private failed(err: unknown, received: number): { error: UploadError; status: number; received: number } {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') return { error: 'disk_full', status: 507, received };
    throw err;
  }

  /** The stored upload a message sends, taken: it can be sent once. */
  take(session: string, upload: unknown): Uploaded | undefined {
    const key = `${session} ${upload}`;
    const done = this.done.get(key);
    this.done.delete(key);
    return done;
  }

  /** A stored file whose message has not come yet: no clean-up may delete it. */
  isWaiting(file: string): boolean {
    for (const done of this.done.values()) if (done.file === file) return true;
    return false;
  }

  peek(session: string, upload: unknown): Uploaded | undefined {
    return this.done.get(`${session} ${upload}`);
  }

  /** Forgets what nobody asked about for a while (its part file too; a stored one goes with the next prune). */
  sweep(now = Date.now()) {
    for (const [key, part] of this.parts) {
      if (now - part.at < IDLE_MS || part.busy) continue;
      this.parts.delete(key);
      fs.promises.rm(part.path, { force: true }).catch(() => {});
    }
    for (const [key, done] of this.done) if (now - done.at > IDLE_MS) this.done.delete(key);
  }

  close() {
    for (const part of this.parts.values()) fs.rmSync(part.path, { force: true });
    this.parts.clear();
  }
}
