// A real redis-server for the tests: a free loopback port, its own temporary folder, nothing persisted. It can
// be killed and started again on the same port (an outage), or frozen with SIGSTOP (a Redis that stops answering).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { Redis } from 'ioredis';
import { tempDir } from './helpers.ts';
import { freePort } from './stress-helpers.ts';

const READY_MS = 5000;

/** True if redis-server runs here. Else the Redis tests are skipped with a loud line, or fail under CI. */
export function hasRedisServer(): boolean {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0) return true;
  const line = 'redis-server is not installed: the Redis store tests are SKIPPED (apt-get install redis-server)';
  if (process.env.CI) throw new Error(`${line}, and CI must run them`);
  console.log(`\n  !!! ${line}\n`);
  return false;
}

export interface TestRedis {
  url: string;
  start(): Promise<void>;
  /** Kills redis-server (SIGKILL: a crash) and waits until it is gone. */
  stop(): Promise<void>;
  signal(signal: 'SIGSTOP' | 'SIGCONT'): void;
  /** A plain ioredis client, closed with the server, to look at or tamper with the keys. */
  client(): Redis;
}

/** Runs `body` with a fresh redis-server that is always killed and its folder removed. */
export async function withRedis(body: (redis: TestRedis) => Promise<void>): Promise<void> {
  const dir = tempDir('chat-redis-');
  const port = await freePort();
  const clients: Redis[] = [];
  let child: ChildProcess | null = null;
  const redis: TestRedis = {
    url: `redis://127.0.0.1:${port}`,
    async start() { child = await startRedisServer(port, dir); },
    async stop() {
      const running = child;
      child = null;
      if (running) await kill(running);
    },
    signal(signal) { child?.kill(signal); },
    client() {
      const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
      client.on('error', () => {}); // the tests stop the server under it
      clients.push(client);
      return client;
    },
  };
  try {
    await redis.start();
    await body(redis);
  } finally {
    clients.forEach((c) => c.disconnect());
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function startRedisServer(port: number, dir: string): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const fail = (why: string) => { clearTimeout(timer); child.kill('SIGKILL'); reject(new Error(`redis-server ${why}:\n${output}`)); };
    const timer = setTimeout(() => fail(`not ready after ${READY_MS} ms`), READY_MS);
    child.once('exit', (code) => fail(`exited (${code})`));
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (!output.includes('Ready to accept connections')) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.stdout!.removeAllListeners('data').resume(); // keep draining: a full pipe would block the server
      resolve(child);
    });
    child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  });
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL'); // also ends a frozen (SIGSTOP) process
  });
}
