// From raw rounds to figures, medians, ratios against bare Socket.IO, targets, and the markdown table.
import { cpus, release, totalmem } from 'node:os';
import type { Step, Storm } from './driver.ts';
import { P99_LIMIT_MS } from './driver.ts';
import { SERVERS, type ServerKey } from './servers.ts';

const LOAD_BOUND_PCT = 85; // the receivers' process this busy at the limit: the server may go further

export interface Config {
  receivers: number; senders: number; rate: number; warmupS: number; measureS: number;
  rampStart: number; rampS: number; rampSteps: number; storm: number; stormCapS: number; settleMs: number;
}
export interface ServerRound { main: Step; ramp: { steps: Step[]; best: Step | null }; storm: Storm }
export type Round = Partial<Record<ServerKey, ServerRound>>;

type FigureKey = 'cpuUs' | 'p50' | 'p99' | 'maxRate' | 'kbPerConn' | 'stormS' | 'delivered';
export type Figures = Record<FigureKey, number> & { isRateAtLeast: boolean; isLoadBound: boolean; isStormCut: boolean };

export function toFigures({ main, ramp, storm }: ServerRound): Figures {
  const isPassed = (rate: number) => ramp.steps.some((s) => s.rate === rate && s.isSustained); // a retry may pass
  const failed = ramp.steps.filter((s) => !isPassed(s.rate)).sort((a, b) => a.rate - b.rate || b.loadCpuPct - a.loadCpuPct)[0];
  return {
    cpuUs: main.cpuUsPerDelivery, p50: main.p50, p99: main.p99, delivered: main.deliveredRatio,
    maxRate: ramp.best?.deliveriesPerSec ?? 0, isRateAtLeast: !failed, isLoadBound: !!failed && failed.loadCpuPct >= LOAD_BOUND_PCT,
    kbPerConn: storm.bytesPerConn / 1024, stormS: storm.seconds, isStormCut: !storm.isComplete,
  };
}

const median = (values: number[]) => {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return !sorted.length ? NaN : sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

interface Row { key: FigureKey; label: (c: Config) => string; format: (v: number) => string; target?: number }
const toFixed = (digits: number) => (v: number) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
const toThousands = (v: number) => (v >= 1000 ? `${Math.round(v / 1000)}k` : toFixed(0)(v));

const ROWS: Row[] = [
  { key: 'cpuUs', label: (c) => `(a) server CPU per delivery, µs (${c.receivers} receivers × ${c.rate} msg/s)`, format: toFixed(2), target: 1.1 },
  { key: 'p50', label: () => '(b) latency p50, ms', format: toFixed(1) },
  { key: 'p99', label: () => '(b) latency p99, ms', format: toFixed(1), target: 1.2 },
  { key: 'maxRate', label: (c) => `(c) max deliveries/s with p99 ≤ ${P99_LIMIT_MS} ms (${c.receivers} receivers)`, format: toThousands },
  { key: 'kbPerConn', label: (c) => `(d) memory per idle connection, KB (${c.storm} connections)`, format: toFixed(1), target: 1.0 },
  { key: 'stormS', label: (c) => `(e) connect storm, s (${c.storm} clients)`, format: toFixed(2), target: 1.5 },
  { key: 'delivered', label: () => '(f) delivered / expected', format: toFixed(3) },
];

export interface Summary { medians: Partial<Record<ServerKey, Figures>>; ratios: Partial<Record<ServerKey, Record<FigureKey, number>>>; targets: Record<string, boolean> }

/** Medians over rounds; ratios are medians of each round's ratio to bare Socket.IO (a paired comparison on a noisy machine). */
export function summarize(rounds: Round[], keys: ServerKey[]): Summary {
  const figures = rounds.map((round) => Object.fromEntries(keys.map((k) => [k, toFigures(round[k]!)])) as Record<ServerKey, Figures>);
  const medians: Summary['medians'] = {};
  const ratios: Summary['ratios'] = {};
  for (const k of keys) {
    const all = figures.map((f) => f[k]);
    const m = Object.fromEntries(ROWS.map(({ key }) => [key, median(all.map((f) => f[key]))])) as Record<FigureKey, number>;
    medians[k] = { ...m, delivered: Math.min(...all.map((f) => f.delivered)), isRateAtLeast: all.some((f) => f.isRateAtLeast), isLoadBound: all.some((f) => f.isLoadBound), isStormCut: all.some((f) => f.isStormCut) };
    if (keys.includes('bare')) ratios[k] = Object.fromEntries(ROWS.map(({ key }) => [key, median(figures.map((f) => f[k][key] / f.bare[key]))])) as Record<FigureKey, number>;
  }
  const ours = ratios.ours;
  const targets: Record<string, boolean> = {};
  for (const row of ROWS) if (row.target && ours) targets[row.key] = ours[row.key] <= row.target && !(row.key === 'stormS' && medians.ours!.isStormCut);
  targets.delivered = keys.every((k) => medians[k]!.delivered === 1);
  return { medians, ratios, targets };
}

function toCell(row: Row, f: Figures, ratio: number | undefined): string {
  const isCut = row.key === 'stormS' && f.isStormCut;
  const mark = (row.key === 'maxRate' && f.isRateAtLeast ? '≥ ' : '') + (isCut ? '> ' : '');
  const note = row.key === 'maxRate' && f.isLoadBound ? ' †' : '';
  const times = ratio === undefined || row.key === 'delivered' ? '' : ` (${isCut ? '> ' : ''}${toFixed(2)(ratio)}×)`;
  return `${mark}${row.format(f[row.key])}${note}${times}`;
}

export function toMarkdown(summary: Summary, keys: ServerKey[], config: Config): string {
  const head = `| figure | ${keys.map((k) => SERVERS[k].label).join(' | ')} | target for ours | |`;
  const lines = [head, `|${' --- |'.repeat(keys.length + 3)}`];
  for (const row of ROWS) {
    const cells = keys.map((k) => toCell(row, summary.medians[k]!, summary.ratios[k]?.[row.key]));
    const target = row.key === 'delivered' ? '= 1.0 (every server)' : row.target ? `≤ ${row.target.toFixed(1)}× bare` : '';
    const verdict = row.key in summary.targets ? (summary.targets[row.key] ? 'pass' : '**FAIL**') : '';
    lines.push(`| ${row.label(config)} | ${cells.join(' | ')} | ${target} | ${verdict} |`);
  }
  const notes = ['(×) ratio to bare Socket.IO.'];
  if (keys.some((k) => summary.medians[k]!.isLoadBound)) notes.push('† the receivers\' process used most of a core at the first failing rate: the server\'s own limit may be higher.');
  if (keys.some((k) => summary.medians[k]!.isRateAtLeast)) notes.push('≥ no step failed: the limit is above the last rate tried.');
  if (keys.some((k) => summary.medians[k]!.isStormCut)) notes.push(`> the storm was cut at ${config.stormCapS} s; memory is then per connection made.`);
  return `${lines.join('\n')}\n\n${notes.join(' ')}\n`;
}

export function machine() {
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGB: Math.round(totalmem() / 2 ** 30), node: process.version, os: `Linux ${release()}` };
}

export const toMachineLine = (m: ReturnType<typeof machine>, date: string, rounds: number) =>
  `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGB} GB, ${m.os}, Node ${m.node}; ${date}, ${rounds} round${rounds > 1 ? 's (medians)' : ''}.`;
