// "Seen by" in `npm run bench`: the one-room fan-out load again, with every receiver reporting its read position as
// the page does (the last line of the teacher, once it held a second or every 5 s while lines keep coming) and every
// sender a teacher (the worst case: each line counts), so the server keeps the positions, stores them and pushes the
// counts. Next to ours without readers and bare Socket.IO, in the same round.
import { measureCases, openRig, type Patience, type Step } from './driver.ts';
import { median, ROWS, type Config, type Layout } from './report.ts';
import { ADMIN_KEY } from './servers.ts';

const TARGET = ROWS.find((row) => row.key === 'cpuUs')!.target!; // the existing target against bare Socket.IO
type Case = 'bare' | 'ours' | 'reading';
const CASES: Case[] = ['bare', 'ours', 'reading'];
const LABELS: Record<Case, string> = { bare: 'bare Socket.IO', ours: 'ours, nobody reading', reading: 'ours, everyone reading' };
export type SeenRound = Record<Case, Step>;

/** One round: the three cases one right after another (in turn reversed), each on a fresh warm rig. */
export const measureSeen = (c: Config, l: Layout, p: Patience, round: number, log: (line: string) => void): Promise<SeenRound> =>
  measureCases(CASES, (key) => `seen-by bench: ${LABELS[key]}`, (key) => openRig(key === 'bare' ? 'bare' : 'ours', c.receivers, l.senders, 1, undefined,
    key === 'reading' ? { reads: true, teacherKey: ADMIN_KEY } : {}), c, l, p, round, log);

/** The table: medians over rounds, and the ratios (medians of per-round ratios). */
export function toSeenMarkdown(rounds: SeenRound[], c: Config, l: Layout) {
  const figure = (key: Case, f: (s: Step) => number) => median(rounds.map((r) => f(r[key])));
  const ratio = (key: Case, to: Case, f: (s: Step) => number) => median(rounds.map((r) => f(r[key]) / f(r[to])));
  const cpu = (s: Step) => s.cpuUsPerDelivery;
  const vsBare = ratio('reading', 'bare', cpu);
  const lines = [
    `| "seen by" (${rounds.length} round${rounds.length > 1 ? 's' : ''}, medians; ${c.receivers} receivers × ${l.rate} msg/s, one room) | ${CASES.map((k) => LABELS[k]).join(' | ')} | reading / bare | reading / nobody reading | target |`,
    '| --- | --- | --- | --- | --- | --- | --- |',
    `| server CPU per delivery, µs | ${CASES.map((k) => figure(k, cpu).toFixed(2)).join(' | ')} | ${vsBare.toFixed(2)}× | ${ratio('reading', 'ours', cpu).toFixed(2)}× | ≤ ${TARGET}× bare ${vsBare <= TARGET ? '✅' : '❌'} |`,
    `| latency p99, ms | ${CASES.map((k) => figure(k, (s) => s.p99).toFixed(1)).join(' | ')} | | | |`,
    `| delivered / expected | ${CASES.map((k) => figure(k, (s) => s.deliveredRatio).toFixed(3)).join(' | ')} | | | |`,
  ];
  return { markdown: lines.join('\n'), targets: { cpuUs: vsBare <= TARGET } };
}
