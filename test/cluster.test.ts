// The cluster: a real redis-server and three nodes (separate processes of the CLI with REDIS_URL), every
// guarantee of the product across nodes. Without redis-server the suite is skipped with a loud line (not under CI).
import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import type { TextMsg } from '../chat/contract.ts';
import { CLUSTER_KEY, withCluster, type TestCluster } from './cluster-helpers.ts';
import { collect, fixture, refused, say, sendImage, sleep, waitFor, welcomed, type Client } from './helpers.ts';
import { hasRedisServer } from './redis-helpers.ts';
import { randomBytes } from 'node:crypto';
import { pdf } from './file-samples.ts';
import { disconnected, sendText, waitUntil } from './stress-helpers.ts';

const isRedis = hasRedisServer();
const onRedis = (test: Test) => (isRedis ? test : test.skip);
const contents = (list: TextMsg[]) => list.map((m) => m.content);

/** A welcomed client of node `i`. */
async function join(c: TestCluster, i: number, auth: Record<string, unknown>): Promise<Client> {
  const client = c.client(i, auth);
  sessions.set(client, (await welcomed(client, 8000)).session);
  return client;
}

const sessions = new WeakMap<Client, string>();
/** The session a client made by join() was given. */
const sessionOf = (client: Client) => sessions.get(client)!;

/** Waits until `client` has been told that the room holds `count` people. */
const counted = (client: Client, count: number, ms = 5000) => waitFor(client, 'online', (o) => o.count === count, ms);

async function api(c: TestCluster, i: number, path: string, init: RequestInit = {}) {
  const res = await fetch(c.nodes[i].url + path, {
    ...init, headers: { 'content-type': 'application/json', authorization: `Bearer ${CLUSTER_KEY}`, ...(init.headers as Record<string, string>) },
  });
  return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text() };
}

/** A room made on node 0 over the admin API: its teacher key. */
async function makeRoom(room: string, title: string): Promise<string> {
  const made = await api(cluster, 0, '/api/rooms', { method: 'POST', body: JSON.stringify({ id: room, title }) });
  assert.is(made.status, 201);
  return (made.body as { teacherKey: string }).teacherKey;
}

// --- one cluster for the tests that leave it as they found it

const Shared = suite('cluster: three nodes on one Redis');
let cluster: TestCluster;
let stopCluster: () => void;
let clusterDone: Promise<void>;

Shared.before(async () => {
  if (!isRedis) return;
  await new Promise<void>((started, failed) => {
    clusterDone = withCluster(3, (c) => {
      cluster = c;
      started();
      return new Promise<void>((resolve) => { stopCluster = resolve; });
    }).catch(failed);
  });
});
Shared.after(async () => {
  if (!isRedis) return;
  stopCluster();
  await clusterDone;
});

let n = 0;
const fresh = (name: string) => `${name}${++n}`; // a nickname no other test of the shared cluster used

onRedis(Shared)('a group message reaches every tab on every node once; a private one both people\'s tabs, wherever, and nobody else', async () => {
  const room = fresh('group-');
  await api(cluster, 0, '/api/rooms', { method: 'POST', body: JSON.stringify({ id: room, title: 'Group test' }) });
  const [ann, bob, cy] = [fresh('Ann'), fresh('Bob'), fresh('Cy')];
  const a1 = await join(cluster, 0, { name: ann, room });
  const a2 = await join(cluster, 2, { name: ann, room, session: sessionOf(a1) });
  const b1 = await join(cluster, 1, { name: bob, room });
  const b2 = await join(cluster, 2, { name: bob, room, session: sessionOf(b1) });
  const c1 = await join(cluster, 1, { name: cy, room });
  await counted(c1, 3).catch(() => {}); // everyone is known everywhere before private messages are addressed
  const tabs = [a1, a2, b1, b2, c1];
  const got = tabs.map((t) => collect(t, 'textmsg'));
  assert.ok((await say(c1, 'to everyone')).ok);
  const ack = await say(a2, 'just for Bob', bob);
  assert.ok(ack.ok, JSON.stringify(ack));
  await sleep(500);
  for (const [i, list] of got.entries()) {
    const expected = i === 4 ? ['to everyone'] : ['to everyone', 'just for Bob'];
    assert.equal(contents(list).sort(), expected.sort(), `tab ${i}`);
  }
});

onRedis(Shared)('the online count and list count people, not tabs, across nodes; a nickname held on one node is taken on all', async () => {
  const room = fresh('count-');
  await api(cluster, 1, '/api/rooms', { method: 'POST', body: JSON.stringify({ id: room, title: 'Count test' }) });
  const [ann, bob] = [fresh('Ann'), fresh('Bob')];
  const a1 = await join(cluster, 0, { name: ann, room });
  const session = sessionOf(a1);
  await join(cluster, 1, { name: ann, room, session });
  await join(cluster, 2, { name: ann, room, session });
  const b = cluster.client(2, { name: bob, room });
  const welcome = await welcomed(b, 8000);
  assert.is(welcome.count, 2);
  assert.equal(welcome.users.map((u) => u.name).sort(), [ann, bob].sort());
  for (const i of [0, 1, 2]) {
    const copycat = cluster.client(i, { name: ann.toUpperCase(), room });
    assert.is((await refused(copycat, 8000)).message, 'name_taken', `node ${i}`);
  }
});

onRedis(Shared)('two people claiming the same free nickname on two nodes at the same instant: exactly one gets it (many times)', async () => {
  for (let round = 0; round < 25; round++) {
    const name = fresh('Twin');
    const [x, y] = [cluster.client(round % 3, { name }), cluster.client((round + 1) % 3, { name })];
    const outcomes = await Promise.all([x, y].map((s) => welcomed(s, 8000).then(() => 'welcome', (e: Error) => e.message)));
    assert.equal(outcomes.sort(), ['name_taken', 'welcome'], `round ${round}: ${outcomes}`);
    x.close();
    y.close();
  }
});

onRedis(Shared)('a session is valid on every node: a reconnect elsewhere is the same person, and catches up from there', async () => {
  const [ann, bob] = [fresh('Ann'), fresh('Bob')];
  const a = await join(cluster, 0, { name: ann });
  const w = { session: sessionOf(a) };
  const b = await join(cluster, 1, { name: bob });
  const first = await say(b, 'before the drop');
  const privately = await say(b, 'a private one, not yet seen', ann);
  a.close();
  const missed = await say(b, 'while Ann was away');
  await sleep(5500); // past the leave grace: Ann is offline on every node
  const offline = await say(b, 'a private one while she was offline', ann);
  assert.ok(offline.ok, `a private message to someone offline is stored: ${JSON.stringify(offline)}`);
  assert.ok(first.ok && missed.ok && privately.ok, JSON.stringify([first, missed, privately]));
  const lastId = first.ok ? first.id : '';
  const back = cluster.client(2, { name: ann, session: w.session, lastId });
  const again = await welcomed(back, 8000);
  assert.is(again.session, w.session);
  assert.ok(contents(again.history).includes('while Ann was away'), contents(again.history).join(' | '));
  assert.ok(contents(again.history).includes('a private one, not yet seen'));
  assert.equal(again.history.filter((m) => m.content === 'a private one while she was offline').length, 1);
  assert.ok(again.history.filter((m) => m.content === 'while Ann was away').length === 1);
});

onRedis(Shared)('a cid retried on another node gets the original ack and is stored once', async () => {
  const ann = fresh('Ann');
  const a = await join(cluster, 0, { name: ann });
  const w = { session: sessionOf(a) };
  const first = await sendText(a, { content: 'once only', cid: `cid-${ann}` });
  a.close();
  const again = await join(cluster, 1, { name: ann, session: w.session });
  const retried = await sendText(again, { content: 'once only', cid: `cid-${ann}` });
  assert.equal(retried, first);
  const reader = cluster.client(2, { name: fresh('Reader') });
  const history = (await welcomed(reader, 8000)).history;
  assert.is(history.filter((m) => m.content === 'once only').length, 1);
});

onRedis(Shared)('a message recalled on one node is gone on every node: told to all, out of history and the log', async () => {
  const room = fresh('recall-');
  await api(cluster, 0, '/api/rooms', { method: 'POST', body: JSON.stringify({ id: room, title: 'Recall test' }) });
  const ann = await join(cluster, 0, { name: fresh('Ann'), room });
  const bob = await join(cluster, 1, { name: fresh('Bob'), room });
  const kept = await say(ann, 'this one stays');
  const oops = await say(ann, 'oops');
  const told = waitFor(bob, 'recalled', () => true, 5000);
  const answer = await new Promise((resolve) => (ann.emit as Function).call(ann, 'recall', { id: oops.ok ? oops.id : '' }, resolve));
  assert.equal(answer, { ok: true });
  assert.equal(await told, { id: oops.ok ? oops.id : '', name: (await told).name });
  await sleep(300);
  const reader = cluster.client(2, { name: fresh('Reader'), room });
  assert.equal(contents((await welcomed(reader, 8000)).history), ['this one stays']);
  const lines = await cluster.redis.client().lrange(`chat:room:${room}:log`, 0, -1);
  assert.is(lines.length, 1, 'one line left in Redis');
  void kept;
});

onRedis(Shared)('a hand raised on one node is in the teacher\'s queue on another; lowered there, the student is told', async () => {
  const room = fresh('hands-');
  const teacherKey = await makeRoom(room, 'Hands test');
  const teacher = await join(cluster, 0, { name: fresh('Teacher'), room, teacherKey });
  const sam = fresh('Sam');
  const student = await join(cluster, 1, { name: sam, room });
  const queued = waitFor(teacher, 'hands', (h) => h.queue.some((x) => x.name === sam), 5000);
  const answer = await new Promise((resolve) => (student.emit as Function).call(student, 'hand', { up: true }, resolve));
  assert.equal(answer, { ok: true });
  await queued;
  await sleep(300); // node 0 has read the raise from the stream
  const lowered = waitFor(student, 'hand', (h) => !h.up, 5000);
  assert.equal(await actAs(teacher, 'lower', { name: sam }), { ok: true });
  await lowered;
});

onRedis(Shared)('"seen by" across nodes: students read on two nodes, the teacher on a third sees the counts; an announcement made on any node counts', async () => {
  const room = fresh('seen-');
  const teacherKey = await makeRoom(room, 'Seen test');
  const teacher = await join(cluster, 2, { name: fresh('Teacher'), room, teacherKey });
  const [sam, kim] = await Promise.all([join(cluster, 0, { name: fresh('Sam'), room }), join(cluster, 1, { name: fresh('Kim'), room })]);
  const read = (c: Client, payload: unknown) => new Promise((resolve) => (c.emit as Function).call(c, 'read', payload, resolve));
  const task = await sendText(teacher, { content: 'Open page 12' }, 5000);
  assert.ok(task !== 'timeout' && task.ok);
  const id = (task as { id: string }).id;
  await sleep(300); // every node has the message from the stream
  const both = waitFor(teacher, 'seen', (f) => f.items.some((i) => i.id === id && i.n === 2 && i.of === 2), 8000);
  assert.equal(await read(sam, { id }), { ok: true });
  assert.equal(await read(kim, { id }), { ok: true });
  await both;
  const heard = waitFor(kim, 'announce', () => true, 5000);
  assert.is((await api(cluster, 0, '/api/push', { method: 'POST', body: JSON.stringify({ room, content: 'Pens down' }) })).status, 200);
  const announcement = await heard;
  await sleep(300); // node 1 has read the announcement from the stream
  const counted = waitFor(teacher, 'seen', (f) => f.items.some((i) => i.id === announcement.id && i.n === 1 && i.of === 2), 8000);
  assert.equal(await read(kim, { id: announcement.id }), { ok: true });
  await counted;
});

onRedis(Shared)('a file uploaded to one node (its chunks there) is sent there and downloaded from every node; a voice message too', async () => {
  const room = fresh('files-');
  const teacherKey = await makeRoom(room, 'Files test');
  const teacher = await join(cluster, 0, { name: fresh('Teacher'), room, teacherKey });
  const sam = await join(cluster, 1, { name: fresh('Sam'), room });
  const put = async (bytes: Buffer, kind: string) => {
    const id = randomBytes(16).toString('base64url').slice(0, 21);
    const res = await fetch(`${cluster.nodes[0].url}/api/uploads/${room}/${id}?kind=${kind}`, {
      method: 'PUT', body: new Uint8Array(bytes), headers: { 'x-chat-session': sessionOf(teacher), 'content-range': `bytes 0-${bytes.length - 1}/${bytes.length}` },
    });
    assert.is(res.status, 201, await res.text());
    return id;
  };
  const worksheet = pdf();
  const heard = waitFor(sam, 'textmsg', (m) => !!m.file, 5000);
  assert.ok((await sendText(teacher, { content: '', upload: await put(worksheet, 'file'), name: 'sheet.pdf' } as never, 5000) as { ok: boolean }).ok);
  const { file } = await heard;
  for (const node of cluster.nodes) {
    const res = await fetch(node.url + file!.url);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(worksheet), `${node.url}: the same bytes`);
  }
  const ogg = Buffer.concat([Buffer.from('OggS'), randomBytes(300)]);
  const voiced = waitFor(sam, 'textmsg', (m) => !!m.voice, 5000);
  assert.ok((await sendText(teacher, { content: '', upload: await put(ogg, 'voice'), duration: 2000 } as never, 5000) as { ok: boolean }).ok);
  const { voice } = await voiced;
  assert.ok(Buffer.from(await (await fetch(cluster.nodes[2].url + voice!.url)).arrayBuffer()).equals(ogg));
});

onRedis(Shared)('the waiting room across nodes: a page waiting on one node is let in by the teacher on another; one moves node and is refused', async () => {
  const room = fresh('wait-');
  const teacherKey = await makeRoom(room, 'Waiting test');
  const teacher = await join(cluster, 0, { name: fresh('Teacher'), room, teacherKey });
  assert.equal(await actAs(teacher, 'lock'), { ok: true });
  await sleep(300); // every node has the rule
  const [bob, cy] = [fresh('Bob'), fresh('Cy')];
  const listed = waitFor(teacher, 'waitlist', (w) => w.queue.some((x) => x.name === bob), 5000);
  const waiting = cluster.client(1, { name: bob, room });
  const { token } = await waitFor(waiting, 'waiting', () => true, 8000);
  assert.ok(token);
  await listed;
  const welcome = waitFor(waiting, 'welcome', () => true, 5000);
  assert.equal(await actAs(teacher, 'admit', { name: bob }), { ok: true });
  assert.is((await welcome).name, bob, 'let in on its own node');
  const cyListed = waitFor(teacher, 'waitlist', (w) => w.queue.some((x) => x.name === cy), 5000); // before: the list may come first
  const cyOn2 = cluster.client(2, { name: cy, room });
  const cyToken = (await waitFor(cyOn2, 'waiting', () => true, 8000)).token;
  await cyListed;
  cyOn2.close();
  await sleep(300);
  const cyOn1 = cluster.client(1, { name: cy, room, waitToken: cyToken });
  assert.is((await waitFor(cyOn1, 'waiting', () => true, 8000)).token, cyToken, 'the same place on another node');
  await sleep(300);
  const turned = waitFor(cyOn1, 'turnedAway', () => true, 5000);
  const emptied = waitFor(teacher, 'waitlist', (w) => !w.queue.some((x) => x.name === cy), 5000);
  assert.equal(await actAs(teacher, 'refuse', { name: cy }), { ok: true });
  assert.equal(await turned, { why: 'refused' });
  await emptied;
  assert.equal(await actAs(teacher, 'unlock'), { ok: true });
});

onRedis(Shared)('a poll across nodes: votes on two nodes reach the teacher\'s counts on a third; the results reach everyone', async () => {
  const room = fresh('poll-');
  const teacherKey = await makeRoom(room, 'Poll test');
  const teacher = await join(cluster, 0, { name: fresh('Teacher'), room, teacherKey });
  const sam = await join(cluster, 1, { name: fresh('Sam'), room });
  const kim = await join(cluster, 2, { name: fresh('Kim'), room });
  const shown = waitFor(kim, 'textmsg', (m) => !!m.poll, 5000);
  assert.equal(await actAs(teacher, 'poll', { content: 'Ready?', options: ['yes', 'no'] }), { ok: true });
  const poll = await shown;
  await sleep(300); // node 1 has read the poll from the stream
  const counted = waitFor(teacher, 'pollVotes', (v) => v.counts[0] === 1 && v.counts[1] === 1, 5000);
  const vote = (c: Client, option: number) => new Promise((resolve) => (c.emit as Function).call(c, 'vote', { poll: poll.id, option }, resolve));
  assert.equal(await vote(sam, 0), { ok: true });
  assert.equal(await vote(kim, 1), { ok: true });
  await counted;
  await sleep(300);
  const closed = waitFor(sam, 'pollClosed', () => true, 5000);
  assert.equal(await actAs(teacher, 'closePoll', { id: poll.id }), { ok: true });
  assert.equal(await closed, { id: poll.id, counts: [1, 1] });
});

onRedis(Shared)('teacher actions on one node hold on all: mute, quiet, pin; a removal closes tabs on every node', async () => {
  const room = fresh('rules-');
  const teacherKey = await makeRoom(room, 'Rules test');
  const [sam, tom] = [fresh('Sam'), fresh('Tom')];
  const teacher = await join(cluster, 0, { name: fresh('Teacher'), room, teacherKey });
  const s1 = await join(cluster, 1, { name: sam, room });
  const s2 = await join(cluster, 2, { name: sam, room, session: sessionOf(s1) });
  const t = await join(cluster, 2, { name: tom, room });
  await counted(teacher, 3).catch(() => {});
  assert.equal(await actAs(teacher, 'mute', { name: tom }), { ok: true });
  await sleep(300);
  assert.equal(await say(t, 'muted?'), { ok: false, error: 'muted' });
  assert.equal(await actAs(teacher, 'pin', { content: 'Read page 4' }), { ok: true });
  const late = cluster.client(1, { name: fresh('Late'), room });
  assert.equal((await welcomed(late, 8000)).room.pinned?.content, 'Read page 4');
  const gone = [s1, s2].map((s) => disconnected(s, 8000));
  assert.equal(await actAs(teacher, 'kick', { name: sam }), { ok: true });
  await Promise.all(gone);
  assert.is((await refused(cluster.client(1, { name: sam, room }), 8000)).message, 'kicked');
  assert.equal(await actAs(teacher, 'quiet'), { ok: true });
  await sleep(300);
  assert.equal(await say(late, 'quiet?'), { ok: false, error: 'muted' });
});

onRedis(Shared)('rooms made on one node are served by all; the push API on any node reaches every node; pictures are served by every node', async () => {
  const room = fresh('made-');
  assert.is((await api(cluster, 2, '/api/rooms', { method: 'POST', body: JSON.stringify({ id: room, title: 'Made on 2' }) })).status, 201);
  const a = await join(cluster, 0, { name: fresh('Ann'), room });
  const b = await join(cluster, 1, { name: fresh('Bob'), room });
  const heard = [a, b].map((s) => waitFor(s, 'announce', (x) => x.content === 'Tidy up', 5000));
  assert.is((await api(cluster, 2, '/api/push', { method: 'POST', body: JSON.stringify({ room, content: 'Tidy up' }) })).status, 200);
  await Promise.all(heard);
  const seen = waitFor(b, 'textmsg', (m) => !!m.image, 5000);
  const sent = await sendImage(a, fixture('tiny.png'));
  assert.ok(sent.ok, JSON.stringify(sent));
  const { image } = await seen;
  for (const node of cluster.nodes) {
    const res = await fetch(node.url + image);
    assert.is(res.status, 200, node.url + image);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(fixture('tiny.png')));
  }
  const closed = [a, b].map((s) => waitFor(s, 'closed', () => true, 5000));
  assert.is((await api(cluster, 0, `/api/rooms/${room}`, { method: 'DELETE' })).status, 204);
  await Promise.all(closed);
  await sleep(300);
  for (const i of [0, 1, 2]) assert.is((await api(cluster, i, `/api/rooms/${room}`)).status, 404, `node ${i}`);
});

onRedis(Shared)('a room made on one node can be joined on another at once (before its event reached that node)', async () => {
  const rooms = Array.from({ length: 8 }, () => fresh('at-once-'));
  await Promise.all(rooms.map(async (room, k) => {
    assert.is((await api(cluster, 2, '/api/rooms', { method: 'POST', body: JSON.stringify({ id: room, title: 'At once' }) })).status, 201);
    await join(cluster, k % 2, { name: fresh('Quick'), room });
  }));
});

Shared.run();

// --- failures

const Failures = suite('cluster: a node killed, Redis restarted');

onRedis(Failures)('a node killed with kill -9 while messages are in flight: its people come back elsewhere as themselves, nothing lost or doubled; those only there leave within 30 s; an upload half done there starts again elsewhere', async () => {
  await withCluster(3, async (c) => {
    const watcher = await join(c, 2, { name: 'Watcher' });
    const stay = await join(c, 1, { name: 'Stays' });
    const both = await join(c, 0, { name: 'Both' });
    const bothElsewhere = await join(c, 1, { name: 'Both', session: sessionOf(both) }); // a second tab on a node that lives
    const lone = await join(c, 0, { name: 'Lonely' });
    const senders = await Promise.all(['S1', 'S2', 'S3'].map((name) => join(c, 0, { name })));
    await counted(watcher, 7, 8000).catch(() => {});
    // Both is halfway through uploading a voice message to node 0 when it dies.
    const voice = Buffer.concat([Buffer.from('OggS'), randomBytes(200_000)]);
    const upload = randomBytes(16).toString('base64url').slice(0, 21);
    const uploadTo = (node: number, path = '') => `${c.nodes[node].url}/api/uploads/main/${upload}${path}`;
    const putVoice = (node: number, from: number, to: number) => fetch(uploadTo(node, '?kind=voice'), {
      method: 'PUT', body: new Uint8Array(voice.subarray(from, to)),
      headers: { 'x-chat-session': sessionOf(both), 'content-range': `bytes ${from}-${to - 1}/${voice.length}` },
    });
    assert.equal(await (await putVoice(0, 0, 100_000)).json(), { received: 100_000 });
    const received = collect(watcher, 'textmsg');
    // Each sender writes without pause; node 0 dies under them; each then reconnects to node 1 (as the load
    // balancer would send it) and resends what was not acked, under the same cid, as the page does.
    const acked = new Map<string, string>(); // cid -> id
    const running = senders.map(async (first, s) => {
      let client = first;
      let session = sessionOf(first);
      for (let k = 0; k < 40; k++) {
        const cid = `s${s}-m${k}`;
        for (;;) {
          const ack = await sendText(client, { content: `S${s + 1} #${k}`, cid }, 1500);
          if (ack !== 'timeout' && ack.ok) { acked.set(cid, ack.id); break; }
          if (client.connected) { await sleep(50); continue; }
          client.close();
          client = c.client(1, { name: `S${s + 1}`, session });
          session = (await welcomed(client, 8000)).session;
        }
        await sleep(10);
      }
    });
    await sleep(150);
    c.nodes[0].kill();
    await Promise.all(running);
    assert.is(acked.size, 120);
    await sleep(500);
    const ids = received.map((m) => m.id);
    for (const [cid, id] of acked) assert.ok(ids.includes(id), `${cid} was acked but not delivered`);
    const history = (await welcomed(c.client(2, { name: 'Reader' }), 8000)).history;
    const stored = history.filter((m) => /^S\d #\d+$/.test(m.content));
    assert.is(new Set(stored.map((m) => m.content)).size, 120, 'every message stored');
    assert.is(stored.length, 120, 'none stored twice');
    // Lonely's only tab was on the dead node: gone within 30 s; Both still has a tab on node 1.
    const started = Date.now();
    await waitFor(stay, 'online', (o) => !!o.left?.includes('Lonely'), 30_000);
    assert.ok(Date.now() - started < 30_000);
    const users = (await welcomed(c.client(1, { name: 'Counter' }), 8000)).users.map((u) => u.name);
    assert.ok(users.includes('Both') && users.includes('Stays') && !users.includes('Lonely'), users.join(', '));
    // The part was on node 0's disk: node 1 says nothing arrived (what the page asks before it resumes), so the
    // page uploads the whole again there, and the message goes as usual.
    const status = await fetch(uploadTo(1), { headers: { 'x-chat-session': sessionOf(both) } });
    assert.equal(await status.json(), { received: 0 }, 'node 1 has none of it');
    assert.is((await putVoice(1, 0, voice.length)).status, 201);
    const voiced = waitFor(watcher, 'textmsg', (m) => !!m.voice, 5000);
    const sent = await sendText(bothElsewhere, { content: '', upload, duration: 3000 } as never, 5000) as { ok: boolean };
    assert.ok(sent.ok, JSON.stringify(sent));
    const played = await fetch(c.nodes[2].url + (await voiced).voice!.url);
    assert.ok(Buffer.from(await played.arrayBuffer()).equals(voice), 'the whole voice message, from another node');
    void lone;
  });
});

onRedis(Failures)('Redis restarted mid-conversation: sends are refused with server_error meanwhile, and work again once it is back', async () => {
  await withCluster(2, async (c) => {
    const a = await join(c, 0, { name: 'Ann' });
    const b = await join(c, 1, { name: 'Bob' });
    assert.ok((await say(a, 'before')).ok);
    await c.redis.stop();
    await sleep(200);
    assert.equal(await sendText(b, { content: 'during', cid: 'during-1' }), { ok: false, error: 'server_error' });
    await c.redis.start(); // empty (the test Redis keeps nothing): the nodes claim their people again
    const got = collect(a, 'textmsg');
    await waitUntilOk(() => sendText(b, { content: 'after', cid: 'after-1' }), 15_000);
    await waitUntil(() => got.some((m) => m.content === 'after'), 'the message after the restart reaches the other node', 8000);
  });
});

onRedis(Failures)('without TEACHER_KEY the first node stores an admin key in Redis and every node uses it', async () => {
  await withCluster(2, async (c) => {
    const third = await c.startNode();
    const links = c.nodes.map((node) => /admin#key=(\S+)/.exec(node.output)?.[1]);
    assert.ok(links[0], c.nodes[0].output);
    assert.equal(links, [links[0], links[0], links[0]]);
    assert.is(await c.redis.client().get('chat:server-key'), links[0]);
    const res = await fetch(`${third.url}/api/rooms`, { headers: { authorization: `Bearer ${links[0]}` } });
    assert.is(res.status, 200);
  }, { TEACHER_KEY: '' });
});

Failures.run();

// ---

const actAs = (c: Client, action: string, extra: Record<string, unknown> = {}) =>
  new Promise((resolve) => (c.emit as Function).call(c, 'teacher', { action, ...extra }, resolve));

async function waitUntilOk(send: () => Promise<unknown>, ms: number) {
  const end = Date.now() + ms;
  for (;;) {
    const ack = await send();
    if ((ack as { ok?: boolean }).ok) return;
    if (Date.now() > end) throw new Error(`still refused: ${JSON.stringify(ack)}`);
    await sleep(200);
  }
}
