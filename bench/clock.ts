// One clock for every process of the benchmark: CLOCK_MONOTONIC is system-wide on Linux, so a
// sender's stamp and a receiver's reading compare directly (Date.now() has only 1 ms steps).
export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How a client knows it is in: the WebSocket open, the Socket.IO connect ack, our `welcome`, or the tutorial's `online`. */
export type Ready = 'open' | 'connect' | 'welcome' | 'online';

/** Where a client names its room: in the Socket.IO handshake's `auth`, or in the WebSocket URL (`?room=`). */
export type RoomIn = 'auth' | 'query';

/** Client i joins `rooms[i % rooms.length]`: an even spread. */
export interface ConnectArgs {
  url: string; urls?: string[]; ready: Ready; roomIn: RoomIn; rooms: string[]; count: number; prefix: string; window: number; timeoutMs: number;
  reads?: boolean; // each client reports the last message it got, at most once a second (ours' "seen by")
  teacherKey?: string; // each client comes in as the teacher
}
export type ByRoom = Record<string, number>;
export interface ConnectResult { connected: number; failed: number; ms: number; byRoom: ByRoom } // connected clients per room
export interface SendResult { sent: number; ms: number; byRoom: ByRoom } // messages sent per room
export interface Stats { count: number; stale: number; dropped: number; p50: number; p99: number; max: number; mean: number }
