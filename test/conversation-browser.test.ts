// Replies, mentions and the picture viewer in real Chromium against the real server, on a phone and a laptop.
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import { browserSuite, docsScreenshot, message, PHONE, say, teacherJoins, until, withChat } from './browser-helpers.ts';

const isSent = async (page: Page, text: string) => (await (await message(page, text)).getAttribute('data-state')) === 'sent';
/** Whether the element is wholly inside the visible part of the open log. */
const isInView = (page: Page, text: string) => page.evaluate((t) => {
  const li = [...document.querySelectorAll('.log:not([hidden]) .msg')].find((el) => el.querySelector('[data-text]')?.textContent === t);
  const log = document.querySelector('.log:not([hidden])');
  if (!li || !log) return false;
  const [a, b] = [li.getBoundingClientRect(), log.getBoundingClientRect()];
  return a.top >= b.top && a.bottom <= b.bottom;
}, text);

const replies = browserSuite('replies');

replies('a reply quotes its original; tapping the quote scrolls to it, live and from history; a recall empties the quote', () => withChat({}, async ({ join }) => {
  const alice = await join('Alice');
  const bob = await join('Bob', { ...PHONE, avatar: 'owl' });
  await say(alice, 'Read page 4, exercises 1 to 3');
  await until('sent', () => isSent(alice, 'Read page 4'));
  for (let i = 1; i <= 25; i++) await say(alice, `filler ${i}`);
  await message(bob, 'filler 25');
  await bob.locator('.log:not([hidden])').evaluate((log) => { log.scrollTop = 0; });
  const original = await message(bob, 'Read page 4');
  const replyWidth = async () => (await original.locator('[data-reply]').boundingBox())?.width ?? 0;
  assert.ok(await replyWidth() <= 1, 'a phone shows the actions only once the bubble is tapped');
  await original.locator('[data-text]').tap();
  assert.ok(await replyWidth() >= 44, 'then Reply, a finger wide');
  await original.locator('[data-reply]').tap();
  assert.is((await bob.locator('[data-replying-to]').textContent())?.trim(), 'Replying to Alice');
  assert.is(await bob.locator('[data-replying-text]').textContent(), 'Read page 4, exercises 1 to 3');
  await bob.locator('#content').fill('Which one first?');
  await docsScreenshot(bob, 'reply-phone');
  await bob.locator('#content').press('Enter');
  assert.ok(await bob.locator('[data-replying]').isHidden(), 'the reply is sent: the bar goes');
  const reply = await message(alice, 'Which one first?');
  assert.is(await reply.locator('[data-quote]').textContent(), 'Alice: Read page 4, exercises 1 to 3');
  assert.not.ok(await isInView(alice, 'Read page 4, exercises 1 to 3'), 'the original is far above');
  await reply.locator('[data-quote]').click();
  await until('the original scrolled into view', () => isInView(alice, 'Read page 4, exercises 1 to 3'));
  assert.ok(await (await message(alice, 'Read page 4')).evaluate((el) => el.classList.contains('flash')), 'and lit up');

  const carol = await join('Carol', { avatar: 'fox' }); // both come from history
  const fromHistory = await message(carol, 'Which one first?');
  await fromHistory.locator('[data-quote]').click();
  await until('the original from history scrolled into view', () => isInView(carol, 'Read page 4, exercises 1 to 3'));

  await say(alice, 'oops, wrong page');
  await until('sent', () => isSent(alice, 'oops, wrong page'));
  const oops = await message(bob, 'oops, wrong page');
  await oops.locator('[data-text]').tap();
  await oops.locator('[data-reply]').tap();
  await say(bob, 'which page then?');
  const answer = await message(carol, 'which page then?');
  assert.is(await answer.locator('[data-quote]').textContent(), 'Alice: oops, wrong page');
  await (await message(alice, 'oops, wrong page')).locator('[data-recall]').click();
  await until('the quote says the original was recalled', async () =>
    (await answer.locator('[data-quote]').textContent()) === 'The original message was recalled');
  const dan = await join('Dan', { avatar: 'frog' });
  assert.is(await (await message(dan, 'which page then?')).locator('[data-quote]').textContent(), 'The original message was recalled');
}));

replies.run();

const mentions = browserSuite('mentions');

mentions('@ offers the people online; the person mentioned gets a toast, a mention badge and a highlight, elsewhere too', () => withChat({}, async (chat) => {
  const { join } = chat;
  const alice = await join('Alice');
  const bob = await join('Bob', { ...PHONE, avatar: 'owl' });
  const carol = await join('Carol', { avatar: 'fox' });
  await bob.locator('[data-action="people"]').tap();
  await bob.locator('[data-list="people"] [data-person]', { hasText: 'Carol' }).tap(); // Bob is in a private chat
  await alice.locator('#content').pressSequentially('@bo');
  const options = alice.locator('[data-list="mentions"] [data-mention]');
  await until('Bob offered', async () => (await options.allTextContents()).join() === 'Bob');
  await alice.locator('#content').press('Enter'); // picks, does not send
  assert.is(await alice.locator('#content').inputValue(), '@Bob ');
  await alice.locator('#content').pressSequentially('look at the board');
  assert.ok(await alice.locator('[data-list="mentions"]').isHidden());
  await alice.locator('#content').press('Enter');
  await bob.locator('[data-toast]', { hasText: 'Alice mentioned you' }).waitFor();
  await bob.locator('[data-action="people"]').tap();
  const badge = bob.locator('[data-conv="group"] [data-mention-badge]');
  await badge.waitFor();
  assert.is(await badge.locator('.visually-hidden').textContent(), '1 mentions of you');
  await bob.locator('[data-conv="group"]').tap();
  const seenByBob = await message(bob, 'look at the board');
  assert.ok(await seenByBob.evaluate((el) => el.classList.contains('mentions-me')));
  assert.is(await seenByBob.locator('.mention.is-me').textContent(), '@Bob');
  assert.ok(await badge.isHidden(), 'read: the badge goes');
  await docsScreenshot(bob, 'mention-phone');
  const seenByCarol = await message(carol, 'look at the board');
  assert.not.ok(await seenByCarol.evaluate((el) => el.classList.contains('mentions-me')));
  assert.is(await seenByCarol.locator('.mention:not(.is-me)').textContent(), '@Bob');
  assert.ok(await carol.locator('[data-conv="group"] [data-mention-badge]').isHidden());
  await carol.locator('#content').pressSequentially('@al');
  await until('Alice offered to a student, not everyone', async () => (await carol.locator('[data-list="mentions"] [data-mention]').allTextContents()).join() === 'Alice');

  const teacher = await teacherJoins(chat);
  await teacher.locator('#content').pressSequentially('@');
  await until('Everyone offered to the teacher first', async () => (await teacher.locator('[data-list="mentions"] [data-mention]').first().textContent()) === 'Everyone');
  await teacher.locator('[data-list="mentions"] [data-mention="all"]').click();
  await teacher.locator('#content').pressSequentially('pens down');
  await teacher.locator('#content').press('Enter');
  const toAll = await message(carol, 'pens down');
  assert.is(await toAll.locator('.mention.is-me').textContent(), '@all');
}));

mentions.run();

const viewer = browserSuite('picture viewer');

viewer('a picture opens full size in the page and closes with Back or Escape, the chat still there', () => withChat({}, async ({ join }) => {
  const alice = await join('Alice');
  const bob = await join('Bob', { ...PHONE, avatar: 'owl' });
  const drawn: string = await alice.evaluate(`(() => { // a picture worth a full screen: a board with a sum on it
    const canvas = Object.assign(document.createElement('canvas'), { width: 1200, height: 800 });
    const g = canvas.getContext('2d');
    g.fillStyle = '#1f4d3a'; g.fillRect(0, 0, 1200, 800);
    g.fillStyle = '#f5f1e6'; g.font = 'bold 140px sans-serif'; g.fillText('3 × 7 = 21', 200, 450);
    return canvas.toDataURL('image/png');
  })()`);
  await alice.locator('[data-file]').setInputFiles({ name: 'board.png', mimeType: 'image/png', buffer: Buffer.from(drawn.split(',')[1], 'base64') });
  const thumb = bob.locator('.log:not([hidden]) .pic').first();
  await thumb.waitFor();
  const chatUrl = bob.url();
  await thumb.tap();
  const dialog = bob.locator('dialog.viewer');
  await dialog.waitFor();
  assert.ok(await dialog.locator('img').evaluate((img: HTMLImageElement) => img.decode().then(() => img.naturalWidth > 0)), 'the picture loads');
  await docsScreenshot(bob, 'viewer-phone');
  await bob.goBack();
  await until('Back closes the viewer', () => dialog.isHidden());
  assert.is(bob.url(), chatUrl, 'and stays in the chat');
  await thumb.tap();
  await dialog.waitFor();
  await bob.keyboard.press('Escape');
  await until('Escape closes it', () => dialog.isHidden());
  await until('its history entry is gone too', () => bob.evaluate(() => history.state?.viewer !== true));
  assert.is(bob.url(), chatUrl);
  assert.is(await bob.locator('[data-me-name]').textContent(), 'Bob', 'the chat is still there');
}));

viewer.run();
