// Shared test helpers: a real server on an ephemeral loopback port, real socket.io-client sockets.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as ioClient, type Socket } from 'socket.io-client';
import { createChatServer, type ChatOptions } from '../server.ts';
import type { Ack, ClientToServerEvents, ImageAck, ServerToClientEvents, TeacherAck, TeacherAction, Welcome } from '../chat/contract.ts';

export type Client = Socket<ServerToClientEvents, ClientToServerEvents>;
export type ConnectError = Error & { data?: { message: string } };

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const tempDir = (prefix = 'chat-test-') => mkdtempSync(join(tmpdir(), prefix));

/** Starts the real server on 127.0.0.1 with an ephemeral port and its own DATA_DIR. */
export async function startServer(options: ChatOptions = {}) {
  const dataDir = options.dataDir ?? tempDir();
  // Leaves are told at once unless a test asks for the grace (5 s by default) that hides short drops.
  const chat = createChatServer({ log: () => {}, ...options, dataDir, limits: { leaveGraceMs: 0, ...options.limits } });
  const { port } = await chat.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  const clients: Client[] = [];
  return {
    chat, url, port, dataDir,
    /** A client that is closed with the server. */
    client(auth: Record<string, unknown>, extra: Parameters<typeof ioClient>[1] = {}): Client {
      const socket: Client = ioClient(url, { auth, forceNew: true, reconnection: false, transports: ['websocket'], ...extra });
      clients.push(socket);
      firstOutcome.set(socket, outcome(socket));
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

/** Runs `body` with a fresh server (no flood control unless asked) that is always closed; `lines` is its log. */
export async function withServer(body: (s: TestServer, lines: string[]) => Promise<void>, options: ChatOptions = {}) {
  const lines: string[] = [];
  const server = await startServer({ rateLimit: false, log: (line) => lines.push(line), ...options });
  try { await body(server, lines); } finally { await server.close(); }
}

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

type Outcome = { welcome: Welcome } | { error: ConnectError } | { timeout: true };
// The first welcome or refusal of a client made by startServer().client, caught from its creation on,
// so a test may await it later without missing it.
const firstOutcome = new WeakMap<Client, Promise<Outcome>>();

function outcome(socket: Client, ms = 3000): Promise<Outcome> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ timeout: true }), ms);
    socket.once('welcome', (welcome) => { clearTimeout(timer); resolve({ welcome }); });
    socket.once('connect_error', (error) => { clearTimeout(timer); resolve({ error: error as ConnectError }); });
  });
}

function nextOutcome(socket: Client, ms: number): Promise<Outcome> {
  const first = firstOutcome.get(socket);
  firstOutcome.delete(socket);
  return first ?? outcome(socket, ms);
}

/** The (first, else next) welcome of a client, or its connect_error as a rejection. */
export async function welcomed(socket: Client, ms = 3000): Promise<Welcome> {
  const result = await nextOutcome(socket, ms);
  if ('welcome' in result) return result.welcome;
  throw 'error' in result ? result.error : new Error('timed out waiting for welcome');
}

/** The connect_error of a client that must be refused. */
export async function refused(socket: Client, ms = 3000): Promise<ConnectError> {
  const result = await nextOutcome(socket, ms);
  if ('error' in result) return result.error;
  throw new Error('welcome' in result ? 'was welcomed, expected a refusal' : 'timed out waiting for connect_error');
}

/** Every payload of `event` this socket receives from now on. */
export function collect<E extends keyof ServerToClientEvents>(socket: Client, event: E): Parameters<ServerToClientEvents[E]>[0][] {
  const seen: Parameters<ServerToClientEvents[E]>[0][] = [];
  socket.on(event, ((payload: Parameters<ServerToClientEvents[E]>[0]) => seen.push(payload)) as never);
  return seen;
}

export const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));


export const act = (c: Client, action: TeacherAction | string, extra: Record<string, unknown> = {}): Promise<TeacherAck> =>
  new Promise((resolve) => (c.emit as Function).call(c, 'teacher', { action, ...extra }, resolve));

export const say = (c: Client, content: string, to?: string): Promise<Ack> =>
  new Promise((resolve) => c.emit('textmsg', to ? { content, to } : { content }, resolve));

/** Sends a picture the way the page does: chunks of 32 KB, each acked before the next. */
export async function sendImage(c: Client, bytes: Buffer, options: { to?: string; cid?: string } = {}): Promise<ImageAck> {
  const cid = options.cid ?? `img${Math.random().toString(36).slice(2)}`;
  let ack: ImageAck = { ok: false, error: 'invalid_message' };
  for (let offset = 0; offset < bytes.length; offset += 32 * 1024) {
    const data = bytes.subarray(offset, offset + 32 * 1024);
    ack = await new Promise((resolve) => c.emit('image', { cid, to: options.to, total: bytes.length, offset, data }, resolve));
    if (!ack.ok) return ack;
  }
  return ack;
}

export async function api(s: TestServer, path: string, init: RequestInit & { key?: string | null } = {}) {
  const key = init.key === undefined ? s.chat.teacherKey : init.key;
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(init.headers as Record<string, string>) };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const res = await fetch(s.url + path, { ...init, headers });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text), headers: res.headers };
}
