// Shared test helpers: a real server on an ephemeral loopback port, real socket.io-client sockets.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as ioClient, type Socket } from 'socket.io-client';
import { createChatServer, type ChatOptions, type ClientToServerEvents, type ServerToClientEvents, type Welcome } from '../server.ts';

export type Client = Socket<ServerToClientEvents, ClientToServerEvents>;
export type ConnectError = Error & { data?: { message: string } };

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const tempDir = (prefix = 'chat-test-') => mkdtempSync(join(tmpdir(), prefix));

/** Starts the real server on 127.0.0.1 with an ephemeral port and its own DATA_DIR. */
export async function startServer(options: ChatOptions = {}) {
  const dataDir = options.dataDir ?? tempDir();
  const chat = createChatServer({ log: () => {}, ...options, dataDir });
  const { port } = await chat.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  const clients: Client[] = [];
  return {
    chat, url, port, dataDir,
    /** A client that is closed with the server. */
    client(auth: Record<string, unknown>, extra: Parameters<typeof ioClient>[1] = {}): Client {
      const socket: Client = ioClient(url, { auth, forceNew: true, reconnection: false, transports: ['websocket'], ...extra });
      clients.push(socket);
      return socket;
    },
    async close({ keepData = false } = {}) {
      clients.forEach((c) => c.close());
      await chat.close();
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
export type TestServer = Awaited<ReturnType<typeof startServer>>;

/** Resolves with the next `event` whose payload passes `isWanted`; rejects after `ms`. */
export function waitFor<E extends keyof ServerToClientEvents>(
  socket: Client, event: E, isWanted: (payload: Parameters<ServerToClientEvents[E]>[0]) => boolean = () => true, ms = 3000,
): Promise<Parameters<ServerToClientEvents[E]>[0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { socket.off(event, listener as never); reject(new Error(`timed out waiting for ${String(event)}`)); }, ms);
    const listener = (payload: Parameters<ServerToClientEvents[E]>[0]) => {
      if (!isWanted(payload)) return;
      clearTimeout(timer);
      socket.off(event, listener as never);
      resolve(payload);
    };
    socket.on(event, listener as never);
  });
}

/** The welcome of a client that connects, or the connect_error as a rejection. */
export function welcomed(socket: Client, ms = 3000): Promise<Welcome> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for welcome')), ms);
    socket.once('welcome', (w) => { clearTimeout(timer); resolve(w); });
    socket.once('connect_error', (err) => { clearTimeout(timer); reject(err); });
  });
}

/** The connect_error of a client that must be refused. */
export function refused(socket: Client, ms = 3000): Promise<ConnectError> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for connect_error')), ms);
    socket.once('welcome', () => { clearTimeout(timer); reject(new Error('was welcomed, expected a refusal')); });
    socket.once('connect_error', (err) => { clearTimeout(timer); resolve(err as ConnectError); });
  });
}

/** Every payload of `event` this socket receives from now on. */
export function collect<E extends keyof ServerToClientEvents>(socket: Client, event: E): Parameters<ServerToClientEvents[E]>[0][] {
  const seen: Parameters<ServerToClientEvents[E]>[0][] = [];
  socket.on(event, ((payload: Parameters<ServerToClientEvents[E]>[0]) => seen.push(payload)) as never);
  return seen;
}
