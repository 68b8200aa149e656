// Rooms in the pages, in real Chromium against the real server: the admin page, a room's login and chat
// pages, and the screens for a class that does not exist, a teacher link no longer valid, a class closed.
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import { browserSuite, message, PHONE, ready, say, screenshot, switchLanguage, textOf, until, withChat, type Chat } from './browser-helpers.ts';
import { sleep } from './helpers.ts';

type RoomInfo = { id: string; title: string; teacherKey: string; url: string; teacherUrl: string };

/** A room made through the admin API (the pages' own tests make theirs through the admin page). */
async function createRoom({ server }: Chat, body: { title: string; id?: string }): Promise<RoomInfo> {
  const res = await fetch(`${server.url}/api/rooms`, {
    method: 'POST', body: JSON.stringify(body),
    headers: { authorization: `Bearer ${server.chat.teacherKey}`, 'content-type': 'application/json' },
  });
  assert.is(res.status, 201, await res.clone().text());
  return res.json() as Promise<RoomInfo>;
}

/** A student through a room's login page, as the address on the projector leads them; `check` sees the login page. */
async function joinRoom({ server, newPage }: Chat, room: string, name: string, hash = '', check = async (_page: Page) => {}) {
  const page = await newPage();
  await page.goto(`${server.url}/?room=${room}${hash}`);
  await check(page);
  await page.getByLabel('Nickname').fill(name);
  await page.getByRole('button', { name: 'Join the chat' }).click();
  return page;
}

async function openAdmin({ server, newPage }: Chat, key = server.chat.teacherKey, options = {}) {
  const page = await newPage(options);
  page.on('dialog', (dialog) => dialog.accept());
  await page.goto(`${server.url}/admin#key=${key}`);
  return page;
}

const card = (page: Page, id: string) => page.locator(`[data-list="rooms"] [data-room="${id}"]`);

// ---

const admin = browserSuite('admin page');

admin('creates a room; two students chat in it, and nothing reaches the default room', () => withChat({}, async (c) => {
  const page = await openAdmin(c);
  await page.waitForURL(`${c.server.url}/admin`); // the key leaves the address bar as the page starts (else this times out)
  assert.is(await page.evaluate(() => sessionStorage.getItem('adminKey')), c.server.chat.teacherKey);
  assert.not.match(await page.evaluate(() => JSON.stringify(localStorage)), c.server.chat.teacherKey, 'never in localStorage');
  await card(page, 'main').waitFor();
  assert.ok(await card(page, 'main').locator('[data-delete]').isHidden(), 'the default room cannot be deleted');

  await page.getByLabel('Title').fill('7B Maths');
  await page.getByLabel('Address name (optional)').fill('7B!');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.locator('[data-create-error]').waitFor();
  assert.ok((await textOf(page, '[data-create-error]')).length > 10, 'the server\'s sentence is shown');
  await page.getByLabel('Address name (optional)').fill('7b');
  await page.getByRole('button', { name: 'Create' }).click();
  const room = card(page, '7b');
  await room.waitFor();
  assert.ok(await page.locator('[data-create-error]').isHidden());
  assert.is(await page.getByLabel('Title').inputValue(), '', 'the form is ready for the next class');
  assert.is(await textOf(page, '[data-room="7b"] [data-title]'), '7B Maths');
  assert.match(await room.locator('[data-student-url]').getAttribute('href') ?? '', /^http:\/\/[\d.]+:\d+\/\?room=7b$/);
  assert.match(await room.locator('[data-join]').getAttribute('href') ?? '', /^\/join\?room=7b$/);
  const qr = room.locator('[data-qr]');
  assert.is(await qr.getAttribute('src'), '/join.svg?room=7b');
  assert.ok(await qr.evaluate((img: HTMLImageElement) => img.decode().then(() => img.naturalWidth, () => 0)) > 0, 'the QR code loads');
  const teacherUrl = await room.locator('[data-teacher-url]').inputValue();
  assert.match(teacherUrl, /\/\?room=7b#teacher=[\w-]{16,}$/);

  const ann = await joinRoom(c, '7b', 'Ann');
  await ready(ann);
  assert.match(ann.url(), /\/chat\.html\?room=7b&name=Ann&avatar=cat$/);
  assert.is(await textOf(ann, '[data-room-title]'), '7B Maths');
  assert.is(await ann.title(), '7B Maths');
  const bob = await joinRoom(c, '7b', 'Bob');
  await ready(bob);
  const dee = await c.join('Dee'); // in the default room
  assert.is(await textOf(dee, '[data-room-title]'), 'Class chat');
  await say(ann, 'hello 7b');
  await message(bob, 'hello 7b');
  await say(bob, 'hi Ann');
  await message(ann, 'hi Ann');
  await say(dee, 'hello main');
  await sleep(300);
  assert.is(await dee.locator('[data-text]', { hasText: 'hello 7b' }).count(), 0, 'not in the default room');
  assert.is(await ann.locator('[data-text]', { hasText: 'hello main' }).count(), 0);
  assert.is(await textOf(ann, '#online-count'), '2');
  assert.ok(await ann.evaluate(() => Object.keys(localStorage).includes('chat.session.7b.ann')), 'the session is kept per room');

  await until('the admin page counts them', async () => (await textOf(page, '[data-room="7b"] [data-online]')) === '2', 8000);
  await screenshot(page, 'admin-desktop');
}));

admin('Copy puts the teacher link on the clipboard; the page fits a phone and every control has a name', () => withChat({}, async (c) => {
  await createRoom(c, { title: 'Year 8 English — a long title to wrap', id: 'y8-english' });
  const page = await openAdmin(c, c.server.chat.teacherKey, { ...PHONE, viewport: { width: 375, height: 812 } });
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: c.server.url });
  const room = card(page, 'y8-english');
  await room.waitFor();
  await room.getByRole('button', { name: 'Copy' }).tap();
  await until('copied', async () => (await textOf(page, '[data-room="y8-english"] [data-copy-status]')) === 'Copied');
  assert.is(await page.evaluate(() => navigator.clipboard.readText()), await room.locator('[data-teacher-url]').inputValue());
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 375), 'no sideways scrolling');
  await screenshot(page, 'admin-phone');
  const unnamed = await page.evaluate(() => [...document.querySelectorAll('button, input, select, a, img')]
    .filter((el) => !(el as HTMLElement).closest('[hidden], template'))
    .filter((el) => {
      if (el.matches('img')) return el.getAttribute('alt') === null || (el.matches('[data-qr]') && !el.getAttribute('alt'));
      const labels = (el as HTMLInputElement).labels;
      return !(el.getAttribute('aria-label') || el.textContent?.trim() || (labels && labels.length));
    }).map((el) => el.outerHTML));
  assert.equal(unnamed, []);
}));

admin('without a key, with a wrong one, or with a class\'s teacher key: a sentence saying where the admin link is', () => withChat({}, async (c) => {
  const { teacherKey } = await createRoom(c, { title: '7B', id: '7b' });
  for (const key of [null, 'not-the-key-at-all-0000', teacherKey]) {
    const page = key === null ? await c.newPage() : await openAdmin(c, key);
    if (key === null) await page.goto(`${c.server.url}/admin`);
    await page.locator('[data-no-key]').waitFor();
    assert.match(await textOf(page, '[data-no-key]'), 'open the admin link printed in the server\'s terminal');
    assert.ok(await page.locator('[data-admin]').isHidden(), `no form nor list (${key})`);
  }
}));

admin.run();

// ---

const rooms = browserSuite('rooms in the pages');

rooms('the login page of an unknown class says so, without a form; a known one shows its title', () => withChat({}, async (c) => {
  const page = await c.newPage();
  for (const room of ['nope', 'Not_an_id!']) {
    await page.goto(`${c.server.url}/?room=${room}`);
    await page.locator('[data-no-room]').waitFor();
    assert.is(await textOf(page, '[data-no-room]'), 'This class does not exist.');
    assert.ok(await page.locator('[data-login]').isHidden(), 'no form');
  }
  await switchLanguage(page, 'zh');
  assert.is(await textOf(page, '[data-no-room]'), '这个班级不存在。');
  await switchLanguage(page, 'en');

  await createRoom(c, { title: '7B Maths', id: '7b' });
  await page.goto(`${c.server.url}/?room=7B`); // as typed on a phone
  await until('the title', async () => (await textOf(page, '[data-room-title]')) === '7B Maths');
  assert.ok(await page.locator('[data-login]').isVisible());
  await page.goto(`${c.server.url}/`);
  assert.is(await textOf(page, '[data-room-title]'), 'Class chat', 'the default room');
}));

rooms('an old or another class\'s teacher link: a screen, and "Join as a student" forgets the key', () => withChat({}, async (c) => {
  const b7 = await createRoom(c, { title: '7B', id: '7b' });
  await createRoom(c, { title: '8A', id: '8a' });
  const page = await joinRoom(c, '8a', 'Mr Wu', `#teacher=${b7.teacherKey}`, async (login) => {
    assert.is(await textOf(login, '[data-teacher-note]'), 'You are signing in as the teacher');
  });
  await page.locator('[data-refused]').waitFor();
  assert.is(await textOf(page, '[data-refused-text]'), 'This teacher link is no longer valid.');
  assert.ok(await page.locator('[data-teacher-bar]').isHidden(), 'no teacher controls');
  await screenshot(page, 'bad-key');
  await page.getByRole('button', { name: 'Join as a student' }).click();
  await ready(page);
  assert.ok(await page.locator('[data-refused]').isHidden());
  await sleep(300);
  assert.ok(await page.locator('[data-teacher-bar]').isHidden(), 'a student now');
  assert.not.ok(await page.evaluate(() => sessionStorage.getItem('teacherKey.8a')), 'the key is forgotten for 8a');

  const teacher = await joinRoom(c, '7b', 'Ms Li', `#teacher=${b7.teacherKey}`); // the right class's key
  await ready(teacher);
  await teacher.locator('[data-teacher-bar]').waitFor();
  assert.is(await teacher.evaluate(() => sessionStorage.getItem('teacherKey.7b')), b7.teacherKey);
}));

rooms('a class deleted on the admin page: its students see it closed, never reconnect, and then "does not exist"', () => withChat({}, async (c) => {
  await createRoom(c, { title: '7B Maths', id: '7b' });
  const ann = await joinRoom(c, '7b', 'Ann');
  await ready(ann);
  const dee = await c.join('Dee');
  const page = await openAdmin(c);
  await card(page, '7b').getByRole('button', { name: 'Delete' }).click(); // the confirm is accepted
  await card(page, '7b').waitFor({ state: 'detached' });
  await ann.locator('[data-refused]').waitFor();
  assert.is(await textOf(ann, '[data-refused-text]'), 'The teacher closed this class.');
  await screenshot(ann, 'closed');
  await sleep(1500);
  assert.ok(await ann.locator('[data-banner]').isHidden(), 'no reconnect loop');
  assert.is(c.server.chat.stats().online, 1, 'only Dee, in the default room');
  assert.ok(await dee.locator('[data-refused]').isHidden(), 'the default room goes on');

  await ann.reload();
  await ann.locator('[data-refused]').waitFor();
  assert.is(await textOf(ann, '[data-refused-text]'), 'This class does not exist (any more).');
  assert.is(await ann.locator('[data-back]').getAttribute('href'), '/');
}));

rooms('a long class title fits the phone, whole: on the login page, and as the heading of the group conversation', () => withChat({}, async (c) => {
  const title = 'Year 8 English and Drama, Thursday afternoon group';
  await createRoom(c, { title, id: 'y8' });
  const page = await c.newPage(PHONE);
  await page.goto(`${c.server.url}/?room=y8`);
  await until('the title', async () => (await textOf(page, '[data-room-title]')) === title);
  await screenshot(page, 'login-room-phone');
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'no sideways scrolling on the login page');
  await page.getByLabel('Nickname').fill('林小明');
  await page.getByRole('button', { name: 'Join the chat' }).click();
  await ready(page);
  assert.is(await textOf(page, '[data-room-title]'), title);
  const heading = page.locator('[data-conv-title]');
  assert.is(await textOf(page, '[data-conv-title]'), title);
  assert.ok(await heading.isVisible());
  assert.ok(await heading.evaluate((h) => h.scrollWidth <= h.clientWidth && h.getBoundingClientRect().right <= 390), 'not cut');
  await screenshot(page, 'chat-room-phone');
  await switchLanguage(page, 'zh');
  assert.is(await textOf(page, '[data-conv-title]'), title, 'a teacher\'s title stays as typed in every language');
  assert.is(await textOf(page, '[data-conv-note]'), '所有在线的人都能看到。');
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'no sideways scrolling in the chat');
  assert.ok(await page.locator('#content').isVisible());
}));

rooms.run();
