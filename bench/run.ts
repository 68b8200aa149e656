// `npm run bench [-- --quick] [-- --repeat N] [-- --servers ours,bare] [-- --parts servers,cluster,seen,page]`: the four
// servers one after another under the same load, with all clients in one room and spread over 10 rooms; then
// ours as a cluster of three nodes on Redis (bench/cluster.ts); ours with everyone reporting reads (bench/seen.ts);
// then the chat page in Chromium (bench/page.ts).
// One table each on stdout, progress on stderr, results in bench/results/.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openRig, quietStep, quietStorm, ramp, step, type Patience, type Rig, type Step } from './driver.ts';
import { machine, summarize, toMachineLine, toMarkdown, type Config, type Layout, type LayoutRound, type Round, type ServerRound } from './report.ts';
import { killAll, ROOT, SERVER_KEYS, SERVERS, type ServerKey } from './servers.ts';
import { measureCluster, toClusterMarkdown, type ClusterRound } from './cluster.ts';
import { measurePage, toPageMarkdown } from './page.ts';
import { measureSeen, toSeenMarkdown, type SeenRound } from './seen.ts';

// Spread over 10 rooms, a message reaches a tenth of the receivers: ten times the messages (one sender a
// room) keep the deliveries a second, and so the fan-out work, at the one-room level. The ramp (c) is
// measured in one room only.
const FULL: Config = {
  receivers: 1000,
  layouts: [{ rooms: 1, senders: 4, rate: 40, hasRamp: true }, { rooms: 10, senders: 10, rate: 400, hasRamp: false }],
  warmupS: 3, measureS: 10,
  rampStart: 60, rampS: 5, rampSteps: 10, rampBudgetS: 75, storm: 5000, stormCapS: 30, warmMs: 12_000, settleMs: 3000, idleMs: 45_000,
  patience: { waitMs: 8000, tries: 3, budgetMs: 90_000 },
};
const QUICK: Config = {
  receivers: 300,
  layouts: [{ rooms: 1, senders: 2, rate: 40, hasRamp: true }, { rooms: 10, senders: 10, rate: 400, hasRamp: false }],
  warmupS: 1, measureS: 3,
  rampStart: 60, rampS: 2, rampSteps: 4, rampBudgetS: 15, storm: 1000, stormCapS: 10, warmMs: 500, settleMs: 500, idleMs: 1000,
  patience: { waitMs: 2000, tries: 1, budgetMs: 10_000 },
};
const MAX_REPEAT = 9;
const PARTS = ['servers', 'cluster', 'seen', 'page'];
const PAGE_RUNS = { full: 7, quick: 3 };
const RESULTS = join(ROOT, 'bench', 'results');

const log = (line: string) => console.error(line);
const toStepLine = (s: Step) =>
  `${s.rate} msg/s: ${Math.round(s.deliveriesPerSec)} deliveries/s, ${s.cpuUsPerDelivery.toFixed(2)} µs CPU each, ` +
  `p50 ${s.p50.toFixed(1)} / p99 ${s.p99.toFixed(1)} ms, delivered ${s.deliveredRatio.toFixed(4)}, ` +
  `CPU: server ${Math.round(s.serverCpuPct)}%, receivers ${Math.round(s.loadCpuPct)}%, others ${Math.round(s.othersPct)}%${s.isSustained ? '' : '  (not sustained)'}`;

/** A fresh server with its receivers and senders in the layout's rooms, warmed up at `rate` (JIT, buffers; not counted), for one measurement. */
async function withWarmRig<T>(key: ServerKey, c: Config, l: Layout, rate: number, measure: (rig: Rig) => Promise<T>): Promise<T> {
  const rig = await openRig(key, c.receivers, l.senders, l.rooms);
  try {
    await step(rig, rate, c.warmupS);
    return await measure(rig);
  } finally {
    rig.close();
  }
}

/** The fixed-rate step: the figures that are compared, so all servers take it one right after another. */
const measureMain = (key: ServerKey, c: Config, l: Layout, patience: Patience) => withWarmRig(key, c, l, l.rate, async (rig) => {
  const main = await quietStep(rig, l.rate, c.measureS, patience);
  log(`  ${toStepLine(main)}${main.tries > 1 ? ` (least disturbed of ${main.tries})` : ''}`);
  return main;
});

const measureRamp = (key: ServerKey, c: Config, l: Layout) => withWarmRig(key, c, l, c.rampStart, async (rig) => {
  const found = await ramp(rig, c.rampStart, c.rampS, c.rampSteps, c.rampBudgetS * 1000);
  found.steps.forEach((s) => log(`  ramp ${toStepLine(s)}`));
  return found;
});

function parseOptions() {
  const { values } = parseArgs({ options: {
    quick: { type: 'boolean', default: false }, repeat: { type: 'string', default: '1' }, servers: { type: 'string' },
    parts: { type: 'string', default: PARTS.join(',') },
  } });
  const repeat = Math.min(MAX_REPEAT, Math.max(1, Math.floor(Number(values.repeat)) || 1));
  const keys = values.servers ? SERVER_KEYS.filter((k) => values.servers!.split(',').includes(k)) : SERVER_KEYS;
  if (!keys.length) throw new Error(`--servers takes a comma-separated list of ${SERVER_KEYS.join(', ')}`);
  const parts = new Set(values.parts.split(','));
  if (![...parts].every((p) => PARTS.includes(p))) throw new Error(`--parts takes a comma-separated list of ${PARTS.join(', ')}`);
  const isFull = !values.quick && keys.length === SERVER_KEYS.length && parts.size === PARTS.length;
  return {
    isQuick: values.quick, repeat, keys: parts.has('servers') ? keys : [], hasCluster: parts.has('cluster'), hasSeen: parts.has('seen'), hasPage: parts.has('page'), isFull,
  };
}

const toLayoutLine = (l: Layout) => (l.rooms > 1 ? `${l.rooms} rooms` : 'one room');

function writeAtomic(file: string, text: string) {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

async function main() {
  const { isQuick, repeat, keys, hasCluster, hasSeen, hasPage, isFull } = parseOptions();
  const config = isQuick ? QUICK : FULL;
  const t0 = Date.now();
  const rounds: Round[] = [];
  const clusterRounds: ClusterRound[] = [];
  const seenRounds: SeenRound[] = [];
  for (let r = 0; r < repeat; r++) {
    const order = r % 2 ? [...keys].reverse() : keys; // alternate, so no server always runs first
    const patience = { ...config.patience, spentMs: 0 }; // waiting for quiet and measuring again, per round
    const round: Round = config.layouts.map(() => ({}));
    // The machine's speed drifts over minutes: the compared steps run back to back (the servers of one
    // layout next to each other), before the long ramps.
    const mains = config.layouts.map(() => ({}) as Partial<Record<ServerKey, Step>>);
    for (const [i, layout] of config.layouts.entries()) {
      for (const key of order) {
        log(`[round ${r + 1}/${repeat}] ${SERVERS[key].label}: ${config.receivers} receivers, ${layout.senders} senders, ${layout.rate} msg/s, ${toLayoutLine(layout)}`);
        mains[i][key] = await measureMain(key, config, layout, patience);
      }
    }
    const ramps = config.layouts.map(() => ({}) as Partial<Record<ServerKey, ServerRound['ramp']>>);
    for (const [i, layout] of config.layouts.entries()) {
      if (!layout.hasRamp) continue;
      for (const key of order) {
        log(`[round ${r + 1}/${repeat}] ${SERVERS[key].label}: ramp, ${toLayoutLine(layout)}`);
        ramps[i][key] = await measureRamp(key, config, layout);
      }
    }
    for (const [i, layout] of config.layouts.entries()) {
      for (const key of order) {
        const storm = await quietStorm(key, config.storm, config.stormCapS * 1000, config, patience, layout.rooms);
        log(`[round ${r + 1}/${repeat}] ${SERVERS[key].label}: storm ${storm.connected}/${storm.count} in ${storm.seconds.toFixed(2)} s, ${toLayoutLine(layout)}, ` +
          `${(storm.bytesPerIdleConn / 1024).toFixed(1)} KB per idle connection (${(storm.bytesPerConn / 1024).toFixed(1)} KB right after), others ${Math.round(storm.othersPct)}% CPU` +
          `${storm.tries > 1 ? ` (least disturbed of ${storm.tries})` : ''}`);
        round[i][key] = { main: mains[i][key]!, ramp: ramps[i][key], storm };
      }
    }
    rounds.push(round);
    if (hasCluster) clusterRounds.push(await measureCluster(config, config.layouts[0], patience, r, log));
    if (hasSeen) seenRounds.push(await measureSeen(config, config.layouts[0], patience, r, log));
    log(`[round ${r + 1}/${repeat}] ${Math.round(patience.spentMs / 1000)} s spent waiting for a quiet machine and measuring again`);
  }

  const cluster = hasCluster ? toClusterMarkdown(clusterRounds, config, config.layouts[0]) : null;
  if (hasPage) log('the chat page in Chromium');
  const page = hasPage ? await measurePage(isQuick ? PAGE_RUNS.quick : PAGE_RUNS.full, log) : null;
  const seen = hasSeen ? toSeenMarkdown(seenRounds, config, config.layouts[0]) : null;
  const extra = [...(cluster ? [cluster.markdown] : []), ...(seen ? [seen.markdown] : []), ...(page ? [toPageMarkdown(page)] : [])];
  if (!keys.length) {
    console.log(`\n${extra.join('\n\n')}`);
    return;
  }
  const summaries = config.layouts.map((_, i) => summarize(rounds.map((round): LayoutRound => round[i]), keys));
  const date = new Date().toISOString().slice(0, 10);
  const info = machine();
  const machineLine = toMachineLine(info, date, repeat);
  const table = [...config.layouts.map((layout, i) => toMarkdown(summaries[i], keys, config, layout)), ...extra].join('\n');
  const seconds = Math.round((Date.now() - t0) / 1000);
  console.log(`\n${table}\n${machineLine}\nRun time: ${seconds} s.`);

  mkdirSync(RESULTS, { recursive: true });
  const name = `${date}${isQuick ? '-quick' : isFull ? '' : '-partial'}.json`;
  writeAtomic(join(RESULTS, name), JSON.stringify({
    date, machine: info, config, repeat, seconds, summaries: summaries.map((summary, i) => ({ layout: config.layouts[i], ...summary })), rounds,
    cluster: cluster && { targets: cluster.targets, rounds: clusterRounds }, seen: seen && { targets: seen.targets, rounds: seenRounds }, page,
  }, null, 1) + '\n');
  if (isFull) writeAtomic(join(RESULTS, 'latest.md'), `${table}\n${machineLine}\n`);
  log(`wrote bench/results/${name}${isFull ? ' and bench/results/latest.md' : ''}`);
}

main().then(
  () => { killAll(); process.exit(0); },
  (err) => { console.error(err); killAll(); process.exit(1); },
);
