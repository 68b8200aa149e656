// Moderation where the teacher looks, in real Chromium: a teacher on a laptop (and on a phone), students on a
// phone and a laptop. The menus of a person and of a message, a timed mute, deleting, slow mode, a safe clear.
import { readFileSync } from 'node:fs';
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import { browserSuite, docsScreenshot, message, PHONE, ready, say, teacherJoins, textOf, until, withChat } from './browser-helpers.ts';

const menuItem = (page: Page, name: string) => page.getByRole('menuitem', { name, exact: true });
/** The teacher opens the ⋯ menu of a person in the people list. */
const personMenu = (teacher: Page, name: string) =>
  teacher.locator('[data-list="people"] li', { has: teacher.locator('[data-person]', { hasText: name }) }).locator('[data-more]').click();

const moderation = browserSuite('moderation where the teacher looks');

moderation('from the people list: a 5-minute mute; the student sees why, writes to the teacher, not to the group', () => withChat({}, async (c) => {
  const teacher = await teacherJoins(c);
  const sam = await c.join('Sam', { ...PHONE });
  await c.join('Kim', { avatar: 'fox' });
  await personMenu(teacher, 'Sam');
  await docsScreenshot(teacher, 'teacher-menu');
  await menuItem(teacher, 'Mute for 5 minutes').click();
  await until('Sam is told until when', async () => /^The teacher has muted you until .+\. You can still write to the teacher privately\.$/.test(await textOf(sam, '[data-room-note]')));
  await until('Sam cannot write in the group', () => sam.locator('#content').isDisabled());
  await sam.locator('[data-action="people"]').tap();
  await sam.locator('[data-list="people"] [data-person]', { hasText: 'Ms Li' }).tap();
  await until('but can write to the teacher', () => sam.locator('#content').isEnabled());
  assert.ok(await sam.locator('[data-room-note]').isHidden());
  await say(sam, 'Sorry, may I explain?');
  await teacher.locator('[data-list="convs"] [data-conv]', { hasText: 'Sam' }).click();
  await message(teacher, 'Sorry, may I explain?');
  await personMenu(teacher, 'Sam');
  await menuItem(teacher, 'Unmute').click();
  await sam.locator('[data-action="group"]').tap();
  await until('Sam writes again', () => sam.locator('#content').isEnabled());
}));

moderation('from a message: the teacher deletes it for everyone; slow mode counts down; clearing asks first and offers the transcript', () => withChat({}, async (c) => {
  const teacher = await teacherJoins(c);
  const sam = await c.join('Sam', { ...PHONE });
  const kim = await c.join('Kim', { avatar: 'fox' });
  await say(kim, 'something rude');
  const rude = await message(teacher, 'something rude');
  assert.not.ok(await (await message(sam, 'something rude')).locator('[data-more]').isVisible(), 'a student has no such menu');
  await rude.hover();
  await rude.locator('[data-more]').click();
  await menuItem(teacher, 'Delete for everyone').click();
  await kim.locator('.notice', { hasText: 'The teacher removed your message' }).waitFor();
  await sam.locator('.notice', { hasText: 'The teacher removed a message of Kim' }).waitFor();
  assert.is(await kim.locator('[data-text]', { hasText: 'something rude' }).count(), 0);

  await teacher.locator('[data-teacher-slow]').selectOption('10');
  await until('Kim sees slow mode', async () => (await textOf(kim, '[data-room-note]')) === 'Slow mode: one message every 10 seconds.');
  await say(kim, 'first');
  await until('Send counts down', async () => /^Wait \d+ s$/.test(await textOf(kim, '.send')));
  await kim.locator('#content').fill('second');
  await kim.locator('#content').press('Enter');
  assert.is(await kim.locator('#content').inputValue(), 'second', 'kept in the box until Kim may send it');
  await teacher.locator('[data-teacher-slow]').selectOption('0');
  await until('slow mode off: Send is back', async () => (await textOf(kim, '.send')) === 'Send');

  await say(kim, 'keep me in the transcript');
  await message(teacher, 'keep me in the transcript');
  await teacher.getByRole('button', { name: 'Clear history' }).click();
  const dialog = teacher.locator('dialog.confirm');
  assert.match(await dialog.textContent() ?? '', 'This cannot be undone');
  const [download] = await Promise.all([teacher.waitForEvent('download'), dialog.getByRole('button', { name: 'Download transcript' }).click()]);
  assert.match(readFileSync(await download.path(), 'utf8'), 'keep me in the transcript');
  assert.ok(await dialog.isVisible(), 'still asking after the download');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  assert.is(await kim.locator('[data-text]', { hasText: 'keep me in the transcript' }).count(), 1, 'cancelled: nothing cleared');
  await teacher.getByRole('button', { name: 'Clear history' }).click();
  await dialog.getByRole('button', { name: 'Clear for everyone' }).click();
  await until('cleared', async () => (await kim.locator('[data-text]', { hasText: 'keep me in the transcript' }).count()) === 0);
}));

moderation('raised hands: a tap on ✋ (muted too); the teacher sees who and since when, and lowers one or all', () => withChat({}, async (c) => {
  const teacher = await teacherJoins(c);
  const sam = await c.join('Sam', { ...PHONE });
  const kim = await c.join('Kim', { avatar: 'fox' });
  const samHand = sam.getByRole('button', { name: 'Raise hand' });
  const kimHand = kim.getByRole('button', { name: 'Raise hand' });
  assert.ok(await teacher.getByRole('button', { name: 'Raise hand' }).isHidden(), 'the teacher has the floor');
  await personMenu(teacher, 'Sam');
  await menuItem(teacher, 'Mute until I lift it').click();
  await until('Sam is muted', () => sam.locator('#content').isDisabled());
  await samHand.tap();
  await until('Sam\'s hand is up', async () => (await samHand.getAttribute('aria-pressed')) === 'true');
  const hands = teacher.locator('[data-hands]');
  await until('the teacher sees it', async () => /Raised hands\s*Sam\s*now\s*Lower/.test((await hands.innerText()).replace(/\n/g, ' ')));
  await kimHand.click();
  await until('in order', async () => (await hands.locator('.hand-item > span').allTextContents()).join() === 'Sam,Kim');
  await docsScreenshot(teacher, 'teacher-hands');
  await hands.locator('.hand-item', { hasText: 'Kim' }).getByRole('button', { name: 'Lower' }).click();
  await until('Kim\'s hand is down', async () => (await kimHand.getAttribute('aria-pressed')) === 'false');
  await kimHand.click();
  await until('two again', async () => (await hands.locator('.hand-item').count()) === 2);
  await hands.getByRole('button', { name: 'Lower all' }).click();
  await until('all down', async () => (await samHand.getAttribute('aria-pressed')) === 'false' && (await kimHand.getAttribute('aria-pressed')) === 'false');
  assert.ok(await hands.isHidden());
}));

moderation('the waiting room: locked, someone new waits on a screen that says so until let in; someone else is refused', () => withChat({}, async (c) => {
  const teacher = await teacherJoins(c);
  const sam = await c.join('Sam', { avatar: 'fox' });
  await teacher.getByRole('button', { name: 'Lock the room' }).click();
  await until('locked', async () => (await teacher.getByRole('button', { name: 'Lock the room' }).getAttribute('aria-pressed')) === 'true');
  await sam.reload();
  await ready(sam); // known here: straight back in
  const kim = await c.join('Kim', { ...PHONE, isWelcomed: false });
  await kim.locator('[data-refused-text]', { hasText: 'Waiting for the teacher to let you in…' }).waitFor();
  await docsScreenshot(kim, 'waiting-phone');
  const waitlist = teacher.locator('[data-waitlist]');
  await waitlist.locator('.hand-item', { hasText: 'Kim' }).waitFor();
  await docsScreenshot(teacher, 'teacher-waitlist');
  await waitlist.getByRole('button', { name: 'Let Kim in' }).click();
  await ready(kim);
  assert.ok(await kim.locator('[data-refused]').isHidden(), 'the waiting screen is gone');
  await say(kim, 'hello, I am in');
  await message(sam, 'hello, I am in');
  const lee = await c.join('Lee', { isWelcomed: false });
  await waitlist.locator('.hand-item', { hasText: 'Lee' }).waitFor();
  await waitlist.getByRole('button', { name: 'Refuse Lee' }).click();
  await lee.locator('[data-refused-text]', { hasText: 'The teacher did not let you in.' }).waitFor();
  assert.ok(await lee.getByRole('link', { name: 'Choose another nickname' }).isVisible());
  assert.ok(await waitlist.isHidden(), 'nobody waits any more');
}));

moderation('a poll: the teacher asks; students vote (and change it) on a phone and a laptop; live counts for the teacher; results for all', () => withChat({}, async (c) => {
  const teacher = await teacherJoins(c);
  const sam = await c.join('Sam', { ...PHONE });
  const kim = await c.join('Kim', { avatar: 'fox' });
  await teacher.getByRole('button', { name: 'New poll' }).click();
  const dialog = teacher.locator('dialog.poll-dialog');
  await dialog.getByLabel('Question').fill('Which planet is the largest?');
  await dialog.getByLabel('Answer 1').fill('Earth');
  await dialog.getByLabel('Answer 2').fill('Jupiter');
  await dialog.getByRole('button', { name: 'Add an answer' }).click();
  await dialog.getByLabel('Answer 3').fill('Mars');
  await dialog.getByRole('button', { name: 'Ask' }).click();
  const samPoll = (await message(sam, 'Which planet is the largest?')).locator('.poll');
  await samPoll.getByRole('button', { name: 'Earth' }).tap();
  await until('Sam\'s vote shows', async () => (await samPoll.getByRole('button', { name: 'Earth' }).getAttribute('aria-pressed')) === 'true');
  await samPoll.getByRole('button', { name: 'Jupiter' }).tap(); // changed
  await until('changed', async () => (await samPoll.getByRole('button', { name: 'Jupiter' }).getAttribute('aria-pressed')) === 'true');
  const kimPoll = (await message(kim, 'Which planet is the largest?')).locator('.poll');
  await kimPoll.getByRole('button', { name: 'Jupiter' }).click();
  assert.is(await samPoll.locator('progress').count(), 0, 'a student sees no counts while it is open');
  const teacherPoll = (await message(teacher, 'Which planet is the largest?')).locator('.poll');
  await until('the teacher sees 2 for Jupiter, and who', async () => {
    const row = teacherPoll.locator('.poll-option', { hasText: 'Jupiter' });
    return (await row.locator('.poll-count').textContent()) === '2' && (await row.locator('.poll-who').textContent()) === 'Sam, Kim';
  });
  await docsScreenshot(teacher, 'teacher-poll');
  await teacherPoll.getByRole('button', { name: 'Close the poll' }).click();
  await until('Sam sees the results', async () => (await samPoll.locator('.poll-note').textContent()) === 'Poll closed: 2 votes');
  assert.is(await samPoll.locator('.poll-option', { hasText: 'Jupiter' }).locator('.poll-count').textContent(), '2');
  assert.is(await samPoll.locator('.poll-who').count(), 0, 'students never see who');
  assert.is(await samPoll.getByRole('button').count(), 0, 'no voting once closed');
  await docsScreenshot(sam, 'poll-phone');
}));

moderation('seen by: the teacher sees how many have seen a message and the pin, and who has not; a student reading elsewhere does not count', () => withChat({}, async (c) => {
  const teacher = await teacherJoins(c, ['Test on Friday']);
  const sam = await c.join('Sam', { ...PHONE });
  const kim = await c.join('Kim', { avatar: 'fox' });
  await kim.locator('[data-list="people"] [data-person]', { hasText: 'Sam' }).click(); // Kim is in a private conversation
  await say(teacher, 'Open your book at page 12');
  const task = await message(teacher, 'Open your book at page 12');
  await until('Sam has seen it, Kim has not', async () => (await textOf(task, '[data-seen]')) === 'Seen by 1 of 2');
  assert.ok(!(await sam.locator('[data-seen]').count()), 'students see no counts');
  await task.locator('[data-seen]').click();
  const dialog = teacher.locator('dialog.seen-dialog');
  assert.is(await textOf(dialog, 'h2'), 'Not seen yet (1)');
  assert.equal(await dialog.locator('li').allTextContents(), ['Kim']);
  await docsScreenshot(teacher, 'teacher-seen');
  await dialog.getByRole('button', { name: 'Close' }).click();
  await kim.locator('[data-action="group"]').click();
  await until('Kim is back in the group: seen by all', async () => (await textOf(task, '[data-seen]')) === 'Seen by all 2');
  await teacher.locator('[data-teacher="pin"]').waitFor();
  await teacher.locator('[data-teacher="pin"]').click();
  await until('both see the pin', async () => (await textOf(teacher, '[data-pinned] [data-seen]')) === 'Seen by all 2');
  await teacher.locator('[data-list="people"] [data-person]', { hasText: 'Sam' }).click();
  await say(teacher, 'See me after class');
  const note = await message(teacher, 'See me after class');
  await until('a private message: not seen while Sam is in the group', async () => (await textOf(note, '[data-seen]')) === 'Not seen yet');
  await sam.locator('[data-action="people"]').tap();
  await sam.locator('[data-list="convs"] [data-conv]', { hasText: 'Ms Li' }).tap();
  await until('Sam opened it: seen', async () => (await textOf(note, '[data-seen]')) === 'Seen');
}));

moderation('on a phone the teacher\'s tools fold into one line; unfolded they fit the screen; what is on stays in view', () => withChat({}, async (c) => {
  const teacher = await teacherJoins(c, [], PHONE);
  const bar = teacher.locator('[data-teacher-bar]');
  const fold = bar.getByRole('button', { name: 'Teacher', exact: true });
  const button = (name: string) => bar.getByRole('button', { name, exact: true });
  const lineHeight = async () => (await bar.boundingBox())!.height;
  assert.ok(await lineHeight() <= 60, `folded: one line (${await lineHeight()} px)`);
  assert.ok(await button('Quiet mode').isHidden());
  await fold.tap();
  assert.is(await fold.getAttribute('aria-expanded'), 'true');
  assert.ok(await bar.evaluate((el) => el.scrollWidth <= el.clientWidth), 'no sideways scrolling');
  const box = await button('Download transcript').boundingBox();
  assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `the transcript button is on screen: ${JSON.stringify(box)}`);
  await docsScreenshot(teacher, 'teacher-phone');
  const sam = await c.join('Sam', { ...PHONE });
  await teacher.locator('[data-teacher-slow]').selectOption('30');
  await until('Sam sees slow mode', async () => (await textOf(sam, '[data-room-note]')) === 'Slow mode: one message every 30 seconds.');
  await button('Quiet mode').tap();
  await until('quiet', async () => (await button('Quiet mode').getAttribute('aria-pressed')) === 'true');
  await fold.tap();
  assert.ok(await button('Quiet mode').isVisible(), 'folded, quiet mode still shows (and turns off in one tap)');
  assert.ok(await teacher.locator('[data-teacher-slow]').isVisible(), 'and slow mode');
  assert.ok(await button('Lock the room').isHidden(), 'what is off is folded away');
  await say(teacher, 'Hand in your worksheet');
  const task = await message(teacher, 'Hand in your worksheet');
  await until('the count fits under the message on a phone', async () => (await textOf(task, '[data-seen]')) === 'Seen by all 1');
  const seen = await task.locator('[data-seen]').boundingBox();
  assert.ok(seen && seen.x >= 0 && seen.x + seen.width <= 390 && seen.height >= 44, `a tap target on screen: ${JSON.stringify(seen)}`);
  await docsScreenshot(teacher, 'teacher-seen-phone');
}));

moderation.run();
