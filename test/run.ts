// Runs every uvu suite under test/ (through tsx) and ends with one line: "N passed, M failed".
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const uvuBin = fileURLToPath(new URL('../node_modules/uvu/bin.js', import.meta.url)); // not in its exports map
const pattern = `(?:${process.argv[2] ?? ''}).*\\.test\\.ts$`; // an argument picks suites by file name
const hangReport = fileURLToPath(new URL('./hang-report.ts', import.meta.url));
const child = spawn(process.execPath, ['--import', 'tsx', '--import', hangReport, uvuBin, 'test', pattern, '--no-color'], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, FORCE_COLOR: '0' },
});

const LIMIT_MS = 10 * 60_000; // a hung suite must not hang CI
const watchdog = setTimeout(() => { console.error(`\nTests still running after ${LIMIT_MS / 60_000} min: stopped.`); child.kill('SIGKILL'); }, LIMIT_MS);

// The suites have ended once uvu prints its summary; a process still alive well after that holds something a
// test left open. It is named (hang-report.ts) and the run fails at once, rather than at the limit.
const EXIT_MS = 30_000;
let exitWatch: NodeJS.Timeout | undefined;
function notExiting() {
  child.kill('SIGUSR2');
  setTimeout(() => {
    console.error(`\nThe suites ended ${EXIT_MS / 1000} s ago but the process did not exit (above: what was left open): stopped.`);
    child.kill('SIGKILL');
  }, 1000);
}

let output = '';
child.stdout.on('data', (chunk: Buffer) => {
  process.stdout.write(chunk);
  output += chunk.toString();
  if (!exitWatch && /\n\s*Duration:\s+[\d.]+m?s/.test(output)) exitWatch = setTimeout(notExiting, EXIT_MS);
});
child.on('close', (code) => {
  clearTimeout(watchdog);
  clearTimeout(exitWatch);
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
  const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const failed = total - passed + (code !== 0 && total === passed ? 1 : 0); // uvu's total leaves out skipped tests
  console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(code === 0 && failed === 0 && total > 0 ? 0 : 1);
});
