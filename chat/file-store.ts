// The embedded store: everything under DATA_DIR, one folder per room.
//   DATA_DIR/server.json                 the server (admin) key, readable by its owner only
//   DATA_DIR/rooms/<id>/room.json        title, teacher key, the teacher's rules
//   DATA_DIR/rooms/<id>/messages.jsonl   the message log (message-log.ts)
//   DATA_DIR/rooms/<id>/polls.json       the polls' votes and which are closed
//   DATA_DIR/rooms/<id>/reads.json       read positions ("seen by")
//   DATA_DIR/rooms/<id>/images/          the pictures
// A DATA_DIR written before rooms existed (messages.jsonl and images/ at its top) becomes the default room's.
import fs from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DEFAULT_ROOM, ROOM_ID_RE } from './contract.ts';
import { openMessageLog, writeSynced } from './message-log.ts';
import { MEDIA_FILE_RE, toRoomMeta, toStoredPolls, toStoredReads, type ChatStore, type RoomMeta, type StoredPolls, type StoredReads } from './store.ts';

export function createFileStore(dataDir: string, warn: (line: string) => void): ChatStore {
  const roomsDir = join(dataDir, 'rooms');
  const roomDir = (id: string) => join(roomsDir, id);
  const imagesDir = (id: string) => join(roomDir(id), 'images');
  prepare(dataDir, roomsDir);
  const polls = new Map<string, StoredPolls>(); // room id -> its polls, read once
  const reads = new Map<string, StoredReads>(); // room id -> its read positions, read once

  /** A small JSON file of a room, read once and then kept in memory (`what` names it in a warning). */
  function readOnce<T>(cache: Map<string, T>, roomId: string, name: string, what: string, check: (v: unknown) => T): T {
    let known = cache.get(roomId);
    if (known) return known;
    try {
      known = check(JSON.parse(fs.readFileSync(join(roomDir(roomId), name), 'utf8')));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') warn(`could not read the ${what} of room ${roomId}: ${(err as Error).message}`);
      known = check({});
    }
    cache.set(roomId, known);
    return known;
  }

  /** Writes a small JSON file of a room whole: a torn file is never read. */
  function writeWhole(roomId: string, name: string, value: unknown) {
    const file = join(roomDir(roomId), name);
    writeSynced(`${file}.tmp`, JSON.stringify(value) + '\n');
    fs.renameSync(`${file}.tmp`, file);
  }

  const pollsOf = (roomId: string) => readOnce(polls, roomId, 'polls.json', 'polls', toStoredPolls);
  const readsOf = (roomId: string) => readOnce(reads, roomId, 'reads.json', 'read positions', toStoredReads);

  return {
    async serverKey(given, make) {
      const file = join(dataDir, 'server.json');
      if (given) return given;
      try {
        const stored = JSON.parse(fs.readFileSync(file, 'utf8')).key;
        if (typeof stored === 'string' && stored) return stored;
      } catch {}
      const key = make();
      writeSynced(file, JSON.stringify({ key }) + '\n');
      return key;
    },
    async rooms() {
      const metas: RoomMeta[] = [];
      for (const id of fs.readdirSync(roomsDir)) {
        if (!ROOM_ID_RE.test(id)) continue;
        try {
          const meta = toRoomMeta(JSON.parse(fs.readFileSync(join(roomDir(id), 'room.json'), 'utf8')));
          if (meta && meta.id === id) metas.push(meta);
          else warn(`skipping ${roomDir(id)}: its room.json is not readable`);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') warn(`skipping ${roomDir(id)}: ${(err as Error).message}`);
          else if (id === DEFAULT_ROOM) continue; // upgraded data: the default room's settings are made at start
        }
      }
      return metas;
    },
    async saveRoom(meta) {
      fs.mkdirSync(imagesDir(meta.id), { recursive: true });
      const file = join(roomDir(meta.id), 'room.json');
      writeSynced(`${file}.tmp`, JSON.stringify(meta, null, 1) + '\n');
      fs.renameSync(`${file}.tmp`, file);
    },
    async createRoom(meta) {
      await this.saveRoom(meta); // one server: the school checked the id is free
      return meta;
    },
    async deleteRoom(id) {
      polls.delete(id);
      reads.delete(id);
      await fs.promises.rm(roomDir(id), { recursive: true, force: true });
    },
    async polls(roomId) {
      return pollsOf(roomId);
    },
    async savePolls(roomId, changes) {
      const stored = pollsOf(roomId);
      for (const change of changes) {
        const poll = (stored[change.poll] ??= { votes: {} });
        if ('closed' in change) poll.closed = true;
        else poll.votes[change.session] = change.option;
      }
      writeWhole(roomId, 'polls.json', stored); // one write per batch of votes
    },
    async reads(roomId) {
      return readsOf(roomId);
    },
    async saveReads(roomId, changes) {
      const stored = readsOf(roomId);
      for (const { session, conv, value } of changes) stored[`${session} ${conv}`] = value;
      writeWhole(roomId, 'reads.json', stored); // one write per second at most (seen.ts)
    },
    async openLog(roomId) {
      fs.mkdirSync(imagesDir(roomId), { recursive: true });
      return openMessageLog(join(roomDir(roomId), 'messages.jsonl'), warn);
    },
    async writePicture(roomId, file, bytes) {
      await fs.promises.writeFile(join(imagesDir(roomId), file), bytes);
    },
    async readPicture(roomId, file) {
      if (!ROOM_ID_RE.test(roomId) || !MEDIA_FILE_RE.test(file)) return null;
      return fs.promises.readFile(join(imagesDir(roomId), file)).catch(() => null);
    },
    async pictures(roomId) {
      const dir = imagesDir(roomId);
      const files = await fs.promises.readdir(dir).catch(() => [] as string[]);
      const stats = await Promise.all(files.filter((f) => MEDIA_FILE_RE.test(f)).map(async (file) => {
        const stat = await fs.promises.stat(join(dir, file)).catch(() => null);
        return stat && { file, size: stat.size, at: stat.mtimeMs };
      }));
      return stats.filter((s) => s !== null);
    },
    async deletePictures(roomId, files) {
      await Promise.all(files.map((f) => fs.promises.rm(join(imagesDir(roomId), f), { force: true })));
    },
    async close() {},
  };
}

/** Makes the folders, moves data from before rooms into the default room, and says plainly what is wrong. */
function prepare(dataDir: string, roomsDir: string) {
  try {
    fs.mkdirSync(roomsDir, { recursive: true });
    fs.accessSync(dataDir, fs.constants.W_OK);
  } catch (err) {
    throw new Error(`The data folder ${dataDir} ${toProblem(dataDir, err as NodeJS.ErrnoException)}. Set DATA_DIR to a folder this user can write to.`);
  }
  const defaultDir = join(roomsDir, DEFAULT_ROOM);
  const oldLog = join(dataDir, 'messages.jsonl');
  if (!fs.existsSync(oldLog) || fs.existsSync(join(defaultDir, 'messages.jsonl'))) return;
  fs.mkdirSync(defaultDir, { recursive: true });
  const oldImages = join(dataDir, 'images');
  if (fs.existsSync(oldImages) && !fs.existsSync(join(defaultDir, 'images'))) fs.renameSync(oldImages, join(defaultDir, 'images'));
  fs.renameSync(oldLog, join(defaultDir, 'messages.jsonl')); // last: its presence means "not yet moved"
}

/** What is wrong with a data folder, in words: the nearest part of its path that exists tells. */
function toProblem(dir: string, err: NodeJS.ErrnoException): string {
  let existing = resolve(dir);
  while (!fs.existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  try {
    fs.accessSync(existing, fs.constants.W_OK);
  } catch (denied) {
    const code = (denied as NodeJS.ErrnoException).code;
    if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') return 'is not writable';
  }
  return err.code === 'ENOSPC' ? 'is on a full disk' : `cannot be used (${err.code ?? err.message})`;
}
