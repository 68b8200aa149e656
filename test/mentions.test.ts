// @mentions: checked against the text and the room, kept by session (a newcomer under the name is not the
// person mentioned), @all for the teacher only. Real server, real socket.io-client.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Ack } from '../chat/contract.ts';
import { api, collect, sleep, waitFor, welcomed, withServer, type Client } from './helpers.ts';

const send = (c: Client, payload: unknown): Promise<Ack> =>
  new Promise((resolve) => (c.emit as Function).call(c, 'textmsg', payload, resolve));
const idOf = (ack: Ack) => (ack.ok ? ack.id : '');

const Mentions = suite('mentions');

Mentions('a mention names its people on the wire; in history only the person mentioned is told so, by session', () => withServer(async (s) => {
  const ann = s.client({ name: 'Ann' });
  const bob = s.client({ name: 'Bob' });
  const cy = s.client({ name: 'Cy' });
  const [, { session: bobSession }] = await Promise.all([welcomed(ann), welcomed(bob), welcomed(cy)]);
  const live = waitFor(bob, 'textmsg');
  const ack = await send(ann, { content: '@bob and @Ann, look', mentions: ['bob', 'Ann'] });
  assert.ok(ack.ok);
  const m = await live;
  assert.equal(m.mentions, ['Bob'], 'as Bob spells it; mentioning oneself is dropped');
  assert.is(m.mentioned, undefined, 'the live message is the same for everyone');
  const tabs: Client[] = [];
  const historyOf = async (auth: Record<string, unknown>) =>
    (await welcomed(tabs[tabs.push(s.client(auth)) - 1])).history.find((x) => x.id === idOf(ack));
  assert.is((await historyOf({ name: 'Bob', session: bobSession }))?.mentioned, true, 'Bob, in another tab');
  assert.is((await historyOf({ name: 'Dee' }))?.mentioned, undefined);
  bob.close();
  tabs[0].close();
  await sleep(100);
  const newcomer = await historyOf({ name: 'Bob' }); // a fresh browser takes the free nickname
  assert.ok(newcomer, 'the newcomer sees the group message');
  assert.is(newcomer.mentioned, undefined, 'but is not the Bob it mentioned');
}));

Mentions('@all is the teacher\'s: a student\'s is refused and reaches no one; the teacher\'s mentions everyone', () => withServer(async (s) => {
  const teacher = s.client({ name: 'Ms Li', teacherKey: s.chat.teacherKey });
  const ann = s.client({ name: 'Ann' });
  await Promise.all([welcomed(teacher), welcomed(ann)]);
  const heard = collect(teacher, 'textmsg');
  assert.equal(await send(ann, { content: '@all party!', mentionsAll: true }), { ok: false, error: 'not_allowed' });
  await sleep(100);
  assert.equal(heard, []);
  const ack = await send(teacher, { content: '@all pens down', mentionsAll: true });
  assert.ok(ack.ok);
  const { history } = await welcomed(s.client({ name: 'Bea' }));
  const m = history.find((x) => x.id === idOf(ack));
  assert.is(m?.mentionsAll, true);
  assert.is(m?.mentioned, true);
}));

Mentions('bad mentions are refused with a code and reach no one; a name not online here is dropped', () => withServer(async (s) => {
  const made = await api(s, '/api/rooms', { method: 'POST', body: JSON.stringify({ id: 'other', title: 'Other class' }) });
  assert.is(made.status, 201);
  const ann = s.client({ name: 'Ann' });
  const bob = s.client({ name: 'Bob' });
  const zed = s.client({ name: 'Zed', room: 'other' });
  await Promise.all([welcomed(ann), welcomed(bob), welcomed(zed)]);
  const zedHeard = collect(zed, 'textmsg');
  const bobHeard = collect(bob, 'textmsg');
  const refusals: [unknown, string][] = [
    [{ content: 'hi Bob', mentions: ['Bob'] }, 'invalid_message'], // not written as @Bob
    [{ content: '@Bob', mentions: 'Bob' }, 'invalid_message'],
    [{ content: '@Bob', mentions: [7] }, 'invalid_message'],
    [{ content: '@Bob', mentions: [''] }, 'invalid_message'],
    [{ content: '@Bob', mentions: Array(21).fill('Bob') }, 'invalid_message'],
    [{ content: '@Bob', mentionsAll: 'yes' }, 'invalid_message'],
    [{ content: '@Bob psst', to: 'Bob', mentions: ['Bob'] }, 'invalid_message'], // a private message mentions no one
  ];
  for (const [payload, error] of refusals) assert.equal(await send(ann, payload), { ok: false, error }, JSON.stringify(payload));
  const ack = await send(ann, { content: '@Zed are you there?', mentions: ['Zed'] });
  assert.ok(ack.ok, 'someone in another room: the message goes, without the mention');
  await sleep(100);
  assert.equal(bobHeard.map((m) => [m.content, m.mentions]), [['@Zed are you there?', undefined]]);
  assert.equal(zedHeard, [], 'nothing crosses into the other room');
}));

Mentions.run();
