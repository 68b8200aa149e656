// The servers under test, how each one is started, and what its process tree costs (read from /proc).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep, type Ready, type RoomIn } from './clock.ts';
import { DEFAULT_ROOM } from '../chat/contract.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 30_000;
const TICK_US = 1e6 / (Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100);
// Ours' admin key (TEACHER_KEY), fixed so that the bench can create rooms; the server listens on 127.0.0.1
// only and its data dir is deleted with it.
export const ADMIN_KEY = 'bench-admin-key-not-a-secret';

export type ServerKey = 'ours' | 'bare' | 'tutorial' | 'raw';
export interface ServerDef {
  label: string; script: string; ready: Ready; roomIn: RoomIn;
  hasRoomApi: boolean; // a room must be made (POST /api/rooms) before anyone joins it; the others make one on the first join
}

// Every server runs as `node --import tsx <script>`: the same loader cost, and the measured pid is the server.
export const SERVERS: Record<ServerKey, ServerDef> = {
  ours: { label: 'ours (server.ts)', script: 'server.ts', ready: 'welcome', roomIn: 'auth', hasRoomApi: true },
  bare: { label: 'bare Socket.IO', script: 'bench/bare-socketio.ts', ready: 'connect', roomIn: 'auth', hasRoomApi: false },
  tutorial: { label: 'tutorial Socket.IO', script: 'bench/tutorial-socketio.ts', ready: 'online', roomIn: 'auth', hasRoomApi: false },
  raw: { label: 'raw ws', script: 'bench/raw-ws.ts', ready: 'open', roomIn: 'query', hasRoomApi: false },
};
export const SERVER_KEYS = Object.keys(SERVERS) as ServerKey[];

/** The rooms the clients are spread over: ours' default room alone, or `r1` … `rN` (the default room then stays empty). */
export const roomIds = (count: number): string[] =>
  count <= 1 ? [DEFAULT_ROOM] : Array.from({ length: count }, (_, i) => `r${i + 1}`);

// ---- children: each in its own process group, all killed (and their data dirs removed) when we exit, however we exit

const children = new Set<ChildProcess>();
const dataDirs = new Set<string>();

/** Kills the child's whole process group (it may have children of its own). */
export function killGroup(child: ChildProcess) {
  children.delete(child);
  try { process.kill(-child.pid!, 'SIGKILL'); } catch {} // already gone
}

function removeDir(dir: string) {
  dataDirs.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}

export const killAll = () => {
  [...children].forEach(killGroup);
  [...dataDirs].forEach(removeDir);
};
process.once('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => { killAll(); process.exit(130); });

/** `node --import tsx script` under bash only to raise the descriptor limit (exec keeps the pid). */
export function spawnNode(script: string, env: Record<string, string> = {}, isIpc = false): ChildProcess {
  const child = spawn('bash', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'bash', process.execPath, '--import', 'tsx', script], {
    cwd: ROOT, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'ignore', 'pipe', ...(isIpc ? ['ipc' as const] : [])],
  });
  children.add(child);
  let tail = '';
  child.stderr!.on('data', (chunk: Buffer) => { tail = (tail + chunk).slice(-2000); });
  child.once('exit', () => children.delete(child));
  Object.defineProperty(child, 'stderrTail', { get: () => tail });
  return child;
}

export const stderrOf = (child: ChildProcess): string => (child as ChildProcess & { stderrTail?: string }).stderrTail ?? '';

// ---- /proc: CPU and RSS summed over a process tree

function readProcs(): Map<number, { ppid: number; ticks: number }> {
  const procs = new Map<number, { ppid: number; ticks: number }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const fields = readFileSync(`/proc/${name}/stat`, 'latin1').split(') ').pop()!.split(' ');
      // after "pid (comm) ": state ppid … utime(14) stime(15) cutime(16) cstime(17), counted from 3
      procs.set(Number(name), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]) });
    } catch {} // exited while we looked
  }
  return procs;
}

function treeOf(root: number, procs = readProcs()): number[] {
  const tree = [root];
  for (let i = 0; i < tree.length && i < 1000; i++) for (const [pid, p] of procs) if (p.ppid === tree[i]) tree.push(pid);
  return tree.filter((pid) => procs.has(pid));
}

/** CPU time (user + system, reaped children included) of these trees, in microseconds. */
export function cpuMicros(...roots: number[]): number {
  const procs = readProcs();
  const pids = new Set(roots.flatMap((root) => treeOf(root, procs)));
  return [...pids].reduce((sum, pid) => sum + procs.get(pid)!.ticks, 0) * TICK_US;
}

/** CPU time the whole machine spent busy (user nice system irq softirq steal; all cores), in microseconds. */
export function machineBusyMicros(): number {
  const fields = readFileSync('/proc/stat', 'latin1').slice(0, 300).split('\n')[0].trim().split(/\s+/);
  return [1, 2, 3, 6, 7, 8].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0) * TICK_US;
}

/** Resident memory of the tree, in bytes. */
export function rssBytes(root: number): number {
  return treeOf(root).reduce((sum, pid) => {
    try { return sum + Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1] ?? 0) * 1024; } catch { return sum; }
  }, 0);
}

// ---- one server

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().once('error', reject).listen(0, HOST, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

const isListening = (port: number) => new Promise<boolean>((resolve) => {
  const socket = connect(port, HOST, () => { socket.destroy(); resolve(true); }).once('error', () => resolve(false));
});

/** Ours admits clients to existing rooms only: the admin makes them over HTTP, before anyone connects. */
async function createRooms(port: number, ids: string[]) {
  for (const [i, id] of ids.entries()) {
    const res = await fetch(`http://${HOST}:${port}/api/rooms`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: `Room ${i + 1}`, id }),
    });
    if (res.status !== 201) throw new Error(`POST /api/rooms (${id}): ${res.status} ${await res.text()}`);
  }
}

export interface RunningServer {
  key: ServerKey; def: ServerDef; pid: number; url: string; dataDir: string; rooms: string[]; cpu(): number; rss(): number; stop(): void;
  urls: string[]; // where clients connect, in turn (the nodes of a cluster)
  pids: number[]; // every process group it runs as
}

/**
 * Starts a fresh server (ours with an empty DATA_DIR, no rate limit and a known admin key) and resolves once
 * it accepts connections and has the `rooms` the clients will be spread over.
 */
export async function startServer(key: ServerKey, rooms = roomIds(1)): Promise<RunningServer> {
  const def = SERVERS[key];
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'chat-bench-'));
  dataDirs.add(dataDir);
  const child = spawnNode(def.script, { PORT: String(port), HOST, DATA_DIR: dataDir, RATE_LIMIT: 'off', TEACHER_KEY: ADMIN_KEY });
  const stop = () => {
    killGroup(child);
    removeDir(dataDir);
  };
  const t0 = Date.now();
  while (!(await isListening(port))) {
    if (child.exitCode !== null || Date.now() - t0 > START_TIMEOUT_MS) {
      stop();
      throw new Error(`${def.label} did not start: ${stderrOf(child) || `exit ${child.exitCode}`}`);
    }
    await sleep(100);
  }
  try {
    if (def.hasRoomApi) await createRooms(port, rooms.filter((id) => id !== DEFAULT_ROOM));
  } catch (err) {
    stop();
    throw new Error(`${def.label}: ${(err as Error).message}`);
  }
  const pid = child.pid!;
  const url = `ws://${HOST}:${port}${key === 'raw' ? '/' : '/socket.io/?EIO=4&transport=websocket'}`;
  return { key, def, pid, dataDir, rooms, url, urls: [url], pids: [pid], cpu: () => cpuMicros(pid), rss: () => rssBytes(pid), stop };
}

export type Adapter = 'streams' | 'pubsub';

/**
 * Ours as a cluster: a redis-server (appendonly, fsync every second: the persistence the README asks for) and
 * `nodes` nodes on it with the given Socket.IO adapter; clients are spread over the nodes in turn. Its CPU and
 * memory are those of the nodes and Redis together.
 */
export async function startCluster(adapter: Adapter, rooms = roomIds(1), nodes = 3): Promise<RunningServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'chat-bench-cluster-'));
  dataDirs.add(dataDir);
  const started: ChildProcess[] = [];
  const stop = () => {
    started.forEach(killGroup);
    removeDir(dataDir);
  };
  try {
    const redisPort = await freePort();
    const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', HOST, '--dir', dataDir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''], {
      cwd: dataDir, detached: true, stdio: 'ignore',
    });
    children.add(redis);
    started.push(redis);
    await waitListening(redisPort, redis, 'redis-server');
    const ports: number[] = [];
    for (let i = 0; i < nodes; i++) {
      const port = await freePort();
      const node = spawnNode('server.ts', {
        PORT: String(port), HOST, REDIS_URL: `redis://${HOST}:${redisPort}`, REDIS_ADAPTER: adapter, RATE_LIMIT: 'off', TEACHER_KEY: ADMIN_KEY,
      });
      started.push(node);
      await waitListening(port, node, `node ${i + 1}`);
      ports.push(port);
    }
    await createRooms(ports[0], rooms.filter((id) => id !== DEFAULT_ROOM));
    await sleep(500); // every node opens the new rooms from the event stream
    const urls = ports.map((port) => `ws://${HOST}:${port}/socket.io/?EIO=4&transport=websocket`);
    const pids = started.map((c) => c.pid!);
    const def = { ...SERVERS.ours, label: `ours, ${nodes} nodes on Redis (${adapter} adapter)` };
    return { key: 'ours', def, pid: pids[1], dataDir, rooms, url: urls[0], urls, pids, cpu: () => cpuMicros(...pids), rss: () => pids.reduce((sum, p) => sum + rssBytes(p), 0), stop };
  } catch (err) {
    stop();
    throw err;
  }
}

async function waitListening(port: number, child: ChildProcess, label: string) {
  const t0 = Date.now();
  while (!(await isListening(port))) {
    if (child.exitCode !== null || Date.now() - t0 > START_TIMEOUT_MS) throw new Error(`${label} did not start: ${stderrOf(child) || `exit ${child.exitCode}`}`);
    await sleep(100);
  }
}
