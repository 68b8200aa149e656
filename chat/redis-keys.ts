// Where the Redis store keeps things (REDIS_URL=redis://host:port[/db]), for every node sharing that Redis:
//   chat:server-key                   the server (admin) key: the first node sets it (SET NX), all use it
//   chat:rooms                        set of room ids
//   chat:room:<id>                    the room's settings (RoomMeta as JSON)
//   chat:room:<id>:log                list of JSON lines, one per message, oldest first
//   chat:room:<id>:picture:<file>     one picture's bytes
//   chat:room:<id>:pictures           sorted set: file names by when they were stored (ms)
//   chat:room:<id>:picture-sizes      hash: file name -> bytes
//   chat:room:<id>:log-gen            how many times the log was compacted (a compaction checks it first)
//   chat:room:<id>:polls              hash: "<poll> <session>" -> option voted, "<poll> ~closed" -> 1
//   chat:room:<id>:reads              hash: "<session> <conv>" -> read position ("seen by")
//   chat:room:<id>:cid:<session>:<cid>  "<id> <ts>" of a stored message, for a day: a retry on any node is answered
//   chat:events                       stream of what changed (a message, a room's settings, a deletion), capped:
//                                     every node of a cluster reads it to keep its view of the school (cluster.ts)
import type { ChainableCommander } from 'ioredis';
import { ROOM_ID_RE } from './contract.ts';

const PREFIX = 'chat:';
export const SERVER_KEY = `${PREFIX}server-key`;
export const ROOMS = `${PREFIX}rooms`;
export const EVENTS = `${PREFIX}events`;
export const EVENTS_KEEP = 100_000; // about: every node reads each event within seconds; a longer absence reloads the school
export const CID_TTL_S = 24 * 3600; // a retry comes within seconds; a day covers a laptop that slept

/** The keys of one room; throws on an id that is not one (it would reach into other keys). */
export function toKeys(roomId: string) {
  if (!ROOM_ID_RE.test(roomId)) throw new Error(`not a room id: ${JSON.stringify(roomId)}`);
  const room = `${PREFIX}room:${roomId}`;
  return {
    meta: room, log: `${room}:log`, gen: `${room}:log-gen`, cid: `${room}:cid:`, picture: `${room}:picture:`,
    pictures: `${room}:pictures`, sizes: `${room}:picture-sizes`, polls: `${room}:polls`, reads: `${room}:reads`,
    claims: `${room}:claims`, tabs: `${room}:tabs`, sessions: `${room}:sessions`, // the cluster's people (cluster.ts)
  };
}

/** The answers of a MULTI; throws the first error (EXEC answers each command's error apart). */
export async function exec(multi: ChainableCommander): Promise<unknown[]> {
  const answers = await multi.exec();
  if (!answers) throw new Error('the Redis transaction was aborted');
  for (const [err] of answers) if (err) throw err;
  return answers.map(([, value]) => value);
}
