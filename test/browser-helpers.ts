// Browser test helpers: Debian's Chromium driven by playwright-core against the real server.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Locator, type Page } from 'playwright-core';
import { startServer, type TestServer } from './helpers.ts';
import type { ChatOptions } from '../server.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
export const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const WAIT_MS = 5000;
const TEST_MS = 25_000; // a whole test, so a hang fails by name instead of stalling the run
const CLOSE_MS = 5000;

export const LAPTOP: BrowserContextOptions = { viewport: { width: 1280, height: 800 } };
export const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
export const SHOTS_DIR = fileURLToPath(new URL('./screenshots/', import.meta.url));

/** A uvu suite whose tests count as skipped when there is no Chromium to drive. */
export function browserSuite(name: string) {
  const s = suite(name);
  if (hasChromium) return s;
  const skipping = ((title: string, fn: () => Promise<void>) => s.skip(title, fn)) as unknown as typeof s;
  return Object.assign(skipping, { only: s.skip, skip: s.skip, before: s.before, after: s.after, run: s.run });
}

export interface Chat {
  server: TestServer;
  browser: Browser;
  /** A new person (own browser context) on the chat page, once welcomed. */
  join(name: string, options?: JoinOptions): Promise<Page>;
  /** A new page in its own context, not yet anywhere. */
  newPage(options?: BrowserContextOptions): Promise<Page>;
  /** Errors the pages threw or CSP refusals they logged; `expected` console noise (a server away) is filtered. */
  errors: string[];
}
interface JoinOptions extends BrowserContextOptions { avatar?: string; isWelcomed?: boolean }

/** Runs `test` against a fresh server, in fresh browser contexts; closes both, then checks no page threw. */
export async function withChat(options: ChatOptions, test: (chat: Chat) => Promise<void>) {
  const server = await startServer({ rateLimit: false, ...options });
  const browser = await borrowBrowser();
  const contexts: BrowserContext[] = [];
  const errors: string[] = [];
  const newPage = async (contextOptions: BrowserContextOptions = {}) => {
    const context = await browser.newContext({ ...LAPTOP, locale: 'en-US', ...contextOptions });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /Content Security Policy|Uncaught/i.test(msg.text())) errors.push(`console: ${msg.text()}`);
    });
    return page;
  };
  const join = async (name: string, { avatar = 'cat', isWelcomed = true, ...contextOptions }: JoinOptions = {}) => {
    const page = await newPage(contextOptions);
    await page.goto(`${server.url}/chat.html?${new URLSearchParams({ name, avatar })}`);
    if (isWelcomed) await ready(page);
    return page;
  };
  try {
    await within(TEST_MS, 'the test', test({ server, browser, join, newPage, errors }));
  } finally {
    await within(CLOSE_MS, 'closing the pages', Promise.all(contexts.map((c) => c.close())))
      .catch((err) => { shared?.browser.then((b) => b.close()); shared = null; throw err; }) // a stuck browser is not lent again
      .finally(() => { returnBrowser(); return within(CLOSE_MS, 'closing the server', server.close()); });
  }
  assert.equal(errors, [], 'no uncaught errors in the pages');
}

// One Chromium for a run of browser tests (each test has its own contexts: nothing is shared but the process);
// it closes itself once no test has used it for a moment, so the run still ends by itself.
let shared: { browser: Promise<Browser>; idle?: NodeJS.Timeout } | null = null;
const IDLE_MS = 1000;

async function borrowBrowser(): Promise<Browser> {
  clearTimeout(shared?.idle);
  const browser = await shared?.browser.catch(() => null);
  if (browser?.isConnected()) return browser;
  shared = { browser: chromium.launch({ executablePath: CHROMIUM, args: ARGS }) };
  return shared.browser;
}

function returnBrowser() {
  const lent = shared;
  if (!lent) return;
  lent.idle = setTimeout(() => {
    if (shared === lent) shared = null;
    lent.browser.then((b) => b.close(), () => {});
  }, IDLE_MS);
}

/** `promise`, or a rejection naming `what` after `ms`. */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Waits until the page has its welcome: own name shown, no banner. */
export async function ready(page: Page) {
  await page.locator('[data-me]:not([hidden])').waitFor({ state: 'attached' }); // hidden by CSS on a phone
  await page.locator('[data-banner]').waitFor({ state: 'hidden' });
}

/** The teacher signs in from the login page with the teacher link (answering any prompt with `answers`). */
export async function teacherJoins({ server, newPage }: Chat, answers: string[] = [], contextOptions: BrowserContextOptions = {}) {
  const page = await newPage(contextOptions);
  page.on('dialog', (dialog) => dialog.accept(answers.shift()));
  await page.goto(`${server.url}/#teacher=${server.chat.teacherKey}`);
  await page.getByLabel('Nickname').fill('Ms Li');
  await page.locator('label', { has: page.locator('input[value="owl"]') }).click();
  await page.getByRole('button', { name: 'Join the chat' }).click();
  await ready(page);
  await page.locator('[data-teacher-bar]').waitFor();
  return page;
}

/** Picks a language in the page's switch, and waits until the page is in it (its dictionary loads on demand). */
export async function switchLanguage(page: Page, lang: 'en' | 'zh') {
  await page.locator('[data-lang]').selectOption(lang);
  await page.waitForFunction((tag) => document.documentElement.lang === tag, lang === 'zh' ? 'zh-CN' : 'en');
}

/** Types `text` into the composer and presses Enter. */
export async function say(page: Page, text: string) {
  await page.locator('#content').fill(text);
  await page.locator('#content').press('Enter');
}

/** The visible log's message with this text (waits for it). */
export async function message(page: Page, text: string) {
  const li = page.locator('.log:not([hidden]) [data-text]', { hasText: text }).locator('xpath=ancestor::li[1]');
  await li.waitFor();
  return li;
}

/** Polls `probe` until it returns true; fails with `what` after `ms`. */
export async function until(what: string, probe: () => Promise<boolean> | boolean, ms = WAIT_MS) {
  const end = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > end) assert.unreachable(`timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * chat.close() while pages are connected. A page that is still on HTTP long-polling reconnects over its
 * keep-alive connection into the closing server, and httpServer.close() then waits for it forever; so once
 * the server stopped listening, its leftover connections are dropped.
 */
export async function stopServer(chat: { close(): Promise<void>; httpServer: HttpServer }) {
  const closing = chat.close();
  await until('the server stops listening', () => !chat.httpServer.listening);
  chat.httpServer.closeAllConnections();
  await within(CLOSE_MS, 'closing the server', closing);
}

export async function screenshot(page: Page, name: string) {
  mkdirSync(SHOTS_DIR, { recursive: true });
  await page.screenshot({ path: `${SHOTS_DIR}${name}.png` });
}

/** A screenshot that the README shows: also copied to docs/ when missing or when UPDATE_DOCS is set (docs/ is
 * tracked by git, so not on every run). */
export async function docsScreenshot(page: Page, name: string) {
  await screenshot(page, name);
  const docsShot = new URL(`../docs/${name}.png`, import.meta.url);
  if (!process.env.UPDATE_DOCS && existsSync(docsShot)) return;
  mkdirSync(new URL('../docs/', import.meta.url), { recursive: true });
  copyFileSync(`${SHOTS_DIR}${name}.png`, docsShot);
}

export const textOf = async (page: Page | Locator, selector: string) => ((await page.locator(selector).textContent()) ?? '').trim();
