// Through the load balancer: HAProxy with the repository's configuration (deploy/haproxy.cfg) in front of three
// nodes on one Redis, two people in Chromium on different nodes, first on HTTP long-polling only, then on WebSocket.
import * as assert from 'uvu/assert';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startHaproxy } from '../deploy/local-cluster.ts';
import { ARGS, CHROMIUM, browserSuite, message, ready, say, within } from './browser-helpers.ts';
import { withCluster } from './cluster-helpers.ts';
import { hasRedisServer } from './redis-helpers.ts';
import { freePort } from './stress-helpers.ts';
import { spawnSync } from 'node:child_process';

const hasHaproxy = spawnSync('haproxy', ['-v'], { stdio: 'ignore' }).status === 0;
if (!hasHaproxy) {
  const line = 'haproxy is not installed: the load balancer test is SKIPPED (apt-get install haproxy)';
  if (process.env.CI) throw new Error(`${line}, and CI must run it`);
  console.log(`\n  !!! ${line}\n`);
}
const isRunnable = hasRedisServer() && hasHaproxy;
const Balanced = browserSuite('cluster: through HAProxy, in Chromium');
const test = isRunnable ? Balanced : Balanced.skip;

/** A person whose requests HAProxy sends to `node` (its stickiness cookie set beforehand). */
async function person(browser: Browser, url: string, name: string, node: string, onlyPolling: boolean): Promise<{ page: Page; context: BrowserContext; frames: string[]; polls: string[] }> {
  const context = await browser.newContext({ locale: 'en-US' });
  await context.addCookies([{ name: 'CHATNODE', value: node, url }]);
  // A network where WebSocket cannot be opened (a proxy that drops it): the page falls back to long-polling.
  if (onlyPolling) {
    await context.addInitScript(() => {
      (window as { WebSocket: unknown }).WebSocket = class {
        readyState = 0;
        onerror: ((e: Event) => void) | null = null;
        onclose: ((e: { code: number; reason: string }) => void) | null = null;
        constructor() {
          setTimeout(() => { this.readyState = 3; this.onerror?.(new Event('error')); this.onclose?.({ code: 1006, reason: '' }); });
        }
        send() {}
        close() {}
      };
    });
  }
  const page = await context.newPage();
  page.setDefaultTimeout(8000);
  const frames: string[] = [];
  const polls: string[] = [];
  page.on('requestfinished', (request) => { if (request.url().includes('transport=polling')) polls.push(request.url()); });
  page.on('websocket', (ws) => {
    if (ws.url().includes('/socket.io/')) ws.on('framereceived', ({ payload }) => { frames.push(String(payload)); });
  });
  await page.goto(`${url}/chat.html?${new URLSearchParams({ name, avatar: 'cat' })}`);
  await ready(page);
  return { page, context, frames, polls };
}

test('two people on two nodes talk through HAProxy on long-polling, then on WebSocket; each stays on its node', async () => {
  await withCluster(3, async (c) => {
    const port = await freePort();
    const haproxy = await startHaproxy(`127.0.0.1:${port}`, c.nodes.map((n) => `127.0.0.1:${n.port}`));
    const url = `http://127.0.0.1:${port}`;
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    try {
      await within(60_000, 'the test', (async () => {
        const ann = await person(browser, url, 'Ann', 'node1', true);
        const bob = await person(browser, url, 'Bob', 'node2', true);
        await say(ann.page, 'hello over polling');
        await message(bob.page, 'hello over polling');
        await say(bob.page, 'polling back');
        await message(ann.page, 'polling back');
        assert.equal([...ann.frames, ...bob.frames], [], 'no WebSocket carried anything');
        assert.ok(ann.polls.length >= 4 && bob.polls.length >= 4, `long-polling carried it: ${ann.polls.length}, ${bob.polls.length} requests`);
        for (const [who, node] of [[ann, 'node1'], [bob, 'node2']] as const) {
          const cookie = (await who.context.cookies()).find((k) => k.name === 'CHATNODE');
          assert.is(cookie?.value, node, 'the stickiness cookie kept its node');
        }
        const cy = await person(browser, url, 'Cy', 'node3', false);
        const dee = await person(browser, url, 'Dee', 'node1', false);
        await say(cy.page, 'hello over WebSocket');
        await message(dee.page, 'hello over WebSocket');
        await message(ann.page, 'hello over WebSocket');
        await say(dee.page, 'WebSocket back');
        await message(cy.page, 'WebSocket back');
        assert.ok(cy.frames.some((f) => f.includes('WebSocket back')), 'Cy got it over the WebSocket');
        assert.ok(dee.frames.some((f) => f.includes('hello over WebSocket')), 'Dee got it over the WebSocket');
        // Redis goes away: a message written meanwhile is refused, kept, and sent again by the page once it is back.
        await c.redis.stop();
        await say(cy.page, 'written while Redis was away');
        await cy.page.locator('[data-state="failed"]').waitFor();
        await c.redis.start();
        for (const who of [dee, ann]) { // Ann, on polling, goes through HAProxy's 503s and back
          await who.page.locator('.log:not([hidden]) [data-text]', { hasText: 'written while Redis was away' }).waitFor({ timeout: 20_000 });
        }
      })());
    } finally {
      await browser.close();
      haproxy.child.kill('SIGKILL');
    }
  });
});

Balanced.run();
