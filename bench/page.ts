// The page in `npm run bench`: Debian's Chromium on loopback, a fresh browser context each run (nothing
// cached), from submitting the login form to the `welcome` (the page shows who we are) and to the first
// message shown (the room holds one), and the bytes that crossed the wire for it. Medians of several runs.
import { chromium, type Page } from 'playwright-core';
import { io as ioClient } from 'socket.io-client';
import { sleep } from './clock.ts';
import { startServer } from './servers.ts';

export const PAGE_TARGET_S = 0.4; // to the welcome, on this machine
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ACK_MS = 5000;

export interface PageRun { welcomeS: number; firstMessageS: number; kilobytes: number }
export interface PageFigures extends PageRun { runs: number }

/** Bytes of every response the page received (headers and body as sent, compressed or not), from now on. */
function countBytes(page: Page) {
  const sizes: Promise<number>[] = [];
  page.on('requestfinished', (request) => {
    sizes.push(request.sizes().then((s) => s.responseHeadersSize + s.responseBodySize, () => 0));
  });
  return async () => (await Promise.all(sizes)).reduce((a, b) => a + b, 0);
}

export async function measurePage(runs: number, log: (line: string) => void): Promise<PageFigures> {
  const server = await startServer('ours');
  const http = server.url.replace(/^ws:/, 'http:').replace(/\/socket\.io\/.*$/, '');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  try {
    await seed(http);
    const results: PageRun[] = [];
    for (let i = 0; i < runs + 1; i++) { // the first run warms the server up (JIT): not counted
      const context = await browser.newContext({ locale: 'en-US' });
      const page = await context.newPage();
      await page.goto(`${http}/`);
      await page.locator('input[name="avatar"]').first().waitFor({ state: 'attached' }); // the login page has started
      await page.locator('#name').fill(`Reader${i}`);
      const bytes = countBytes(page); // from the submit on: what joining the chat costs
      const t0 = Date.now();
      await page.locator('form button[type="submit"], form [type="submit"]').first().click();
      await page.locator('[data-me]:not([hidden])').waitFor({ state: 'attached', timeout: 10_000 });
      const welcomeS = (Date.now() - t0) / 1000;
      await page.locator('[data-text]', { hasText: 'the first message' }).first().waitFor({ timeout: 10_000 });
      const firstMessageS = (Date.now() - t0) / 1000;
      await sleep(300); // the last responses finish
      const kilobytes = (await bytes()) / 1024;
      await context.close();
      if (i === 0) continue;
      results.push({ welcomeS, firstMessageS, kilobytes });
      log(`  page run ${i}: welcome ${welcomeS.toFixed(3)} s, first message ${firstMessageS.toFixed(3)} s, ${kilobytes.toFixed(1)} KB`);
    }
    const median = (f: (r: PageRun) => number) => {
      const sorted = results.map(f).sort((a, b) => a - b);
      const mid = sorted.length >> 1;
      return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    };
    return { runs, welcomeS: median((r) => r.welcomeS), firstMessageS: median((r) => r.firstMessageS), kilobytes: median((r) => r.kilobytes) };
  } finally {
    await browser.close();
    server.stop();
  }
}

/** One message in the room, so that joining shows one. */
async function seed(http: string) {
  const writer = ioClient(http, { auth: { name: 'Writer', avatar: 'cat' }, transports: ['websocket'], reconnection: false });
  try {
    await new Promise((resolve, reject) => { writer.once('welcome', resolve); writer.once('connect_error', reject); });
    await writer.timeout(ACK_MS).emitWithAck('textmsg', { content: 'the first message' });
  } finally {
    writer.close();
  }
}

export const toPageMarkdown = (f: PageFigures) => [
  `| the chat page in Chromium (loopback, nothing cached; median of ${f.runs} runs) | value | target |`,
  '| --- | --- | --- |',
  `| from submitting the login form to the \`welcome\`, s | ${f.welcomeS.toFixed(3)} | ≤ ${PAGE_TARGET_S} ${f.welcomeS <= PAGE_TARGET_S ? '✅' : '❌'} |`,
  `| to the first message shown, s | ${f.firstMessageS.toFixed(3)} | |`,
  `| bytes over the wire for it (HTML, CSS, JS, the Socket.IO client, its frames), KB | ${f.kilobytes.toFixed(1)} | |`,
].join('\n');
