// The load generator: a child process driven over IPC. Its clients speak Engine.IO v4 / Socket.IO v5
// (or plain WebSocket) directly on `ws`, count `textmsg` frames and time them without parsing JSON.
import { rmSync } from 'node:fs';
import WebSocket from 'ws';
import { nowMs, type ByRoom, type ConnectArgs, type ConnectResult, type SendResult, type Stats } from './clock.ts';

const WS_OPTIONS = { perMessageDeflate: false, skipUTF8Validation: true };
const TEXTMSG = Buffer.from('42["textmsg"');
const WELCOME = Buffer.from('42["welcome"');
const ONLINE = Buffer.from('42["online"');
const STAMP = Buffer.from('"t:'); // content "t:<ms>"; no other field of a TextMsg can hold it
const BUCKET_MS = 0.05;
const BUCKETS = 200_000; // 10 s of latency; slower frames land in the last bucket
const MAX_PER_TICK = 2000; // a stalled sender catches up at most this much at once
const POLL_MS = 20;
const READ_TICK_MS = 100;
const READ_QUIET_MS = 1000; // as the page: a read position goes once it held this long,
const READ_MAX_WAIT_MS = 5000; // or this long after it was first due while lines keep coming
const ID_KEY = Buffer.from('"id":"');
const TEACHER = Buffer.from('"teacher":true');

const clients: WebSocket[] = [];
const ready: WebSocket[] = [];
const roomOf = new WeakMap<WebSocket, string>();
const histogram = new Uint32Array(BUCKETS);
let since = Infinity; // frames stamped earlier belong to an earlier step
let count = 0, stale = 0, dropped = 0, sumMs = 0, maxMs = 0;
const closedByUs = new WeakSet<WebSocket>();
const readers: WebSocket[] = [];
const unread = new Map<WebSocket, { data: Buffer; first: number; last: number }>(); // a reader's newest teacher line not reported yet
let readTimer: NodeJS.Timeout | null = null;

/** Each reader reports the last line of the teacher it got, as the page does (conversations.js). */
function reportReads() {
  const now = nowMs();
  for (const [ws, { data, first, last }] of unread) {
    if (now - last < READ_QUIET_MS && now - first < READ_MAX_WAIT_MS) continue;
    unread.delete(ws);
    const at = data.indexOf(ID_KEY);
    if (at < 0) continue;
    const end = data.indexOf(0x22, at + ID_KEY.length);
    ws.send(`42["read",{"id":"${data.toString('latin1', at + ID_KEY.length, end)}"}]`);
  }
}

function noteUnread(ws: WebSocket, data: Buffer) {
  if (data.indexOf(TEACHER, TEXTMSG.length) < 0) return;
  const now = nowMs();
  const pending = unread.get(ws);
  if (pending) Object.assign(pending, { data, last: now });
  else unread.set(ws, { data, first: now, last: now });
}

const startsWith = (data: Buffer, prefix: Buffer) =>
  data.length >= prefix.length && data.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;

/** The number written at `i` ("123.456"), read byte by byte: no string is made. */
function toStamp(data: Buffer, i: number): number {
  let whole = 0, fraction = 0, scale = 1;
  for (; i < data.length && data[i] >= 0x30 && data[i] <= 0x39; i++) whole = whole * 10 + data[i] - 0x30;
  if (data[i] === 0x2e) for (i++; i < data.length && data[i] >= 0x30 && data[i] <= 0x39; i++) fraction += (data[i] - 0x30) * (scale /= 10);
  return whole + fraction;
}

function onTextMsg(data: Buffer) {
  const at = data.indexOf(STAMP, TEXTMSG.length);
  if (at < 0) return;
  const stamp = toStamp(data, at + STAMP.length);
  if (stamp < since) return void stale++;
  const ms = nowMs() - stamp;
  count++;
  sumMs += ms;
  if (ms > maxMs) maxMs = ms;
  histogram[Math.min(BUCKETS - 1, Math.max(0, Math.floor(ms / BUCKET_MS)))]++;
}

const countIn = (byRoom: ByRoom, room: string) => { byRoom[room] = (byRoom[room] ?? 0) + 1; };

type ClientArgs = Pick<ConnectArgs, 'url' | 'ready' | 'roomIn' | 'reads' | 'teacherKey'> & { name: string; room: string };

function openClient({ url, ready: want, roomIn, name, room, reads, teacherKey }: ClientArgs, settle: (isOk: boolean) => void) {
  const ws = new WebSocket(roomIn === 'query' ? `${url}?room=${encodeURIComponent(room)}` : url, WS_OPTIONS);
  let isSettled = false;
  const done = (isOk: boolean) => {
    if (isSettled) return;
    isSettled = true;
    if (isOk) ready.push(ws);
    if (isOk && reads) readers.push(ws);
    readTimer ??= reads ? setInterval(reportReads, READ_TICK_MS) : null;
    settle(isOk);
  };
  clients.push(ws);
  roomOf.set(ws, room);
  ws.on('error', () => done(false));
  ws.on('close', () => { if (isSettled && !closedByUs.has(ws)) dropped++; done(false); });
  ws.on('open', () => { if (want === 'open') done(true); });
  ws.on('message', (data: Buffer) => {
    if (data[0] === 0x34 && data[1] === 0x32) { // "42": an event
      if (startsWith(data, TEXTMSG)) { // the hot path
        if (reads) noteUnread(ws, data);
        return onTextMsg(data);
      }
      if (!isSettled && ((want === 'welcome' && startsWith(data, WELCOME)) || (want === 'online' && startsWith(data, ONLINE)))) done(true);
    } else if (data[0] === 0x32) ws.send('3'); // ping -> pong
    else if (data[0] === 0x30) ws.send(`40${JSON.stringify({ name, avatar: 'cat', room, teacherKey })}`); // open -> CONNECT with auth
    else if (data[0] === 0x34 && data[1] === 0x30 && want === 'connect') done(true);
    else if (data[0] === 0x34 && data[1] === 0x34) done(false); // connect_error
  });
}

/** Opens `count` clients, at most `window` handshakes in flight (past the listen backlog, SYNs would be dropped and retried a second later). */
function connect({ url, urls = [url], ready: want, roomIn, rooms, count: total, prefix, window, timeoutMs, reads, teacherKey }: ConnectArgs): Promise<ConnectResult> {
  return new Promise((resolve) => {
    const t0 = nowMs();
    const byRoom: ByRoom = {};
    let started = 0, connected = 0, failed = 0, inFlight = 0, isDone = false;
    const finish = () => {
      if (isDone) return;
      isDone = true;
      clearTimeout(timer);
      resolve({ connected, failed: total - connected, ms: nowMs() - t0, byRoom });
    };
    const settle = (isOk: boolean) => {
      inFlight--;
      isOk ? connected++ : failed++;
      if (connected + failed >= total) finish();
      else pump();
    };
    const pump = () => {
      while (!isDone && inFlight < window && started < total) {
        inFlight++;
        const room = rooms[started % rooms.length];
        openClient({ url: urls[started % urls.length], ready: want, roomIn, name: `${prefix}${started++}`, room, reads, teacherKey }, (isOk) => { // nodes in turn, as a load balancer would
          if (isOk) countIn(byRoom, room);
          settle(isOk);
        });
      }
    };
    const timer = setTimeout(finish, timeoutMs);
    pump();
    if (total === 0) finish();
  });
}

/**
 * Sends `rate` group messages a second for `seconds`, round robin over the ready clients, each stamped when
 * sent; counted per room, as a message reaches its own room only (senders spread evenly: rooms evenly loaded).
 */
function send({ rate, seconds }: { rate: number; seconds: number }): Promise<SendResult> {
  return new Promise((resolve) => {
    const total = Math.round(rate * seconds);
    const deadline = seconds * 1000 + 5000;
    const t0 = nowMs();
    const byRoom: ByRoom = {};
    let sent = 0;
    const tick = () => {
      const elapsed = nowMs() - t0;
      let due = Math.min(total, Math.floor((elapsed * rate) / 1000) + 1) - sent;
      for (due = Math.min(due, MAX_PER_TICK); due > 0 && ready.length; due--) {
        const ws = ready[sent++ % ready.length];
        ws.send(`42["textmsg",{"content":"t:${nowMs().toFixed(3)}"}]`);
        countIn(byRoom, roomOf.get(ws)!);
      }
      if (sent < total && elapsed < deadline && ready.length) return;
      clearInterval(timer);
      resolve({ sent, ms: nowMs() - t0, byRoom });
    };
    const timer = setInterval(tick, 1);
    tick();
  });
}

function reset(args: { since: number }) {
  since = args.since;
  count = stale = dropped = sumMs = maxMs = 0;
  histogram.fill(0);
}

function percentile(q: number): number {
  const rank = Math.ceil(q * count);
  for (let i = 0, seen = 0; i < BUCKETS; i++) if ((seen += histogram[i]) >= rank && rank > 0) return (i + 0.5) * BUCKET_MS;
  return 0;
}

const stats = (): Stats => ({ count, stale, dropped, p50: percentile(0.5), p99: percentile(0.99), max: maxMs, mean: count ? sumMs / count : 0 });

/** Resolves once `target` frames are counted, or no frame came for `idleMs`, or after `timeoutMs`. */
function waitCount({ target, idleMs, timeoutMs }: { target: number; idleMs: number; timeoutMs: number }): Promise<Stats> {
  return new Promise((resolve) => {
    const t0 = nowMs();
    let last = -1, lastAt = t0;
    const timer = setInterval(() => {
      const now = nowMs(), seen = count + stale;
      if (seen !== last) [last, lastAt] = [seen, now];
      if (count < target && now - lastAt < idleMs && now - t0 < timeoutMs) return;
      clearInterval(timer);
      resolve(stats());
    }, POLL_MS);
  });
}

function close() {
  for (const ws of clients) {
    closedByUs.add(ws);
    ws.terminate();
  }
  clients.length = ready.length = readers.length = 0;
  unread.clear();
  if (readTimer) clearInterval(readTimer);
  readTimer = null;
  return {};
}

let guarded = { pgids: [] as number[], dirs: [] as string[] };
/** What to kill and remove if the driver dies without a word (it cannot catch SIGKILL). */
function guard(args: typeof guarded) {
  guarded = args;
  return {};
}

const COMMANDS: Record<string, (args: never) => unknown> = { connect, send, reset, stats, waitCount, close, guard };

process.on('message', async ({ id, cmd, args }: { id: number; cmd: string; args: unknown }) => {
  try {
    process.send!({ id, result: await COMMANDS[cmd](args as never) });
  } catch (err) {
    process.send!({ id, error: String((err as Error)?.stack ?? err) });
  }
});
process.on('disconnect', () => { // the driver is gone: so are we, and the server we were loading
  for (const pgid of guarded.pgids) try { process.kill(-pgid, 'SIGKILL'); } catch {}
  for (const dir of guarded.dirs) rmSync(dir, { recursive: true, force: true });
  process.exit(0);
});
process.send!({ id: 0, result: 'ready' });
