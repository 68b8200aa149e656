// Helpers for the adversarial and reliability suites: seeded randomness, raw Engine.IO clients,
// the CLI as a child process, heap measurement, and the figures that end up in the README.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import WebSocket from 'ws';
import { io as ioClient } from 'socket.io-client';
import { sleep, type Client } from './helpers.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const README = `${ROOT}README.md`;

// --- randomness: every random choice comes from one printed seed

/** mulberry32: small, fast, good enough to drive a fuzzer reproducibly. */
export function toRandom(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(list: readonly T[]): T => list[int(list.length)], chance: (p: number) => next() < p };
}
export type Random = ReturnType<typeof toRandom>;

export function toSeed(name: string): number {
  const raw = process.env[name];
  const seed = raw ? Number(raw) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
  console.log(`\n  ${name}=${seed} (set it to replay this run)`);
  return seed;
}

// --- waiting

/** Polls `isDone` until it is true; rejects with `what` after `ms`. */
export async function waitUntil(isDone: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!isDone()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

/** The promise, or a rejection naming `what` after `ms`: no wait in these suites is unbounded. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms); });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

export const freePort = (): Promise<number> => new Promise((resolve, reject) => {
  const probe = net.createServer().once('error', reject);
  probe.listen(0, '127.0.0.1', () => {
    const { port } = probe.address() as net.AddressInfo;
    probe.close(() => resolve(port));
  });
});

// --- clients

/** A socket.io-client that reconnects by itself, re-identifying through `auth` as a function. */
export function resilientClient(url: string, auth: () => Record<string, unknown>): Client {
  return ioClient(url, {
    forceNew: true, transports: ['websocket'], reconnectionDelay: 50, reconnectionDelayMax: 300, randomizationFactor: 0.5,
    auth: (cb) => cb(auth()),
  });
}

/** A bare WebSocket speaking Engine.IO v4 / Socket.IO v5 by hand, for what socket.io-client never sends. */
export function rawClient(port: number) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, { handshakeTimeout: 5000 });
  const frames: string[] = [];
  let isClosed = false;
  const closed = new Promise<void>((resolve) => ws.once('close', () => { isClosed = true; resolve(); }));
  ws.on('error', () => {}); // a refused or reset connection shows up as 'close'
  ws.on('message', (data, isBinary) => {
    const text = isBinary ? '' : data.toString();
    if (text === '2') ws.send('3'); // Engine.IO ping
    frames.push(text);
  });
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('close', () => reject(new Error('raw client closed before opening')));
  });
  opened.catch(() => {});
  return {
    ws, frames, closed, opened,
    get isClosed() { return isClosed; },
    /** Sends a Socket.IO CONNECT with this auth; resolves with the welcome payload, rejects on a refusal or close. */
    async join(auth: Record<string, unknown>, ms = 3000): Promise<Record<string, any>> {
      await opened;
      return new Promise((resolve, reject) => {
        const done = (err: Error | null, welcome?: Record<string, any>) => {
          clearTimeout(timer);
          ws.off('message', onMessage);
          ws.off('close', onClose);
          if (err) reject(err); else resolve(welcome!);
        };
        const onMessage = (data: Buffer, isBinary: boolean) => {
          const text = isBinary ? '' : data.toString();
          if (text.startsWith('42["welcome"')) done(null, JSON.parse(text.slice(2))[1]);
          else if (text.startsWith('44')) done(new Error(`raw join refused: ${text}`));
        };
        const onClose = () => done(new Error('raw client closed before its welcome'));
        const timer = setTimeout(() => done(new Error('timed out waiting for a raw welcome')), ms);
        ws.on('message', onMessage);
        ws.once('close', onClose);
        ws.send(`40${JSON.stringify(auth)}`);
      });
    },
    /** Sends if still open; false once the server has closed the connection. */
    send(data: string | Buffer): boolean {
      if (ws.readyState !== WebSocket.OPEN) return false;
      ws.send(data);
      return true;
    },
  };
}
export type RawClient = ReturnType<typeof rawClient>;

export type AckResult = { ok: true; id: string; ts: number } | { ok: false; error: string };

/** emitWithAck that resolves with 'timeout' instead of throwing. */
export async function sendText(client: Client, payload: { content: string; to?: string; cid?: string }, ms = 3000): Promise<AckResult | 'timeout'> {
  try {
    return (await client.timeout(ms).emitWithAck('textmsg', payload)) as AckResult;
  } catch {
    return 'timeout';
  }
}

/** Resolves with the reason of the client's next disconnect; rejects after `ms`. */
export function disconnected(client: Client, ms = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for a disconnect')), ms);
    client.once('disconnect', (reason) => { clearTimeout(timer); resolve(reason); });
  });
}

/** Emits any event with any arguments, as a hostile client would (the typed API forbids most of them). */
export function emitLoose(client: Client, event: unknown, args: unknown[], ack?: (...answer: unknown[]) => void, ms?: number) {
  const target = (ms === undefined ? client : client.timeout(ms)) as unknown as { emit(...all: unknown[]): void };
  target.emit(event, ...args, ...(ack ? [ack] : []));
}

// --- the CLI as a child process

const isAnswering = (url: string): Promise<boolean> => new Promise((resolve) => {
  http.get(url, (res) => { res.resume(); resolve(res.statusCode === 200); }).on('error', () => resolve(false));
});

/** `node --import tsx server.ts` on a free loopback port (with at most `openFiles` descriptors, through
 * util-linux's prlimit); resolves once it serves pages. */
export async function spawnCli(env: Record<string, string>, ms = 20_000, { openFiles }: { openFiles?: number } = {}) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const node = [process.execPath, '--import', 'tsx', 'server.ts'];
  const [command, ...args] = openFiles ? ['prlimit', `--nofile=${openFiles}`, '--', ...node] : node;
  const child = spawn(command, args, {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => { output += chunk; });
  child.stderr.on('data', (chunk: Buffer) => { output += chunk; });
  let isExited = false;
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.once('exit', (code, signal) => { isExited = true; resolve({ code, signal }); });
  });
  const cli = {
    child, port, url, exited,
    get output() { return output; },
    get isExited() { return isExited; },
    kill: () => { if (!isExited) child.kill('SIGKILL'); },
  };
  const end = Date.now() + ms;
  while (!(await isAnswering(url))) {
    if (isExited || Date.now() > end) {
      cli.kill();
      throw new Error(`the CLI did not start:\n${output}`);
    }
    await sleep(50);
  }
  return cli;
}
export type Cli = Awaited<ReturnType<typeof spawnCli>>;

// --- memory

let gcFn: (() => void) | undefined;
/** Heap in use after full collections (gc exposed at run time: the tests run in one tsx process). */
export async function settledHeap(): Promise<number> {
  if (!gcFn) {
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc') as () => void;
  }
  for (let i = 0; i < 4; i++) {
    gcFn();
    await sleep(20);
  }
  return process.memoryUsage().heapUsed;
}

// --- the figures written into the README

export interface Figures {
  packetsFuzzed?: number;
  frameLimit?: number; // bytes, as the server enforces it
  oversizedFrames?: number;
  churnCycles?: number;
  restarts?: number; // every restart on an existing data dir whose messages were checked
  crashes?: number; // of which kill -9
  ackedChecked?: number;
  ackedLost?: number;
  duplicates?: number;
  privateLeaks?: number;
}
export const figures: Figures = {};
const produced = new Set<string>();
/** The tests that must have run and passed in this process before the README is touched. */
export const PRODUCERS = [
  'fuzz', 'frames', 'privacy', 'exactly-once', 'catch-up', 'graceful-SIGTERM', 'graceful-SIGINT', 'crash', 'torn', 'compaction', 'churn', 'chaos',
];

/** Adds a passing test's figures; call it after the test's assertions. */
export function addFigures(producer: string, add: Partial<Figures>) {
  for (const [key, n] of Object.entries(add) as [keyof Figures, number][]) figures[key] = (figures[key] ?? 0) + n;
  produced.add(producer);
}

/** The producers that did not report in this run (a failed test, or a file left out by a pattern). */
export const missingFigures = () => PRODUCERS.filter((p) => !produced.has(p));

const START = '<!-- reliability:start -->';
const END = '<!-- reliability:end -->';

export function toReliabilitySection(f: Required<Figures>, date: string): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const limit = `${Math.round(f.frameLimit / 1024)} KB`;
  return [
    '## Reliability',
    '',
    `Measured on every \`npm test\` by \`test/adversarial.test.ts\` and \`test/reliability.test.ts\`, which print`,
    `these figures; \`UPDATE_DOCS=1 npm test\` writes them here (this run: ${date}). The fuzzer and the chaos test print`,
    'their seeds: `FUZZ_SEED=… CHAOS_SEED=… npm test` replays a run.',
    '',
    '| figure | value |',
    '| --- | --- |',
    `| random packets fuzzed (event names, types, nesting, binary, extra arguments, up to ${limit}) | ${n(f.packetsFuzzed)} |`,
    `| frames above ${limit} (only the sender's connection dropped) | ${n(f.oversizedFrames)} |`,
    `| connect/disconnect cycles (clean and abrupt) | ${n(f.churnCycles)} |`,
    `| server restarts survived (of which \`kill -9\`) | ${n(f.restarts)} (${n(f.crashes)}) |`,
    `| acked messages checked after restarts, cut connections, crashes and compaction | ${n(f.ackedChecked)} |`,
    `| acked messages lost | ${n(f.ackedLost)} |`,
    `| messages delivered twice | ${n(f.duplicates)} |`,
    `| private messages seen by a third person | ${n(f.privateLeaks)} |`,
  ].join('\n');
}

/** Replaces only what is between the reliability markers. */
export function writeReliabilitySection(section: string, file = README) {
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`the README lacks the ${START} … ${END} markers`);
  writeFileSync(file, `${text.slice(0, start + START.length)}\n${section}\n${text.slice(end)}`);
}
