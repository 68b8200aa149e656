// A whole cluster for the tests: a real redis-server on a free loopback port and nodes that are separate
// processes of the real CLI (REDIS_URL set, each with its own DATA_DIR), and clients of any node.
import { rmSync } from 'node:fs';
import { io as ioClient } from 'socket.io-client';
import { tempDir, type Client } from './helpers.ts';
import { withRedis, type TestRedis } from './redis-helpers.ts';
import { spawnCli, type Cli } from './stress-helpers.ts';

export const CLUSTER_KEY = 'cluster-test-admin-key-0123456789';

export interface TestCluster {
  redis: TestRedis;
  nodes: Cli[];
  /** Starts one more node (or again the one at `index`, on a new port). */
  startNode(index?: number): Promise<Cli>;
  /** A client of node `i` that does not reconnect by itself; closed with the cluster. */
  client(i: number, auth: Record<string, unknown>, extra?: Parameters<typeof ioClient>[1]): Client;
}

/** Runs `body` with Redis and `n` nodes, all stopped (SIGKILL) and removed afterwards. */
export async function withCluster(n: number, body: (cluster: TestCluster) => Promise<void>, env: Record<string, string> = {}) {
  await withRedis(async (redis) => {
    const dirs: string[] = [];
    const clients: Client[] = [];
    const nodes: Cli[] = [];
    const startNode = async (index = nodes.length) => {
      const dir = tempDir('chat-node-');
      dirs.push(dir);
      const node = await spawnCli({ REDIS_URL: redis.url, TEACHER_KEY: CLUSTER_KEY, RATE_LIMIT: 'off', DATA_DIR: dir, ...env });
      nodes[index] = node;
      return node;
    };
    const cluster: TestCluster = {
      redis, nodes, startNode,
      client(i, auth, extra = {}) {
        const socket: Client = ioClient(nodes[i].url, { auth, forceNew: true, reconnection: false, transports: ['websocket'], ...extra });
        clients.push(socket);
        return socket;
      },
    };
    try {
      for (let i = 0; i < n; i++) await startNode();
      await body(cluster);
    } finally {
      clients.forEach((c) => c.close());
      nodes.forEach((node) => node.kill());
      await Promise.all(nodes.map((node) => node.exited));
      dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
    }
  });
}
