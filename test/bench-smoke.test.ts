// The benchmark, small: a few hundred of its lightweight clients against our server and bare
// Socket.IO for a few seconds. Asserts that everything is delivered and everything is stopped, never timings.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connectStorm, openRig, step } from '../bench/driver.ts';
import { ADMIN_KEY, SERVERS, type ServerKey } from '../bench/servers.ts';
import { io as ioClient } from 'socket.io-client';
import type { SeenItem } from '../chat/contract.ts';
import { sleep } from '../bench/clock.ts';

const RECEIVERS = 200;
const SENDERS = 2;
const RATE = 20; // group messages a second
const SECONDS = 2;
const STORM = 300;

const isAlive = (pid: number) => {
  try { return process.kill(pid, 0); } catch { return false; }
};

async function assertStopped(pids: number[]) {
  for (let i = 0; i < 20 && pids.some(isAlive); i++) await sleep(50);
  assert.equal(pids.filter(isAlive), [], 'every child process is gone');
}

// ---

const delivery = suite('bench smoke: delivered / expected');

for (const key of ['ours', 'bare'] as ServerKey[]) {
  delivery(`${SERVERS[key].label}: every group message reaches every receiver`, async () => {
    const rig = await openRig(key, RECEIVERS, SENDERS);
    try {
      const s = await step(rig, RATE, SECONDS);
      assert.is(s.sent, RATE * SECONDS);
      assert.is(s.expected, RATE * SECONDS * RECEIVERS);
      assert.is(s.count, s.expected, 'delivered / expected = 1');
      assert.is(s.stale, 0);
      assert.is(s.dropped, 0);
    } finally {
      rig.close();
    }
    await assertStopped([rig.server.pid, rig.rx.pid, rig.tx.pid]);
  });
}

delivery('ours with everyone reading ("seen by"): everything delivered, and the teacher\'s counts show the reads', async () => {
  const rig = await openRig('ours', RECEIVERS, SENDERS, 1, undefined, { reads: true, teacherKey: ADMIN_KEY });
  try {
    const s = await step(rig, RATE, SECONDS);
    assert.is(s.count, s.expected, 'delivered / expected = 1');
    await sleep(1500); // the last reports (one a second per reader) and their storing
    const http = rig.server.url.replace(/^ws/, 'http').replace(/\/socket\.io\/.*$/, '');
    const teacher = ioClient(http, { auth: { name: 'Watcher', teacherKey: ADMIN_KEY }, transports: ['websocket'], forceNew: true, reconnection: false });
    const { items } = await new Promise<{ items: SeenItem[] }>((resolve) => teacher.once('seen', resolve));
    teacher.close();
    assert.ok(items.length >= RATE * SECONDS, `a count for each message of the senders (teachers): ${items.length}`);
    assert.ok(items.some((i) => i.n === RECEIVERS && i.of === RECEIVERS), 'the last messages are seen by every receiver');
  } finally {
    rig.close();
  }
  await assertStopped([rig.server.pid, rig.rx.pid, rig.tx.pid]);
});

delivery.run();

// ---

const storm = suite('bench smoke: connect storm');

storm(`${SERVERS.ours.label}: every client is welcomed`, async () => {
  const result = await connectStorm('ours', STORM, 15_000, { warmMs: 200, settleMs: 200, idleMs: 200 });
  assert.is(result.connected, STORM);
  assert.ok(result.isComplete);
  assert.ok(result.seconds > 0);
  assert.ok(Number.isFinite(result.bytesPerConn));
  assert.ok(Number.isFinite(result.bytesPerIdleConn));
});

storm.run();

// ---

const ROOMS = 10; // one sender a room: RATE is spread over ten rooms of RECEIVERS / ROOMS receivers
const rooms = suite('bench smoke: spread over rooms');

for (const key of ['ours', 'bare', 'raw'] as ServerKey[]) {
  rooms(`${SERVERS[key].label}: a message reaches its own room's receivers, and no one else`, async () => {
    const rig = await openRig(key, RECEIVERS, ROOMS, ROOMS);
    try {
      assert.equal(Object.values(rig.receiversByRoom), Array(ROOMS).fill(RECEIVERS / ROOMS));
      const s = await step(rig, RATE * ROOMS, SECONDS);
      assert.is(s.sent, RATE * ROOMS * SECONDS);
      assert.is(s.expected, s.sent * (RECEIVERS / ROOMS), 'each message is expected in its room only');
      assert.is(s.count, s.expected, 'delivered / expected = 1 (a leak across rooms would count more)');
      assert.is(s.stale, 0);
      assert.is(s.dropped, 0);
    } finally {
      rig.close();
    }
    await assertStopped([rig.server.pid, rig.rx.pid, rig.tx.pid]);
  });
}

rooms(`${SERVERS.ours.label}: every client of a storm over ${ROOMS} rooms is welcomed (rooms made over HTTP)`, async () => {
  const result = await connectStorm('ours', STORM, 15_000, { warmMs: 200, settleMs: 200, idleMs: 200 }, undefined, ROOMS);
  assert.is(result.connected, STORM);
  assert.ok(result.isComplete);
});

rooms.run();
