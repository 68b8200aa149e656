// One room's stored files (pictures, voice messages, shared files): written through the store within the disk
// budget, the oldest going first; deleted when their message is taken back; pruned when no message points to them.
import type { RoomContext } from './room-context.ts';

const GRACE_MS = 60_000; // in a cluster: a file this young may be another node's upload on its way

export class RoomMedia {
  constructor(private readonly roomId: string, private readonly ctx: RoomContext, private readonly say: (line: string) => void) {}

  /** Writes a file, then makes room for it on the disk. A write that failed (a full disk) leaves nothing behind. */
  async store(file: string, bytes: Buffer) {
    try {
      await this.ctx.store.writePicture(this.roomId, file, bytes);
    } catch (err) {
      await this.ctx.store.deletePictures(this.roomId, [file]).catch(() => {});
      throw err;
    }
    for (const { roomId, file: old } of this.ctx.disk.add(this.roomId, { file, size: bytes.length, at: Date.now() })) {
      this.ctx.store.deletePictures(roomId, [old]).catch((err) => this.say(`could not delete an old file: ${err.message}`));
    }
  }

  /** The file of a message taken back. */
  delete(file: string) {
    this.ctx.store.deletePictures(this.roomId, [file]).catch((err: Error) => this.say(`could not delete a recalled file: ${err.message}`));
    this.ctx.disk.removed(this.roomId, [file]);
  }

  /** Deletes the files that are not `isKept`, asked after listing them: what was kept meanwhile counts. */
  async prune(isKept: () => (file: string) => boolean) {
    try {
      const young = this.ctx.cluster ? Date.now() - GRACE_MS : Infinity;
      const files = (await this.ctx.store.pictures(this.roomId)).filter((p) => p.at < young).map((p) => p.file);
      const kept = isKept();
      const stale = files.filter((f) => !kept(f));
      await this.ctx.store.deletePictures(this.roomId, stale);
      this.ctx.disk.removed(this.roomId, stale);
    } catch (err) {
      this.ctx.log(`could not clean up the files of room ${this.roomId}: ${(err as Error).message}`);
    }
  }
}
