// What every room of a server shares, and the typed Socket.IO server and sockets: the room and the parts it is
// made of (hands, the waiting room, polls) depend on this, not on each other.
import type { Server, Socket } from 'socket.io';
import type { ClientToServerEvents, InterServerEvents, ServerToClientEvents, SocketData } from './contract.ts';
import type { Cluster } from './cluster.ts';
import type { PictureDisk } from './picture-disk.ts';
import type { UploadBudget } from './pictures.ts';
import type { Crowd } from './presence.ts';
import type { Rate } from './rules.ts';
import type { ChatStore } from './store.ts';

export type ChatIO = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type ChatSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export interface Limits {
  maxSessions: number; // sessions kept per room, online or not
  uploadIdleMs: number; // an unfinished picture with no chunk for this long is dropped
  roomPictureBytes: number; // pictures, voice messages and files kept per room (ROOM_FILES_MB), oldest dropped first
  totalPictureBytes: number; // and for the whole server (FILES_MB)
  leaveGraceMs: number; // someone whose last tab closed is told gone only after this long away
}
export const LIMITS: Limits = {
  maxSessions: 5000, uploadIdleMs: 10_000, roomPictureBytes: 200 * 2 ** 20, totalPictureBytes: 2 * 2 ** 30, leaveGraceMs: 5000,
};

export interface RoomContext {
  io: ChatIO;
  store: ChatStore;
  log: (line: string) => void;
  rate: Rate | false;
  roomRate: Rate | false;
  listLimit: number; // above this many people in the room, `online` tells only the count and the list is capped
  sessionTtlMs: number;
  uploadBudget: UploadBudget; // shared by every room: it bounds memory
  disk: PictureDisk; // shared by every room: it bounds the disk
  partsDir: string; // where uploads over HTTP are put together (this node's disk)
  crowd: Crowd; // shared by every room: presence frames are spread out when the server is busy
  limits: Limits;
  cluster?: Cluster; // with REDIS_URL: the other nodes of the school
}
