// `npm run cluster`: a whole school on this machine, to try the cluster out: a Redis (appendonly, under
// data/cluster/), three nodes and HAProxy with deploy/haproxy.cfg, all on loopback. Ctrl+C stops them together.
//   PORT=8080 (HAProxy), NODE_PORTS=3001,3002,3003, REDIS_PORT=6390, HOST=127.0.0.1 (HAProxy's address)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const HAPROXY_CFG = `${ROOT}deploy/haproxy.cfg`;
const READY_MS = 20_000;

/** Starts a process and resolves once `isReady` holds for what it printed (null: at once); rejects if it exits first. */
export function startProcess(command: string, args: string[], env: Record<string, string>, isReady: ((output: string) => boolean) | null, label = command) {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise<{ child: ChildProcess; output: () => string }>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${label} not ready after ${READY_MS} ms:\n${output}`)); }, READY_MS);
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (isReady && !isReady(output)) return;
      clearTimeout(timer);
      resolve({ child, output: () => output });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${label} exited (${code}):\n${output}`)); });
    if (!isReady) onData(Buffer.alloc(0));
  });
}

/** HAProxy with the repository's configuration, in the foreground, in front of up to three nodes. */
export function startHaproxy(bind: string, nodes: string[]) {
  const env: Record<string, string> = { CHAT_BIND: bind };
  // An unused slot points at a closed port: the health check keeps it out of rotation.
  for (let i = 0; i < 3; i++) env[`NODE${i + 1}`] = nodes[i] ?? '127.0.0.1:9';
  return startProcess('haproxy', ['-f', HAPROXY_CFG, '-db'], env, null, 'haproxy').then(async (started) => {
    const [host, port] = [bind.slice(0, bind.lastIndexOf(':')), Number(bind.slice(bind.lastIndexOf(':') + 1))];
    for (const end = Date.now() + READY_MS; ;) { // answering, and a node is up behind it
      const res = await fetch(`http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/healthz`).catch(() => null);
      if (res?.ok) return started;
      if (Date.now() > end || started.child.exitCode !== null) throw new Error(`haproxy not serving:\n${started.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
}

async function main() {
  const env = process.env;
  const port = Number(env.PORT ?? 8080);
  const host = env.HOST || '127.0.0.1';
  const redisPort = Number(env.REDIS_PORT ?? 6390);
  const nodePorts = (env.NODE_PORTS ?? '3001,3002,3003').split(',').map(Number);
  const dir = `${ROOT}data/cluster`;
  mkdirSync(dir, { recursive: true });
  const children: ChildProcess[] = [];
  const stop = () => { for (const child of children) child.kill('SIGTERM'); };
  process.once('SIGINT', () => { console.log('\nstopping the cluster…'); stop(); });
  process.once('SIGTERM', stop);
  try {
    const redisArgs = ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''];
    const redis = await startProcess('redis-server', redisArgs, {}, (out) => out.includes('Ready to accept connections'), 'redis-server');
    children.push(redis.child);
    const redisUrl = `redis://127.0.0.1:${redisPort}`;
    console.log(`Redis: ${redisUrl} (data in ${dir})`);
    const url = `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`;
    for (const [i, nodePort] of nodePorts.entries()) {
      const node = await startProcess(process.execPath, ['--import', 'tsx', 'server.ts'], {
        REDIS_URL: redisUrl, PORT: String(nodePort), HOST: '127.0.0.1', TRUST_PROXY: 'loopback', PUBLIC_URL: url,
      }, (out) => out.includes('Students can open'), `node ${i + 1}`);
      children.push(node.child);
      console.log(`node ${i + 1}: http://127.0.0.1:${nodePort}/`);
    }
    const haproxy = await startHaproxy(`${host}:${port}`, nodePorts.map((p) => `127.0.0.1:${p}`));
    children.push(haproxy.child);
    const keys = new Redis(redisUrl);
    const [adminKey, main] = await Promise.all([keys.get('chat:server-key'), keys.get('chat:room:main')]);
    keys.disconnect();
    console.log(`\nThe school, through HAProxy: ${url}/`);
    console.log(`Teacher link of the default class: ${url}/#teacher=${JSON.parse(main ?? '{}').teacherKey}`);
    console.log(`Admin link: ${url}/admin#key=${adminKey}`);
    console.log('Ctrl+C stops Redis, the nodes and HAProxy.');
  } catch (err) {
    console.error(`Could not start the cluster: ${(err as Error).message}`);
    stop();
    process.exitCode = 1;
  }
  for (const child of children) child.once('exit', () => { if (children.every((c) => c.exitCode !== null || c.signalCode !== null)) process.exit(); });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
