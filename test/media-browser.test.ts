// Voice messages and shared files in real Chromium: recorded on the HTTPS origin with Chromium's fake microphone
// and played by another person; on a plain-HTTP LAN origin the 🎤 explains itself; a teacher's worksheet
// downloaded by a student. `chat.test` is mapped to 127.0.0.1, so the origins are not localhost (which counts
// as secure): they are what a phone sees on the classroom Wi-Fi.
import type { AddressInfo } from 'node:net';
import * as assert from 'uvu/assert';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { ARGS, browserSuite, CHROMIUM, docsScreenshot, LAPTOP, PHONE, ready, stopServer, textOf, until } from './browser-helpers.ts';
import { createChatServer } from '../server.ts';
import { pdf } from './file-samples.ts';
import { startServer, type TestServer } from './helpers.ts';

const MEDIA_ARGS = [...ARGS, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--host-resolver-rules=MAP chat.test 127.0.0.1'];

async function withMedia(body: (s: TestServer, open: (origin: string, name: string, extra?: BrowserContextOptions, teacherKey?: string) => Promise<Page>) => Promise<void>) {
  const s = await startServer({ rateLimit: false, httpsPort: 0 });
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: MEDIA_ARGS });
  const errors: string[] = [];
  const open = async (origin: string, name: string, extra: BrowserContextOptions = {}, teacherKey = '') => {
    const context = await browser.newContext({ ...LAPTOP, locale: 'en-US', ignoreHTTPSErrors: true, ...extra });
    if (teacherKey) await context.addInitScript((key) => sessionStorage.setItem('teacherKey.main', key), teacherKey); // as the teacher link leaves it
    const page = await context.newPage();
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (msg) => { if (msg.type() === 'error' && /Content Security Policy/.test(msg.text())) errors.push(msg.text()); });
    await page.goto(`${origin}/chat.html?name=${encodeURIComponent(name)}&avatar=cat`);
    await ready(page);
    return page;
  };
  try {
    await body(s, open);
  } finally {
    await browser.close();
    await s.close();
  }
  assert.equal(errors, [], 'no errors in the pages');
}

const httpsOrigin = (s: TestServer) => `https://chat.test:${(s.chat.httpsServer!.address() as AddressInfo).port}`;
const httpOrigin = (s: TestServer) => `http://chat.test:${s.port}`;

const media = browserSuite('voice and files in Chromium');

media('on HTTPS: Sam records a voice message with the microphone; Kim, on a phone, sees its length and plays it', () => withMedia(async (s, open) => {
  const sam = await open(httpsOrigin(s), 'Sam');
  const kim = await open(httpsOrigin(s), 'Kim', PHONE);
  assert.ok(await sam.evaluate(() => window.isSecureContext), 'the HTTPS origin is a secure context');
  await sam.locator('[data-action="voice"]').click();
  await until('recording, the time counts', async () => /^Recording 0:0[1-9]$/.test(await textOf(sam, '.rec-time')), 8000);
  await docsScreenshot(sam, 'voice-recording');
  await sam.locator('[data-voice-send]').click();
  const card = kim.locator('.msg .media.voice');
  await card.waitFor();
  assert.match(await textOf(card, '.duration'), /^0:0[1-9]$/);
  await card.locator('[data-play]').tap();
  await until('the audio loads and plays', () => card.locator('audio').evaluate((a: HTMLAudioElement) => a.readyState >= 2 && a.currentTime > 0), 8000);
  await docsScreenshot(kim, 'voice-phone');
  const own = sam.locator('.msg.own .media.voice audio');
  await until('Sam\'s own message gets its URL', async () => !!(await own.getAttribute('src')));
}));

media('on plain HTTP from a LAN address the 🎤 says why it cannot record, and offers the phone\'s recorder', () => withMedia(async (s, open) => {
  const kim = await open(httpOrigin(s), 'Kim', PHONE);
  assert.not.ok(await kim.evaluate(() => window.isSecureContext), 'not a secure context');
  await kim.locator('[data-action="voice"]').tap();
  const dialog = kim.locator('dialog.voice-dialog');
  assert.is(await textOf(dialog, 'h2'), 'Recording needs the secure address');
  assert.match(await textOf(dialog, 'h2 + p'), /https:\/\//);
  const input = dialog.locator('input[type="file"]');
  assert.is(await input.getAttribute('accept'), 'audio/*');
  assert.is(await input.getAttribute('capture'), '');
  await docsScreenshot(kim, 'voice-http-phone');
}));

media('a worksheet: the teacher shares a PDF, a student downloads it; 📎 shows for students once the teacher allows it', () => withMedia(async (s, open) => {
  const teacher = await open(httpOrigin(s), 'Ms Li', {}, s.chat.teacherKey);
  const sam = await open(httpOrigin(s), 'Sam', PHONE);
  assert.ok(await sam.locator('[data-action="file"]').isHidden(), 'no 📎 for a student at first');
  const bytes = pdf();
  const chooser = teacher.waitForEvent('filechooser');
  await teacher.locator('[data-action="file"]').click();
  await (await chooser).setFiles({ name: 'Worksheet 3.pdf', mimeType: 'application/pdf', buffer: bytes });
  const card = sam.locator('.msg a.media');
  await card.waitFor();
  assert.is(await textOf(card, '.file-name'), 'Worksheet 3.pdf');
  assert.is(await card.getAttribute('download'), 'Worksheet 3.pdf');
  const res = await fetch(httpOrigin(s).replace('chat.test', '127.0.0.1') + (await card.getAttribute('href')));
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes), 'the same bytes');
  await docsScreenshot(sam, 'file-phone');
  await teacher.locator('[data-teacher="files"]').click();
  await until('📎 shows for Sam', () => sam.locator('[data-action="file"]').isVisible());
}));

media('the server restarts between an upload and its message: the page uploads it again and sends it, once', () => withMedia(async (s, open) => {
  const teacher = await open(httpOrigin(s), 'Ms Li', {}, s.chat.teacherKey);
  let next: ReturnType<typeof createChatServer> | undefined;
  await teacher.route('**/api/uploads/**', async (route) => {
    const response = await route.fetch({ url: route.request().url().replace('chat.test', '127.0.0.1') });
    if (!next && response.status() === 201) { // complete: the server restarts before the page can send it
      await stopServer(s.chat);
      next = createChatServer({ dataDir: s.dataDir, rateLimit: false, log: () => {} });
      await next.listen(s.port);
    }
    await route.fulfill({ response });
  });
  try {
    const bytes = pdf();
    const chooser = teacher.waitForEvent('filechooser');
    await teacher.locator('[data-action="file"]').click();
    await (await chooser).setFiles({ name: 'After restart.pdf', mimeType: 'application/pdf', buffer: bytes });
    const own = teacher.locator('.msg.own').last();
    await until('the restart happened', () => next !== undefined, 8000);
    await until('sent after all', async () => (await own.getAttribute('data-state')) === 'sent', 15_000);
    const sam = await open(httpOrigin(s), 'Sam');
    const card = sam.locator('.msg a.media');
    await card.first().waitFor();
    assert.is(await card.count(), 1, 'sent once');
    const res = await fetch(httpOrigin(s).replace('chat.test', '127.0.0.1') + (await card.getAttribute('href')));
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes), 'the same bytes');
  } finally {
    await next?.close();
  }
}));

media.run();
