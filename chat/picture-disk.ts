// The disk budget for pictures, per room and for the whole server: past it, the oldest pictures go first
// (their messages stay; the page says the picture is no longer kept).
export interface Shelved { file: string; size: number; at: number }
interface Shelf { pictures: Shelved[]; bytes: number } // oldest first

export type Eviction = { roomId: string; file: string };

export class PictureDisk {
  private readonly shelves = new Map<string, Shelf>();
  private total = 0;

  constructor(private readonly roomMax: number, private readonly totalMax: number) {}

  load(roomId: string, pictures: Shelved[]) {
    this.forgetRoom(roomId);
    const sorted = [...pictures].sort((a, b) => a.at - b.at);
    const bytes = sorted.reduce((n, p) => n + p.size, 0);
    this.shelves.set(roomId, { pictures: sorted, bytes });
    this.total += bytes;
  }

  /** Records a new picture; answers the pictures to delete, oldest first, to stay within both budgets. */
  add(roomId: string, picture: Shelved): Eviction[] {
    const shelf = this.shelves.get(roomId) ?? { pictures: [], bytes: 0 };
    this.shelves.set(roomId, shelf);
    shelf.pictures.push(picture);
    shelf.bytes += picture.size;
    this.total += picture.size;
    const evicted: Eviction[] = [];
    while (shelf.pictures.length > 1 && shelf.bytes > this.roomMax) evicted.push(this.evict(roomId, shelf));
    while (this.total > this.totalMax) {
      const oldest = this.oldestShelf(picture);
      if (!oldest) break;
      evicted.push(this.evict(...oldest));
    }
    return evicted;
  }

  /** Pictures deleted for another reason (a clear, a compaction). */
  removed(roomId: string, files: Iterable<string>) {
    const shelf = this.shelves.get(roomId);
    if (!shelf) return;
    const gone = new Set(files);
    for (const p of shelf.pictures) if (gone.has(p.file)) this.shrink(shelf, p.size);
    shelf.pictures = shelf.pictures.filter((p) => !gone.has(p.file));
  }

  forgetRoom(roomId: string) {
    this.total -= this.shelves.get(roomId)?.bytes ?? 0;
    this.shelves.delete(roomId);
  }

  private evict(roomId: string, shelf: Shelf): Eviction {
    const oldest = shelf.pictures.shift()!;
    this.shrink(shelf, oldest.size);
    return { roomId, file: oldest.file };
  }

  private shrink(shelf: Shelf, size: number) {
    shelf.bytes -= size;
    this.total -= size;
  }

  /** The shelf whose first picture is the oldest of all, never the picture just added. */
  private oldestShelf(keep: Shelved): [string, Shelf] | null {
    let best: [string, Shelf] | null = null;
    for (const [id, shelf] of this.shelves) {
      const head = shelf.pictures[0];
      if (head && head !== keep && (!best || head.at < best[1].pictures[0].at)) best = [id, shelf];
    }
    return best;
  }
}
