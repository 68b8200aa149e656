// The cluster in `npm run bench`: the one-room fan-out load with the receivers spread over three nodes on
// one Redis, next to the embedded server in the same round; with each official adapter, to choose between them.
import { measureCases, openRig, type Patience, type Step } from './driver.ts';
import { median, type Config, type Layout } from './report.ts';
import { startCluster, type Adapter } from './servers.ts';

export const CLUSTER_TARGETS = { p99: 3, cpuUs: 2 }; // at most this many times the embedded server's
type Case = 'embedded' | Adapter;
const CASES: Case[] = ['embedded', 'streams', 'pubsub'];
const LABELS: Record<Case, string> = { embedded: 'ours, embedded', streams: '3 nodes, streams adapter', pubsub: '3 nodes, pub/sub adapter' };
export type ClusterRound = Record<Case, Step>;

/** One round: the three cases one right after another (in turn reversed), each on a fresh warm rig. */
export const measureCluster = (c: Config, l: Layout, p: Patience, round: number, log: (line: string) => void): Promise<ClusterRound> =>
  measureCases(CASES, (key) => `cluster bench: ${LABELS[key]} (CPU: nodes + Redis)`,
    (key) => openRig('ours', c.receivers, l.senders, 1, key === 'embedded' ? undefined : () => startCluster(key)), c, l, p, round, log);

/** The table: medians over rounds, and each adapter's ratio to the embedded server (median of per-round ratios). */
export function toClusterMarkdown(rounds: ClusterRound[], c: Config, l: Layout) {
  const figure = (key: Case, f: (s: Step) => number) => median(rounds.map((r) => f(r[key])));
  const ratio = (key: Case, f: (s: Step) => number) => median(rounds.map((r) => f(r[key]) / f(r.embedded)));
  const rows: [string, (s: Step) => number, number, number | undefined][] = [
    [`CPU per delivery, µs (nodes + Redis; ${c.receivers} receivers × ${l.rate} msg/s)`, (s) => s.cpuUsPerDelivery, 2, CLUSTER_TARGETS.cpuUs],
    ['latency p50, ms', (s) => s.p50, 1, undefined],
    ['latency p99, ms', (s) => s.p99, 1, CLUSTER_TARGETS.p99],
    ['delivered / expected', (s) => s.deliveredRatio, 3, undefined],
  ];
  const lines = [
    `| cluster (${rounds.length} round${rounds.length > 1 ? 's' : ''}, medians) | ${CASES.map((k) => LABELS[k]).join(' | ')} | streams / embedded | pub/sub / embedded | target (streams) |`,
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  const targets: Record<string, boolean> = {};
  for (const [label, f, digits, target] of rows) {
    const isRatio = target !== undefined;
    const [streams, pubsub] = (['streams', 'pubsub'] as const).map((k) => ratio(k, f));
    if (isRatio) targets[label] = streams <= target;
    const met = isRatio ? `≤ ${target}× ${streams <= target ? '✅' : '❌'}` : '';
    lines.push(`| ${label} | ${CASES.map((k) => figure(k, f).toFixed(digits)).join(' | ')} | ${isRatio ? `${streams.toFixed(2)}×` : ''} | ${isRatio ? `${pubsub.toFixed(2)}×` : ''} | ${met} |`);
  }
  return { markdown: lines.join('\n'), targets };
}
