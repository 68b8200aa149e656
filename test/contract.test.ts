// The wire contract of the README, line by line, against the real server and socket.io-client.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startServer, withServer, waitFor, welcomed, refused, collect, sleep, type Client, type TestServer } from './helpers.ts';
import type { Ack, TextMsg } from '../chat/contract.ts';

const send = (c: Client, payload: unknown, ...extra: unknown[]): Promise<Ack> =>
  new Promise((resolve) => (c.emit as Function).call(c, 'textmsg', payload, ...extra, resolve));


// ---

const Handshake = suite('handshake: name');

Handshake('accepts any script, trims and collapses whitespace', () => withServer(async (s) => {
  assert.is((await welcomed(s.client({ name: '  东东  ' }))).name, '东东');
  assert.is((await welcomed(s.client({ name: 'Ana   María' }))).name, 'Ana María');
  const emoji24 = '🙂'.repeat(24);
  assert.is((await welcomed(s.client({ name: emoji24 }))).name, emoji24, '24 code points fit');
}));

Handshake('refuses bad names with invalid_name and a sentence', () => withServer(async (s) => {
  const bad = [undefined, '', '   ', 42, { a: 1 }, ['x'], 'x'.repeat(25), '🙂'.repeat(25), 'a\u0000b', 'bell\u0007',
    'evil\u202Eoh', 'zero\u200Bwidth', '\u3164', 'rlm\u200Fmark', 'soft\u00ADhyphen'];
  for (const name of bad) {
    const err = await refused(s.client({ name }));
    assert.is(err.message, 'invalid_name', `name ${JSON.stringify(name)}`);
    assert.match(err.data?.message ?? '', /nickname/);
  }
}));

Handshake('refusal sentences come in Chinese when asked', () => withServer(async (s) => {
  const err = await refused(s.client({ name: '', lang: 'zh' }));
  assert.is(err.message, 'invalid_name');
  assert.match(err.data?.message ?? '', /昵称/);
}));

Handshake('a nickname is unique among people online, case-insensitively', () => withServer(async (s) => {
  await welcomed(s.client({ name: 'Alice' }));
  for (const name of ['alice', 'ALICE', ' aLiCe ', 'ＡＬＩＣＥ']) {
    const err = await refused(s.client({ name }));
    assert.is(err.message, 'name_taken', name);
    assert.match(err.data?.message ?? '', /already/);
  }
}));

Handshake('a nickname is free again once its holder has left', () => withServer(async (s) => {
  const first = s.client({ name: 'Bo' });
  const w1 = await welcomed(first);
  first.close();
  await sleep(50);
  const w2 = await welcomed(s.client({ name: 'bo' }));
  assert.is.not(w2.session, w1.session, 'someone else gets a session of their own');
}));

Handshake.run();

// ---

const Avatar = suite('handshake: avatar');

Avatar('a known avatar is kept; missing or unknown means the default, never echoed', () => withServer(async (s) => {
  assert.is((await welcomed(s.client({ name: 'A', avatar: 'fox' }))).avatar, 'fox');
  assert.is((await welcomed(s.client({ name: 'B' }))).avatar, 'cat');
  const watcher = s.client({ name: 'W' });
  await welcomed(watcher);
  const joins = collect(watcher, 'online');
  const evil = '<img src=x onerror=alert(1)>';
  const w = await welcomed(s.client({ name: 'C', avatar: evil }));
  assert.is(w.avatar, 'cat');
  await waitFor(watcher, 'online', (o) => o.count === 4);
  assert.ok(!JSON.stringify([w, joins]).includes('onerror'), 'the bad value appears nowhere');
  for (const avatar of [42, null, { x: 1 }, '../../etc/passwd']) {
    assert.is((await welcomed(s.client({ name: `D${String(avatar).length}`, avatar }))).avatar, 'cat');
  }
}));

Avatar.run();

// ---

const Sessions = suite('handshake: session');

Sessions('welcome carries a nanoid session, the people online and the history', () => withServer(async (s) => {
  await welcomed(s.client({ name: 'Ann', avatar: 'owl' }));
  const w = await welcomed(s.client({ name: 'Ben', avatar: 'dog' }));
  assert.match(w.session, /^[\w-]{21}$/);
  assert.equal(w.users.sort((a, b) => a.name.localeCompare(b.name)), [{ name: 'Ann', avatar: 'owl' }, { name: 'Ben', avatar: 'dog' }]);
  assert.equal(w.history, []);
}));

Sessions('a second tab with the session is the same person, never name_taken', () => withServer(async (s) => {
  const watcher = s.client({ name: 'Watcher' });
  await welcomed(watcher);
  await waitFor(watcher, 'online'); // its own arrival
  const frames = collect(watcher, 'online');
  const tab1 = s.client({ name: 'Cleo' });
  const { session } = await welcomed(tab1);
  await waitFor(watcher, 'online', (o) => o.count === 2);
  const tab2 = s.client({ name: 'cleo', session });
  const w2 = await welcomed(tab2);
  assert.is(w2.session, session);
  assert.is(w2.count, 2, 'tabs of one person count once');
  await sleep(250);
  assert.equal(frames, [{ count: 2, joined: [{ name: 'Cleo', avatar: 'cat' }] }], 'one frame, one join for two tabs');

  tab1.close();
  await sleep(250);
  assert.is(frames.length, 1, 'still online through the second tab: nothing to tell');
  tab2.close();
  assert.equal(await waitFor(watcher, 'online', (o) => o.count === 1), { count: 1, left: ['Cleo'] });
}));

Sessions('a reconnect while the old connection still lingers is not refused (no ghost nickname)', () => withServer(async (s) => {
  const old = s.client({ name: 'Dora' });
  const { session } = await welcomed(old);
  // The old socket is still connected, as after a network drop the server has not noticed yet.
  const again = await welcomed(s.client({ name: 'Dora', session }));
  assert.is(again.session, session);
}));

Sessions('a session asking for another nickname, or an unknown one, gets a new session', () => withServer(async (s) => {
  const { session } = await welcomed(s.client({ name: 'Eve' }));
  const other = await welcomed(s.client({ name: 'Eva', session }));
  assert.is.not(other.session, session);
  const forged = await welcomed(s.client({ name: 'Fay', session: 'x'.repeat(21) }));
  assert.is.not(forged.session, 'x'.repeat(21));
  const junk = await welcomed(s.client({ name: 'Gus', session: { $ne: 1 } }));
  assert.match(junk.session, /^[\w-]{21}$/);
}));

Sessions('the session of someone online cannot take another online person\'s nickname', () => withServer(async (s) => {
  await welcomed(s.client({ name: 'Hal' }));
  const { session } = await welcomed(s.client({ name: 'Ida' }));
  assert.is((await refused(s.client({ name: 'Hal', session }))).message, 'name_taken');
}));

Sessions.run();

// ---

const Presence = suite('presence: online, who came and went');

Presence('online count goes to everyone when the number of people changes', () => withServer(async (s) => {
  const a = s.client({ name: 'A' });
  await welcomed(a);
  assert.is((await waitFor(a, 'online')).count, 1);
  const b = s.client({ name: 'B' });
  const bCount = waitFor(b, 'online', (o) => o.count === 2);
  await welcomed(b);
  assert.is((await waitFor(a, 'online', (o) => o.count === 2)).count, 2);
  await bCount;
  b.close();
  assert.is((await waitFor(a, 'online', (o) => o.count === 1)).count, 1);
}));

Presence('who came and who went, with name and avatar, in one frame per window', () => withServer(async (s) => {
  const a = s.client({ name: 'A' });
  await welcomed(a);
  await waitFor(a, 'online');
  const frames = collect(a, 'online');
  const [b, c] = [s.client({ name: 'B', avatar: 'panda' }), s.client({ name: 'C', avatar: 'owl', teacherKey: s.chat.teacherKey })];
  await Promise.all([welcomed(b), welcomed(c)]);
  await waitFor(a, 'online', (o) => o.count === 3);
  assert.equal(frames, [{ count: 3, joined: [{ name: 'B', avatar: 'panda' }, { name: 'C', avatar: 'owl', teacher: true }] }]);
  b.close();
  assert.equal(await waitFor(a, 'online', (o) => o.count === 2), { count: 2, left: ['B'] });
}));

/** A watches, D is online: D's tab, D's session, and every online frame A gets from now on. */
async function watchD(s: TestServer) {
  const a = s.client({ name: 'A' });
  await welcomed(a);
  const d = s.client({ name: 'D' });
  const { session } = await welcomed(d);
  await waitFor(a, 'online', (o) => o.count === 2);
  return { a, d, session, frames: collect(a, 'online') };
}

Presence('someone who drops and comes back within the window is not told at all', () => withServer(async (s) => {
  const { d, session, frames } = await watchD(s);
  d.close();
  await welcomed(s.client({ name: 'D', session })); // a phone locking its screen, reconnecting at once
  await sleep(300);
  assert.equal(frames, []);
}));

Presence('a short drop (a phone locking its screen) shows nothing; a real leave is told after the grace', () => withServer(async (s) => {
  const { a, d, session, frames } = await watchD(s);
  d.close();
  await sleep(600); // several windows away, within the grace
  const back = s.client({ name: 'D', session });
  await welcomed(back);
  await sleep(300);
  assert.equal(frames.flatMap((f) => [...(f.joined ?? []).map((u) => u.name), ...(f.left ?? [])]), [], 'no line for D');
  const gone = Date.now();
  back.close();
  const told = await waitFor(a, 'online', (o) => !!o.left, 4000);
  assert.equal(told.left, ['D']);
  assert.ok(Date.now() - gone >= 1400, 'told after the grace');
}, { limits: { leaveGraceMs: 1500 } }));

Presence('above the list limit only the count is told', () => withServer(async (s) => {
  const a = s.client({ name: 'A' });
  await welcomed(a);
  const frames = collect(a, 'online');
  await Promise.all(['B', 'C', 'D'].map((name) => welcomed(s.client({ name }))));
  await waitFor(a, 'online', (o) => o.count === 4);
  assert.equal(frames.at(-1), { count: 4 });
}, { presenceLimit: 2 }));

Presence.run();

// ---

const Group = suite('textmsg: group');

Group('delivered to everyone, sender included, verbatim, with server id and time', () => withServer(async (s) => {
  const a = s.client({ name: 'Ann', avatar: 'fox' });
  const b = s.client({ name: 'Ben' });
  await Promise.all([welcomed(a), welcomed(b)]);
  const got = [waitFor(a, 'textmsg'), waitFor(b, 'textmsg')];
  const content = '  <b>bold?</b> &amp; "quotes" \n second line 东东  ';
  const ack = await send(a, { content, name: 'Mallory', avatar: 'tiger', id: 'fake', ts: 1, extra: true });
  const [ma, mb] = await Promise.all(got);
  assert.equal(ma, mb);
  assert.equal(Object.keys(ma).sort(), ['avatar', 'content', 'id', 'name', 'ts']);
  assert.is(ma.content, content.trim(), 'trimmed, otherwise verbatim: no escaping');
  assert.is(ma.name, 'Ann', 'name comes from the session');
  assert.is(ma.avatar, 'fox');
  assert.match(ma.id, /^[\w-]{21}$/);
  assert.ok(ack.ok && ack.id === ma.id && ack.ts === ma.ts);
}));

Group('2000 characters (code points) fit, 2001 are too_long, blank is empty', () => withServer(async (s) => {
  const a = s.client({ name: 'A' });
  await welcomed(a);
  assert.ok((await send(a, { content: '字'.repeat(2000) })).ok);
  assert.ok((await send(a, { content: '🙂'.repeat(2000) })).ok, 'emoji count as one each');
  assert.equal(await send(a, { content: 'x'.repeat(2001) }), { ok: false, error: 'too_long' });
  assert.equal(await send(a, { content: ' \n\t ' }), { ok: false, error: 'empty' });
  assert.equal(await send(a, { content: '' }), { ok: false, error: 'empty' });
}));

Group('the ack is optional', () => withServer(async (s) => {
  const a = s.client({ name: 'A' });
  await welcomed(a);
  a.emit('textmsg', { content: 'no ack' });
  assert.is((await waitFor(a, 'textmsg')).content, 'no ack');
}));

Group.run();

// ---

const Refusals = suite('textmsg: malformed input reaches no one');

Refusals('every malformed payload is refused with invalid_message and delivered to nobody', () => withServer(async (s) => {
  const a = s.client({ name: 'A' });
  const watcher = s.client({ name: 'W' });
  await Promise.all([welcomed(a), welcomed(watcher)]);
  const seenByA = collect(a, 'textmsg');
  const seenByWatcher = collect(watcher, 'textmsg');
  const cases: unknown[][] = [
    [null], [42], ['hello'], [['hello']], [{}], [{ content: 42 }], [{ content: ['x'] }], [{ content: { toString: 'x' } }],
    [{ content: null }], [{ content: 'x', to: 42 }], [{ content: 'x', to: ['B'] }], [{ content: 'x', cid: 'bad cid!' }],
    [{ content: 'x', cid: 7 }], [{ content: 'x' }, 'extra'], [{ content: 'x' }, { content: 'y' }], [],
    [{ content: Buffer.from('binary') }], [Buffer.from('x')],
  ];
  for (const args of cases) {
    const ack = await send(a, ...(args as [unknown]));
    assert.equal(ack, { ok: false, error: 'invalid_message' }, JSON.stringify(args));
  }
  const unknown = await new Promise((resolve) => (a.emit as Function).call(a, 'deleteEverything', { all: true }, resolve));
  assert.equal(unknown, { ok: false, error: 'invalid_message' }, 'unknown events are refused too');
  (a.emit as Function).call(a, 'textmsg', null);
  (a.emit as Function).call(a, 'whatever');
  await sleep(100);
  assert.equal([...seenByA, ...seenByWatcher], [], 'nothing reached anyone');
  assert.ok(a.connected && watcher.connected, 'nobody was disconnected');
  assert.ok((await send(a, { content: 'still fine' })).ok);
}));

Refusals('an oversized frame drops only that connection', () => withServer(async (s) => {
  const big = s.client({ name: 'Big' });
  const other = s.client({ name: 'Other' });
  await Promise.all([welcomed(big), welcomed(other)]);
  const gone = new Promise((resolve, reject) => {
    big.once('disconnect', resolve);
    setTimeout(() => reject(new Error('the oversized frame did not drop its sender')), 3000);
  });
  const received = collect(other, 'textmsg');
  big.emit('textmsg', { content: 'x'.repeat(100_000) });
  await gone;
  assert.is(received.length, 0);
  assert.ok(other.connected);
  assert.ok((await send(other, { content: 'after' })).ok);
}));

Refusals.run();

// ---

const Private = suite('textmsg: private');

Private('goes to every tab of both people and to nobody else', () => withServer(async (s) => {
  const ann1 = s.client({ name: 'Ann' });
  const { session } = await welcomed(ann1);
  const ann2 = s.client({ name: 'Ann', session });
  await welcomed(ann2);
  const bob1 = s.client({ name: 'Bob' });
  const { session: bobSession } = await welcomed(bob1);
  const bob2 = s.client({ name: 'Bob', session: bobSession });
  const eve = s.client({ name: 'Eve' });
  await Promise.all([welcomed(bob2), welcomed(eve)]);
  const eveSaw = collect(eve, 'textmsg');
  const eveTyping = collect(eve, 'typing');
  const everyone = [ann1, ann2, bob1, bob2].map((c) => waitFor(c, 'textmsg'));
  const ack = await send(ann1, { content: 'secret for bob', to: 'BOB' });
  const got = await Promise.all(everyone);
  assert.ok(ack.ok);
  for (const m of got) assert.equal(m, { id: ack.ok ? ack.id : '', name: 'Ann', avatar: 'cat', content: 'secret for bob', ts: ack.ok ? ack.ts : 0, to: 'Bob' });
  bob1.emit('typing', { to: 'Ann' });
  assert.equal(await waitFor(ann2, 'typing'), { name: 'Bob', to: 'Ann' });
  await sleep(150);
  assert.equal(eveSaw, [], 'the third person received nothing');
  assert.equal(eveTyping, []);
}));

Private('to a nickname nobody here ever had is refused with not_online', () => withServer(async (s) => {
  const a = s.client({ name: 'A' });
  await welcomed(a);
  assert.equal(await send(a, { content: 'hi', to: 'Nobody' }), { ok: false, error: 'not_online' });
}));

Private('to someone offline: acked as stored, delivered once at their return to their session, never to a newcomer under the name', () => withServer(async (s) => {
  const ann = s.client({ name: 'Ann' });
  await welcomed(ann);
  const bob = s.client({ name: 'Bob' });
  const { session: bobSession, history } = await welcomed(bob);
  await waitFor(ann, 'online', (o) => o.count === 2);
  const lastId = history.at(-1)?.id;
  const before = await send(bob, { content: 'before leaving' });
  bob.close();
  await waitFor(ann, 'online', (o) => o.count === 1);
  const annSaw = collect(ann, 'textmsg');
  const ack = await send(ann, { content: 'for Bob while he is away', to: 'bob' });
  assert.ok(ack.ok, JSON.stringify(ack));
  await sleep(100);
  assert.equal(annSaw.map((m) => [m.content, m.to]), [['for Bob while he is away', 'Bob']], 'the sender\'s tabs see it, under his spelling');
  const newcomer = s.client({ name: 'BOB' }); // a new browser, a new session: the name is free now
  const stranger = await welcomed(newcomer);
  await waitFor(ann, 'online', (o) => o.count === 2);
  assert.not.ok(stranger.history.some((m) => m.content === 'for Bob while he is away'), 'not shown to whoever takes the name');
  newcomer.close();
  await waitFor(ann, 'online', (o) => o.count === 1);
  const back = s.client({ name: 'Bob', session: bobSession, lastId: before.ok ? before.id : lastId });
  const again = await welcomed(back);
  assert.is(again.session, bobSession);
  assert.equal(again.history.filter((m) => m.content === 'for Bob while he is away').length, 1, 'delivered once, at his return');
}));

Private.run();

// ---

const Typing = suite('typing');

Typing('group typing reaches the others, not the typist\'s own tabs', () => withServer(async (s) => {
  const a = s.client({ name: 'A' });
  const { session } = await welcomed(a);
  const a2 = s.client({ name: 'A', session });
  const b = s.client({ name: 'B' });
  await Promise.all([welcomed(a2), welcomed(b)]);
  const own = collect(a2, 'typing');
  a.emit('typing', {});
  assert.equal(await waitFor(b, 'typing'), { name: 'A' });
  a.emit('typing', {}); // within a second: not relayed again
  (a.emit as Function).call(a, 'typing', null);
  await sleep(150);
  assert.equal(own, []);
}));

Typing.run();

// ---

const Flood = suite('flood control');

Flood('per person, keyed by session: one flooder does not silence the class on the same IP', () => withServer(async (s) => {
  const flooder = s.client({ name: 'Flood' });
  const { session } = await welcomed(flooder);
  const calm = s.client({ name: 'Calm' });
  await welcomed(calm);
  const acks = await Promise.all(Array.from({ length: 5 }, (_, i) => send(flooder, { content: `m${i}` })));
  assert.equal(acks.map((a) => a.ok), [true, true, true, false, false]);
  assert.equal(acks[4], { ok: false, error: 'rate_limited' });
  assert.ok((await send(calm, { content: 'hello' })).ok, 'another person on the same IP is unaffected');
  flooder.close();
  const back = s.client({ name: 'Flood', session });
  await welcomed(back);
  assert.equal(await send(back, { content: 'again' }), { ok: false, error: 'rate_limited' }, 'reconnecting does not reset it');
}, { rateLimit: { burst: 3, perSecond: 0.01 } }));

Flood.run();

// ---

const History = suite('history');

History('the last 200 group messages are replayed in order', () => withServer(async (s) => {
  const a = s.client({ name: 'A' });
  await welcomed(a);
  for (let i = 0; i < 205; i++) a.emit('textmsg', { content: `n${i}` });
  await send(a, { content: 'last' });
  const w = await welcomed(s.client({ name: 'Late' }));
  assert.is(w.history.length, 200);
  assert.is(w.history[0].content, 'n6');
  assert.is(w.history[199].content, 'last');
}));

History('private messages are replayed only to the sessions of the two people', () => withServer(async (s) => {
  const ann = s.client({ name: 'Ann' });
  const { session: annS } = await welcomed(ann);
  const bob = s.client({ name: 'Bob' });
  const { session: bobS } = await welcomed(bob);
  await send(ann, { content: 'group hello' });
  await send(ann, { content: 'private hi', to: 'Bob' });
  ann.close();
  bob.close();
  await sleep(50);
  const contents = (h: TextMsg[]) => h.map((m) => m.content);
  assert.equal(contents((await welcomed(s.client({ name: 'Ann', session: annS }))).history), ['group hello', 'private hi']);
  assert.equal(contents((await welcomed(s.client({ name: 'Bob', session: bobS }))).history), ['group hello', 'private hi']);
  assert.equal(contents((await welcomed(s.client({ name: 'Eve' }))).history), ['group hello']);
}));

History('a newcomer taking a departed person\'s nickname does not get their private chats', () => withServer(async (s) => {
  const ann = s.client({ name: 'Ann' });
  await welcomed(ann);
  const bob = s.client({ name: 'Bob' });
  await welcomed(bob);
  await send(ann, { content: 'for bob only', to: 'Bob' });
  bob.close();
  await sleep(50);
  const impostor = await welcomed(s.client({ name: 'Bob' }));
  assert.equal(impostor.history, []);
}));

History('a restart with the same DATA_DIR keeps the group and private conversations', async () => {
  const first = await startServer({ rateLimit: false });
  let annS = '';
  try {
    const ann = first.client({ name: 'Ann' });
    annS = (await welcomed(ann)).session;
    await welcomed(first.client({ name: 'Bob' }));
    await send(ann, { content: 'before restart' });
    await send(ann, { content: 'private before restart', to: 'Bob' });
  } finally {
    await first.close({ keepData: true });
  }
  const second = await startServer({ rateLimit: false, dataDir: first.dataDir });
  try {
    const w = await welcomed(second.client({ name: 'Ann', session: annS }));
    assert.is(w.session, annS, 'the session survives the restart');
    assert.equal(w.history.map((m) => m.content), ['before restart', 'private before restart']);
    assert.is(w.history[1].to, 'Bob');
    const eve = await welcomed(second.client({ name: 'Eve' }));
    assert.equal(eve.history.map((m) => m.content), ['before restart']);
  } finally {
    await second.close();
  }
});

History('history says which messages are the reader\'s own, by session, not by nickname', () => withServer(async (s) => {
  const kim = s.client({ name: 'Kim' });
  const { session } = await welcomed(kim);
  assert.ok((await send(kim, { content: 'mine' })).ok);
  kim.close();
  await sleep(50);
  const newKim = s.client({ name: 'Kim' }); // someone else takes the nickname
  const fresh = await welcomed(newKim);
  assert.equal(fresh.history.map((m) => [m.content, m.own]), [['mine', undefined]]);
  newKim.close();
  await sleep(50);
  const back = await welcomed(s.client({ name: 'Kim', session }));
  assert.equal(back.history.map((m) => [m.content, m.own]), [['mine', true]]);
}));

History.run();
