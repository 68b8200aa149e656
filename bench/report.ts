// From raw rounds to figures, medians, ratios against bare Socket.IO, targets, and the markdown table.
import { cpus, release, totalmem } from 'node:os';
import type { Step, Storm } from './driver.ts';
import { P99_LIMIT_MS, QUIET_PCT } from './driver.ts';
import { SERVERS, type ServerKey } from './servers.ts';

const LOAD_BOUND_PCT = 85; // the receivers' process this busy at the limit: the server may go further

/** How the clients are spread: over `rooms` rooms, with `senders` sending `rate` messages a second in all (one table each). */
export interface Layout { rooms: number; senders: number; rate: number; hasRamp: boolean }
export interface Config {
  receivers: number; layouts: Layout[]; warmupS: number; measureS: number;
  rampStart: number; rampS: number; rampSteps: number; rampBudgetS: number; storm: number; stormCapS: number; warmMs: number; settleMs: number; idleMs: number;
  patience: { waitMs: number; tries: number; budgetMs: number }; // per round
}
export interface ServerRound { main: Step; ramp?: { steps: Step[]; best: Step | null }; storm: Storm }
export type LayoutRound = Partial<Record<ServerKey, ServerRound>>;
export type Round = LayoutRound[]; // in the order of config.layouts

type FigureKey = 'cpuUs' | 'deliveriesPerSec' | 'p50' | 'p99' | 'maxRate' | 'kbPerConn' | 'kbAfterStorm' | 'stormS' | 'delivered' | 'othersPct' | 'othersStormPct';
export type Figures = Record<FigureKey, number> & { isRateAtLeast: boolean; isRateBelow: boolean; isLoadBound: boolean; isRateNoisy: boolean; isStormCut: boolean };

const NO_RAMP = { maxRate: NaN, isRateAtLeast: false, isRateBelow: false, isLoadBound: false, isRateNoisy: false };

/** (c) from the ramp's steps: the best sustained rate, and what may have limited it. */
function toRateFigures(ramp: NonNullable<ServerRound['ramp']>) {
  const isPassed = (rate: number) => ramp.steps.some((s) => s.rate === rate && s.isSustained); // a retry may pass
  const firstFailed = Math.min(...ramp.steps.filter((s) => !isPassed(s.rate)).map((s) => s.rate));
  // the receivers worked as hard as the server there (or near a full core): the limit found may be theirs
  const atLimit = ramp.steps.filter((s) => s.rate === firstFailed);
  const isLoadBound = atLimit.some((s) => s.loadCpuPct >= s.serverCpuPct || s.loadCpuPct >= LOAD_BOUND_PCT);
  const isRateNoisy = atLimit.length > 0 && atLimit.every((s) => s.othersPct >= QUIET_PCT);
  const lowest = Math.min(...ramp.steps.map((s) => s.deliveriesPerSec)); // nothing passed: the limit is below this
  return { maxRate: ramp.best?.deliveriesPerSec ?? lowest, isRateAtLeast: firstFailed === Infinity, isRateBelow: !ramp.best, isLoadBound, isRateNoisy };
}

export function toFigures({ main, ramp, storm }: ServerRound): Figures {
  return {
    cpuUs: main.cpuUsPerDelivery, deliveriesPerSec: main.deliveriesPerSec, p50: main.p50, p99: main.p99, delivered: main.deliveredRatio, othersPct: main.othersPct,
    ...(ramp ? toRateFigures(ramp) : NO_RAMP),
    kbPerConn: storm.bytesPerIdleConn / 1024, kbAfterStorm: storm.bytesPerConn / 1024,
    stormS: storm.seconds, isStormCut: !storm.isComplete, othersStormPct: storm.othersPct,
  };
}

export const median = (values: number[]) => {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return !sorted.length ? NaN : sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

interface Row { key: FigureKey; label: (c: Config, l: Layout) => string; format: (v: number) => string; target?: number; noisyBy?: FigureKey; cell?: (f: Figures) => string }
const toFixed = (digits: number) => (v: number) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
const toThousands = (v: number) => (v >= 1000 ? `${Math.round(v / 1000)}k` : toFixed(0)(v));
const toKilo = (v: number) => (Number.isFinite(v) ? `${(v / 1000).toFixed(1)}k` : 'n/a');
const inRooms = (l: Layout) => (l.rooms > 1 ? ` in ${l.rooms} rooms` : '');
const toLoad = (c: Config, l: Layout) =>
  (l.rooms > 1 ? `${c.receivers} receivers in ${l.rooms} rooms × ${l.rate / l.rooms} msg/s a room` : `${c.receivers} receivers × ${l.rate} msg/s`);

export const ROWS: Row[] = [
  { key: 'cpuUs', label: (c, l) => `(a) server CPU per delivery, µs (${toLoad(c, l)})`, format: toFixed(2), target: 1.1, noisyBy: 'othersPct' },
  { key: 'deliveriesPerSec', label: () => '(a) deliveries/s there', format: toKilo },
  { key: 'p50', label: () => '(b) latency p50, ms', format: toFixed(1) },
  { key: 'p99', label: () => '(b) latency p99, ms', format: toFixed(1), target: 1.2, noisyBy: 'othersPct' },
  { key: 'maxRate', label: (c) => `(c) max deliveries/s with p99 ≤ ${P99_LIMIT_MS} ms (${c.receivers} receivers)`, format: toThousands },
  { key: 'kbPerConn', label: (c, l) => `(d) memory per idle connection, KB (${c.storm} connections${inRooms(l)}, idle ${c.idleMs / 1000} s)`, format: toFixed(1), target: 1.0, noisyBy: 'othersStormPct' },
  { key: 'kbAfterStorm', label: (c) => `(d) the same ${c.settleMs / 1000} s after the storm, with its garbage`, format: toFixed(1) },
  { key: 'stormS', label: (c, l) => `(e) connect storm, s (${c.storm} clients${inRooms(l)})`, format: toFixed(2), target: 1.5, noisyBy: 'othersStormPct' },
  { key: 'delivered', label: () => '(f) delivered / expected', format: toFixed(3) },
  { key: 'othersPct', label: () => 'other processes\' CPU during (a) / (e), % of a core', format: toFixed(0), cell: (f) => `${toFixed(0)(f.othersPct)} / ${toFixed(0)(f.othersStormPct)}` },
];

const RATIO_ROWS = ROWS.filter((row) => row.key !== 'deliveriesPerSec' && row.key !== 'delivered' && row.key !== 'othersPct');
/** The rows of a layout: (c) only where the ramp ran. */
const rowsOf = (l: Layout) => ROWS.filter((row) => row.key !== 'maxRate' || l.hasRamp);
const FIGURE_KEYS: FigureKey[] = [...ROWS.map((row) => row.key), 'othersStormPct'];

export interface Summary { medians: Partial<Record<ServerKey, Figures>>; ratios: Partial<Record<ServerKey, Record<FigureKey, number>>>; targets: Record<string, boolean> }

/** Medians over rounds of one layout; ratios are medians of each round's ratio to bare Socket.IO (a paired comparison on a noisy machine). */
export function summarize(rounds: LayoutRound[], keys: ServerKey[]): Summary {
  const figures = rounds.map((round) => Object.fromEntries(keys.map((k) => [k, toFigures(round[k]!)])) as Record<ServerKey, Figures>);
  const medians: Summary['medians'] = {};
  const ratios: Summary['ratios'] = {};
  for (const k of keys) {
    const all = figures.map((f) => f[k]);
    const m = Object.fromEntries(FIGURE_KEYS.map((key) => [key, median(all.map((f) => f[key]))])) as Record<FigureKey, number>;
    const isAny = (flag: 'isRateAtLeast' | 'isRateBelow' | 'isLoadBound' | 'isRateNoisy' | 'isStormCut') => all.some((f) => f[flag]);
    medians[k] = {
      ...m, delivered: Math.min(...all.map((f) => f.delivered)), isRateAtLeast: isAny('isRateAtLeast'), isRateBelow: isAny('isRateBelow'),
      isLoadBound: isAny('isLoadBound'), isRateNoisy: isAny('isRateNoisy'), isStormCut: isAny('isStormCut'),
    };
    const toRatio = (f: Record<ServerKey, Figures>, key: FigureKey) =>
      key === 'maxRate' && (f[k].isRateBelow || f.bare.isRateBelow) ? NaN : f[k][key] / f.bare[key]; // a bound is no ratio
    if (keys.includes('bare')) ratios[k] = Object.fromEntries(RATIO_ROWS.map(({ key }) => [key, median(figures.map((f) => toRatio(f, key)))])) as Record<FigureKey, number>;
  }
  const ours = ratios.ours;
  const targets: Record<string, boolean> = {};
  for (const row of ROWS) if (row.target && ours) targets[row.key] = ours[row.key] <= row.target && !(row.key === 'stormS' && medians.ours!.isStormCut);
  targets.delivered = keys.every((k) => medians[k]!.delivered === 1);
  return { medians, ratios, targets };
}

function toCell(row: Row, f: Figures, ratio: number | undefined): string {
  if (row.cell) return row.cell(f);
  const isCut = row.key === 'stormS' && f.isStormCut;
  const isRate = row.key === 'maxRate';
  const mark = (isRate && f.isRateAtLeast ? '≥ ' : '') + (isRate && f.isRateBelow ? '< ' : '') + (isCut ? '> ' : '');
  const note = (isRate && f.isLoadBound ? ' †' : '') + (isRate && f.isRateNoisy ? ' ‡' : '');
  const isRatio = ratio !== undefined && Number.isFinite(ratio) && !(isRate && f.isRateBelow);
  const times = !isRatio ? '' : ` (${isCut ? '> ' : ''}${toFixed(2)(ratio)}×)`;
  return `${mark}${row.format(f[row.key])}${note}${times}`;
}

/** The table of one layout, under a line that says how the clients are spread. */
export function toMarkdown(summary: Summary, keys: ServerKey[], config: Config, layout: Layout): string {
  const title = layout.rooms > 1
    ? `**Clients spread over ${layout.rooms} rooms** (a message reaches its own room only; ${layout.senders} senders, ${layout.rate} msg/s in all)`
    : `**All clients in one room** (${layout.senders} senders, ${layout.rate} msg/s)`;
  const head = `| figure | ${keys.map((k) => SERVERS[k].label).join(' | ')} | target for ours | |`;
  const lines = [head, `|${' --- |'.repeat(keys.length + 3)}`];
  let isAnyNoisy = false;
  for (const row of rowsOf(layout)) {
    const cells = keys.map((k) => toCell(row, summary.medians[k]!, summary.ratios[k]?.[row.key]));
    const target = row.key === 'delivered' ? '= 1.0 (every server)' : row.target ? `≤ ${row.target.toFixed(1)}× bare` : '';
    const isNoisy = !!row.noisyBy && (['ours', 'bare'] as const).some((k) => (summary.medians[k]?.[row.noisyBy!] ?? 0) >= QUIET_PCT);
    isAnyNoisy ||= isNoisy;
    const verdict = row.key in summary.targets ? `${summary.targets[row.key] ? 'pass' : '**FAIL**'}${isNoisy ? ' (noisy)' : ''}` : '';
    lines.push(`| ${row.label(config, layout)} | ${cells.join(' | ')} | ${target} | ${verdict} |`);
  }
  const notes = ['(×) ratio to bare Socket.IO.'];
  if (isAnyNoisy) notes.push(`(noisy) other processes used ≥ ${QUIET_PCT}% of a core while ours or bare was measured: run again, or with --repeat.`);
  if (keys.some((k) => summary.medians[k]!.isLoadBound)) notes.push('† at the first failing rate the receivers\' process was as busy as the server (or near a full core): the limit may be the load generator\'s.');
  if (keys.some((k) => summary.medians[k]!.isRateNoisy)) notes.push(`‡ the steps that failed there ran while other processes used ≥ ${QUIET_PCT}% of a core.`);
  if (keys.some((k) => summary.medians[k]!.isRateAtLeast)) notes.push('≥ no step failed: the limit is above the last rate tried.');
  if (keys.some((k) => summary.medians[k]!.isRateBelow)) notes.push('< no step passed: the limit is below the lowest rate tried.');
  if (keys.some((k) => summary.medians[k]!.isStormCut)) notes.push(`> the storm was cut at ${config.stormCapS} s; memory is then per connection made.`);
  return `${title}\n\n${lines.join('\n')}\n\n${notes.join(' ')}\n`;
}

export function machine() {
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGB: Math.round(totalmem() / 2 ** 30), node: process.version, os: `Linux ${release()}` };
}

export const toMachineLine = (m: ReturnType<typeof machine>, date: string, rounds: number) =>
  `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGB} GB, ${m.os}, Node ${m.node}; ${date}, ${rounds} round${rounds > 1 ? 's (medians)' : ''}.`;
