// Hostile input: cross-site sockets, page headers, a seeded fuzzer, oversized frames, floods,
// connection tricks, and private messages that must never reach a third person.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import { existsSync } from 'node:fs';
import { startServer, welcomed, refused, collect, sleep, type Client } from './helpers.ts';
import {
  ROOT, toRandom, toSeed, waitUntil, rawClient, sendText, addFigures, disconnected, emitLoose, within,
  type Random, type RawClient, type AckResult,
} from './stress-helpers.ts';
import type { TextMsg } from '../chat/contract.ts';
import { toNameKey } from '../chat/names.ts';

const EVIL = 'http://evil.example';
const PRIVATE_MARK = '§PRIVATE§'; // the fuzzer never generates '§'
const VALID_MARK = '§VALID§';

function getPage(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    }).on('error', reject).on('timeout', function (this: http.ClientRequest) { this.destroy(new Error(`GET ${url} timed out`)); });
  });
}

/** The limit the server enforces on one frame (maxHttpBufferSize), read rather than assumed. */
const toFrameLimit = (chat: { io: { engine: unknown } }) =>
  (chat.io.engine as { opts: { maxHttpBufferSize: number } }).opts.maxHttpBufferSize;

// ---

const origin = suite('cross-site WebSocket hijacking');

for (const transport of ['websocket', 'polling'] as const) {
  origin(`a handshake from a foreign page is refused (${transport})`, async () => {
    const server = await startServer();
    try {
      for (const foreign of [EVIL, 'null', `http://127.0.0.1:${server.port}.evil.example`, `http://127.0.0.1:${server.port + 1}`]) {
        const socket = server.client({ name: 'victim' }, { transports: [transport], extraHeaders: { origin: foreign } });
        await refused(socket);
        socket.close();
      }
      assert.is(server.chat.stats().online, 0);
      assert.is(server.chat.stats().sessions, 0);
    } finally {
      await server.close();
    }
  });
}

origin('the polling handshake itself answers 403 to a foreign Origin', async () => {
  const server = await startServer();
  try {
    const page = await getPage(`${server.url}/socket.io/?EIO=4&transport=polling`, { origin: EVIL });
    assert.is(page.status, 403);
    assert.not.ok(page.body.includes('"sid"'));
    const own = await getPage(`${server.url}/socket.io/?EIO=4&transport=polling`, { origin: server.url });
    assert.is(own.status, 200);
    assert.ok(own.body.includes('"sid"'));
  } finally {
    await server.close();
  }
});

origin('the same origin and Origin-less (non-browser) handshakes are accepted', async () => {
  const server = await startServer();
  try {
    for (const transport of ['websocket', 'polling'] as const) {
      const same = server.client({ name: `same-${transport}` }, { transports: [transport], extraHeaders: { origin: server.url } });
      await welcomed(same);
    }
    await welcomed(server.client({ name: 'no-origin' }));
  } finally {
    await server.close();
  }
});

origin('allowedOrigins lets exactly the listed pages in', async () => {
  const server = await startServer({ allowedOrigins: ['http://teacher.example'] });
  try {
    await welcomed(server.client({ name: 'listed' }, { extraHeaders: { origin: 'http://teacher.example' } }));
    await welcomed(server.client({ name: 'listed-poll' }, { transports: ['polling'], extraHeaders: { origin: 'http://teacher.example' } }));
    await refused(server.client({ name: 'evil' }, { extraHeaders: { origin: EVIL } }));
    await refused(server.client({ name: 'near' }, { extraHeaders: { origin: 'http://teacher.example.evil.example' } }));
    await refused(server.client({ name: 'https' }, { extraHeaders: { origin: 'https://teacher.example' } }));
  } finally {
    await server.close();
  }
});

origin.run();

// ---

const headers = suite('security headers on every page');

function assertSafeHeaders(path: string, h: http.IncomingHttpHeaders) {
  const csp = String(h['content-security-policy'] ?? '');
  assert.ok(csp, `${path}: no Content-Security-Policy`);
  const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map(([k, ...v]) => [k.toLowerCase(), v]));
  const scriptSrc = directives.get('script-src') ?? directives.get('default-src');
  assert.ok(scriptSrc, `${path}: CSP restricts no scripts`);
  for (const bad of ["'unsafe-inline'", "'unsafe-eval'", '*', 'data:', 'http:', 'https:']) {
    assert.not.ok(scriptSrc!.includes(bad), `${path}: script-src allows ${bad}`);
  }
  const ancestors = directives.get('frame-ancestors')?.join(' ');
  const xfo = String(h['x-frame-options'] ?? '').toUpperCase();
  assert.ok(['DENY', 'SAMEORIGIN'].includes(xfo) || ["'none'", "'self'"].includes(ancestors ?? ''), `${path}: no frame protection`);
  assert.is(h['x-content-type-options'], 'nosniff', `${path}: nosniff`);
  const referrer = String(h['referrer-policy'] ?? '');
  assert.ok(['no-referrer', 'same-origin', 'strict-origin', 'strict-origin-when-cross-origin'].includes(referrer), `${path}: Referrer-Policy ${referrer}`);
  assert.is(h['x-powered-by'], undefined, `${path}: X-Powered-By`);
}

headers('/, /chat.html, /join, a 404 and a malformed URL all carry CSP, nosniff, Referrer-Policy and frame protection', async () => {
  const server = await startServer();
  try {
    const hasChatPage = existsSync(`${ROOT}public/chat.html`);
    const pages: [string, number | null][] = [
      ['/', 200], ['/chat.html', hasChatPage ? 200 : null], ['/join', 200], ['/join.svg', 200],
      ['/no-such-page', 404], ['/%E0%A4%A', null], ['/../server.ts', 404],
    ];
    for (const [path, status] of pages) {
      const page = await getPage(`${server.url}${path}`);
      if (status !== null) assert.is(page.status, status, `${path}: status`);
      assertSafeHeaders(path, page.headers);
    }
  } finally {
    await server.close();
  }
});

headers.run();

// ---
// The fuzzer: random packets from many clients, judged against the contract by an independent oracle.

const SOCKET_RESERVED = ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'];
const KNOWN_EVENTS = new Set(['textmsg', 'typing', 'image', 'teacher']); // not judged by the oracle unless textmsg
const CID_RE = /^[\w-]{1,64}$/;
const STABLE = ['watcher', 'observer', 'valid', 'buddy', 'fuzz1', 'fuzz2', 'fuzz3', 'fuzz4', 'fuzz5', 'fuzz6'];
const FUZZERS = STABLE.filter((n) => n.startsWith('fuzz'));
const TARGETS = STABLE.filter((n) => n !== 'observer'); // the observer is never addressed: any private it sees is a leak

const PIECES = [
  'a', 'Z', '0', ' ', '  ', '\t', '\n', '\r\n', '\u3000', '\u00a0', '\u2028', '\ufeff', '\u200b', '\u202e', '\u0000', '\u0007',
  '东', '東京', '😀', '👩‍👩‍👧', 'é', 'e\u0301', '\ud800', '\udfff', '<script>alert(1)</script>', '"', '\\', '{', '}', '[', ']',
  '__proto__', 'constructor', 'textmsg', 'watcher', 'WATCHER', 'ＷＡＴＣＨＥＲ', ' buddy', 'Ω', 'ﬀ', 'null', '%s', '${x}',
];

function toText(r: Random, maxPoints: number): string {
  const roll = r.next();
  if (roll < 0.05) return '';
  if (roll < 0.1) return r.pick([' ', '\n\t ', '\u3000\u00a0', '\ufeff ']).repeat(1 + r.int(40));
  if (roll < 0.16) return r.pick(['x', '东', '😀', ' ']).repeat(1990 + r.int(Math.min(40, maxPoints)));
  if (roll < 0.2) return 'y'.repeat(r.int(Math.min(maxPoints, 4000)));
  let text = '';
  const n = r.chance(0.8) ? r.int(12) : r.int(300);
  for (let i = 0; i < n; i++) text += r.chance(0.5) ? r.pick(PIECES) : String.fromCodePoint(r.chance(0.8) ? 32 + r.int(95) : r.int(0x2ffff));
  return text.replaceAll('§', '');
}

function toValue(r: Random, depth = 0): unknown {
  const roll = r.int(depth > 3 ? 6 : 10);
  switch (roll) {
    case 0: return null;
    case 1: return r.chance(0.5);
    case 2: return r.pick([0, -1, 1.5, 2 ** 53, -(2 ** 31), 1e300, r.int(1000)]);
    case 3: case 4: return toText(r, 300);
    case 5: return Buffer.from(Array.from({ length: r.int(r.chance(0.9) ? 64 : 8000) }, () => r.int(256)));
    case 6: case 7: return Array.from({ length: r.int(5) }, () => toValue(r, depth + 1));
    default: return toObject(r, depth + 1);
  }
}

/** Own data properties only, as JSON.parse on the server makes them: `__proto__` is a key, never a prototype. */
const setOwn = (object: Record<string, unknown>, key: string, value: unknown) =>
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });

function toObject(r: Random, depth: number): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  const keys = ['content', 'to', 'cid', 'name', 'id', 'ts', 'avatar', 'constructor', '__proto__', 'toJSON'];
  for (let i = r.int(5); i > 0; i--) setOwn(object, r.chance(0.5) ? r.pick(keys) : toText(r, 20), toValue(r, depth));
  return object;
}

/** A textmsg payload that walks the validation paths: good and bad content, to, cid, and extras. */
function toTextPayload(r: Random, self: string): unknown {
  const payload: Record<string, unknown> = {};
  const contentRoll = r.int(10);
  if (contentRoll < 6) payload.content = toText(r, 2100);
  else if (contentRoll < 9) payload.content = toValue(r, 2);
  if (r.chance(0.3)) {
    const toRoll = r.int(8);
    if (toRoll < 4) payload.to = r.pick(TARGETS.filter((n) => n !== self).concat(self));
    else if (toRoll === 4) payload.to = r.pick(['WATCHER', 'Ｂｕｄｄｙ', 'buddy ', ' valid', 'nobody', '']);
    else payload.to = toValue(r, 3);
  }
  if (r.chance(0.4)) {
    const cidRoll = r.int(6);
    if (cidRoll < 3) payload.cid = `${self}-${r.int(2 ** 30)}-${r.int(2 ** 30)}`; // unique, so never a retry
    else payload.cid = r.pick(['', 'x'.repeat(65), 'a b', 'é', '../', 7, null, {}, ['c']]);
  }
  if (r.chance(0.2)) for (const [key, value] of Object.entries(toObject(r, 2))) if (!Object.hasOwn(payload, key)) setOwn(payload, key, value);
  return payload;
}

function toArgs(r: Random, event: string | number, self: string): unknown[] {
  if (event !== 'textmsg') return r.chance(0.2) ? [] : Array.from({ length: 1 + r.int(3) }, () => toValue(r));
  const shape = r.int(20);
  if (shape === 0) return [];
  if (shape === 1) return [toValue(r)];
  if (shape === 2) return [toTextPayload(r, self), toValue(r)]; // an extra argument
  if (shape === 3) return [toTextPayload(r, self), toTextPayload(r, self)];
  return [toTextPayload(r, self)];
}

function toEvent(r: Random): string | number {
  const roll = r.int(20);
  if (roll < 11) return 'textmsg';
  if (roll < 14) return 'typing';
  if (roll === 14) return r.pick(['TextMsg', 'textmsg ', 'text', 'welcome', 'restarting', 'join', 'online', 'image', 'teacher']);
  if (roll === 15) return r.int(1e6);
  const name = toText(r, 40);
  return SOCKET_RESERVED.includes(name) ? 'x' : name;
}

type Judged = { ok: true; content: string; to?: string } | { ok: false; error: string };
const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
const toKey = (name: string, to: string | undefined, content: string) => `${name}\u0000${to ?? ''}\u0000${content}`;

/** The README's textmsg rules, written independently of server.ts. `online`: name key -> name. */
function judgeText(args: unknown[], online: Map<string, string>): Judged {
  const invalid = { ok: false, error: 'invalid_message' } as const;
  if (args.length !== 1 || !isPlain(args[0])) return invalid;
  const { content, to, cid } = args[0];
  if (to !== undefined && typeof to !== 'string') return invalid;
  if (cid !== undefined && !(typeof cid === 'string' && CID_RE.test(cid))) return invalid;
  if (typeof content !== 'string') return invalid;
  const text = content.trim();
  if (!text) return { ok: false, error: 'empty' };
  if ([...text].length > 2000) return { ok: false, error: 'too_long' };
  if (to === undefined) return { ok: true, content: text };
  const name = online.get(toNameKey(to)); // the server's own notion of "the same nickname"
  return name ? { ok: true, content: text, to: name } : { ok: false, error: 'not_online' };
}

/** Bytes of the text frame socket.io-client will send for these arguments (Buffers travel apart). */
function toFrameBytes(event: unknown, args: unknown[]): number {
  const json = JSON.stringify([event, ...args], (_k, v) => (v && v.type === 'Buffer' && Array.isArray(v.data) ? { _placeholder: true, num: 0 } : v));
  return Buffer.byteLength(json) + 24;
}

/** The sizes of the Buffers in these arguments: each is one binary frame. */
function toBufferSizes(value: unknown): number[] {
  if (Buffer.isBuffer(value)) return [value.length];
  if (Array.isArray(value)) return value.flatMap(toBufferSizes);
  if (isPlain(value)) return Object.values(value).flatMap(toBufferSizes);
  return [];
}
const MAX_ATTACHMENTS = 10; // socket.io-parser's own limit: more closes the connection (the raw fuzzer sends more)

/** Strict prefixes, wrong types and bogus attachments: never a complete valid packet, so nothing may come of them. */
function toRawFrame(r: Random): string | Buffer {
  switch (r.int(12)) {
    case 0: return Buffer.from(Array.from({ length: r.int(2000) }, () => r.int(256)));
    case 1: return toText(r, 200);
    case 2: return r.pick(['0', '1', '5', '6', '7', '8', '9', '', 'x', '4']) + toText(r, 20);
    case 3: return `4${r.pick([0, 1, 4, 6, 7, 8, 9])}${r.chance(0.5) ? JSON.stringify(toValue(r)) ?? '' : toText(r, 30)}`;
    case 4: return `42${JSON.stringify([r.pick(SOCKET_RESERVED), toValue(r)])}`;
    case 5: return `42${JSON.stringify([r.int(1e6), toValue(r)])}`;
    case 6: return `42${r.pick(['', '[]', '{}', '"x"', 'null', '[null]', '[[]]', '[{}]', '["textmsg"', '["textmsg",{"content":', '[true]'])}`;
    case 7: {
      const full = `42${r.chance(0.5) ? r.int(100) : ''}${JSON.stringify(['textmsg', { content: `raw ${toText(r, 30)}x` }])}`;
      return full.slice(0, r.int(full.length)); // a strict prefix: cut JSON
    }
    case 8: return `43${r.int(100)}${JSON.stringify([toValue(r)])}`;
    case 9: return `45${r.chance(0.8) ? r.int(4) : 11 + r.int(1e6)}-${JSON.stringify(['textmsg', { content: { _placeholder: true, num: r.int(4) } }])}`;
    case 10: return `40/${toText(r, 10).replace(/[,]/g, '')},${JSON.stringify({ name: 'ns' })}`;
    default: return r.chance(0.5) ? '41' : `40${JSON.stringify({ name: toValue(r) })}`;
  }
}

interface Seen { name: string; got: Map<string, number>; privates: number; privateTyping: number; messages: TextMsg[] }

const fuzz = suite('fuzz');

fuzz('10,000+ random packets: the server stays up, valid traffic flows, nothing invalid reaches anyone', async () => {
  const seed = toSeed('FUZZ_SEED');
  const server = await startServer({ rateLimit: false });
  const limit = toFrameLimit(server.chat) - 64;
  const allowedFor = new Map<string, Map<string, number>>(STABLE.map((n) => [n, new Map()]));
  const online = new Map(STABLE.map((n) => [toNameKey(n), n]));
  const violations: string[] = [];
  const allow = (key: string, recipients: string[]) => {
    for (const n of recipients) allowedFor.get(n)!.set(key, (allowedFor.get(n)!.get(key) ?? 0) + 1);
  };
  const clients = new Map<string, Client>();
  const seen = new Map<string, Seen>();
  const raws: RawClient[] = [];
  try {
    for (const name of STABLE) {
      const client = server.client({ name });
      await welcomed(client);
      const record: Seen = { name, got: new Map(), privates: 0, privateTyping: 0, messages: [] };
      client.on('textmsg', (m) => {
        const key = toKey(m.name, m.to, m.content);
        const count = (record.got.get(key) ?? 0) + 1;
        record.got.set(key, count);
        record.messages.push(m);
        if (count > (allowedFor.get(name)!.get(key) ?? 0)) violations.push(`${name} got ${JSON.stringify(m).slice(0, 200)} (seed ${seed})`);
        if (m.to !== undefined || m.content.includes(PRIVATE_MARK)) record.privates++;
      });
      client.on('typing', (t) => {
        if (t.to !== undefined && t.to !== name) record.privateTyping++; // a private typing meant for someone else
        if (t.to !== undefined && name === 'observer') record.privates++;
      });
      clients.set(name, client);
      seen.set(name, record);
    }
    let packets = 0;
    const ackMismatches: string[] = [];
    const dropped: string[] = [];
    const verdicts = new Map<string, number>(); // how the oracle judged the packets, to show the paths were walked

    async function runFuzzer(name: string, k: number, count: number) {
      const r = toRandom(seed + k); // one stream per client: its packets replay whatever the interleaving
      const client = clients.get(name)!;
      let pending: Promise<void>[] = [];
      for (let i = 0; i < count; i++) {
        let event = toEvent(r);
        let args = toArgs(r, event, name);
        const buffers = toBufferSizes(args);
        if (toFrameBytes(event, args) > limit || buffers.length > MAX_ATTACHMENTS || buffers.some((n) => n > limit)) {
          event = 'textmsg';
          args = [{ content: toText(r, 20) }];
        }
        const verdict = event === 'textmsg' ? judgeText(args, online) : null;
        const kind = !verdict ? 'other event' : verdict.ok ? (verdict.to ? 'private' : 'group') : verdict.error;
        verdicts.set(kind, (verdicts.get(kind) ?? 0) + 1);
        if (verdict?.ok) allow(toKey(name, verdict.to, verdict.content), verdict.to ? [...new Set([name, verdict.to])] : STABLE);
        const isJudged = typeof event !== 'string' || !KNOWN_EVENTS.has(event) || event === 'textmsg';
        packets++;
        if (r.chance(0.35)) {
          emitLoose(client, event, args);
        } else if (!isJudged) {
          emitLoose(client, event, args, () => {}); // an ack the server may never call
        } else {
          pending.push(new Promise<void>((resolve) => {
            emitLoose(client, event, args, (err, answer) => {
              const ack = answer as AckResult;
              const expected = verdict ?? { ok: false, error: 'invalid_message' };
              if (err) ackMismatches.push(`${String(event)}: no ack`);
              else if (ack?.ok !== expected.ok || (!expected.ok && !ack.ok && ack.error !== expected.error)) {
                ackMismatches.push(`${String(event)} ${JSON.stringify(args).slice(0, 160)}: got ${JSON.stringify(ack)}, expected ${JSON.stringify(expected)}`);
              }
              resolve();
            }, 10_000);
          }));
        }
        if (pending.length >= 20) {
          await Promise.all(pending);
          pending = [];
          if (!client.connected) break; // fail fast, not 10 s per batch: the assertions below say why
        }
      }
      await Promise.all(pending);
      if (!client.connected) dropped.push(`${name} was disconnected (seed ${seed})`);
    }

    async function runRaw(k: number, count: number) {
      const r = toRandom(seed + 100 + k);
      let generation = 0;
      let raw: RawClient | null = null;
      for (let sent = 0; sent < count;) {
        if (!raw || raw.isClosed) {
          raw = rawClient(server.port);
          raws.push(raw);
          try { await raw.join({ name: `raw${k}-${generation++}` }); } catch { continue; }
        }
        if (raw.send(toRawFrame(r))) {
          packets++;
          sent++;
          verdicts.set('raw frames', (verdicts.get('raw frames') ?? 0) + 1);
        }
        if (sent % 4 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    }

    const validAcks: AckResult[] = [];
    let sentValid = 0;
    async function sendValid() {
      const n = sentValid++;
      const isPrivate = n % 4 === 3;
      const content = isPrivate ? `${PRIVATE_MARK} ${seed} ${n}` : `${VALID_MARK} ${seed} ${n}`;
      allow(toKey('valid', isPrivate ? 'buddy' : undefined, content), isPrivate ? ['valid', 'buddy'] : STABLE);
      const ack = await sendText(clients.get('valid')!, isPrivate ? { content, to: 'buddy', cid: `v${n}` } : { content, cid: `v${n}` }, 10_000);
      validAcks.push(ack === 'timeout' ? { ok: false, error: 'timeout' } : ack);
    }

    let isFuzzing = true;
    const during = (async () => { while (isFuzzing) await sendValid().then(() => sleep(2)); })();
    await Promise.all([
      ...FUZZERS.map((name, k) => runFuzzer(name, k, 1150)),
      ...[1, 2, 3].map((k) => runRaw(k, 1050)),
    ]);
    isFuzzing = false;
    await during;
    const sentDuring = sentValid;
    for (let i = 0; i < 8; i++) await sendValid(); // and after
    console.log(`  fuzz: ${packets} packets (${[...verdicts].map(([k, n]) => `${k} ${n}`).join(', ')}), ${sentDuring} valid messages alongside`);

    // Still up: a newcomer gets a welcome, pages load, and everything valid arrived exactly once.
    const late = server.client({ name: 'late' });
    const welcome = await welcomed(late);
    assert.ok(welcome.history.some((m) => m.content.startsWith(VALID_MARK)));
    assert.is((await getPage(`${server.url}/`)).status, 200);
    const watcher = seen.get('watcher')!;
    await waitUntil(() => STABLE.every((n) => [...allowedFor.get(n)!].every(([key, count]) => seen.get(n)!.got.get(key) === count)), 'every valid message arrived', 10_000)
      .catch(() => {});
    assert.equal(dropped, [], 'a well-formed packet under the frame limit cost a client its connection');
    assert.equal(violations, [], 'something invalid or duplicated reached a client');
    assert.equal(ackMismatches.slice(0, 5), [], `acks differ from the contract (seed ${seed})`);
    assert.ok(sentDuring >= 20, `only ${sentDuring} valid messages got through during the fuzz`);
    assert.ok(validAcks.every((a) => a.ok), 'a valid message was refused during or after the fuzz');
    for (const n of STABLE) {
      const missing = [...allowedFor.get(n)!].filter(([key, count]) => seen.get(n)!.got.get(key) !== count);
      assert.equal(missing.slice(0, 3).map(([key]) => key.slice(0, 120)), [], `${n} missed valid messages (seed ${seed})`);
    }
    const validOrder = watcher.messages.filter((m) => m.content.startsWith(VALID_MARK)).map((m) => Number(m.content.split(' ').at(-1)));
    assert.equal(validOrder, [...validOrder].sort((a, b) => a - b), 'valid messages out of order');
    const observer = seen.get('observer')!;
    assert.is(observer.privates, 0, 'a private message or private typing reached the observer');
    assert.equal(STABLE.filter((n) => seen.get(n)!.privateTyping > 0), [], 'a private typing reached someone else');
    assert.ok(packets >= 10_000);
    addFigures('fuzz', { packetsFuzzed: packets, privateLeaks: observer.privates });
  } finally {
    raws.forEach((raw) => raw.ws.terminate());
    await server.close();
  }
});

fuzz.run();

// ---

const frames = suite('frames above the limit');

frames('an oversized frame drops only its sender, over WebSocket text, binary and polling, and raw', async () => {
  const server = await startServer({ rateLimit: false });
  try {
    const limit = toFrameLimit(server.chat);
    const watcher = server.client({ name: 'watcher' });
    const talker = server.client({ name: 'talker' });
    await Promise.all([welcomed(watcher), welcomed(talker)]);
    const received = collect(watcher, 'textmsg');
    const big = 'x'.repeat(limit + 1);
    const attempts: [string, (c: Client) => void, Record<string, unknown>][] = [
      ['text', (c) => c.emit('textmsg', { content: big }), {}],
      ['binary', (c) => c.emit('textmsg', { content: 'bin', blob: Buffer.alloc(limit + 1) } as never), {}],
      ['polling', (c) => c.emit('textmsg', { content: big }), { transports: ['polling'] }],
    ];
    let oversized = 0;
    for (const [label, send, extra] of attempts) {
      const heavy = server.client({ name: `heavy-${label}` }, extra);
      const { session } = await welcomed(heavy);
      const gone = disconnected(heavy);
      send(heavy);
      oversized++;
      await gone;
      const ack = await sendText(talker, { content: `still here after ${label}` });
      assert.ok(ack !== 'timeout' && ack.ok, `talker after ${label}`);
      await waitUntil(() => received.some((m) => m.content === `still here after ${label}`), `the watcher saw the talker after ${label}`);
      const again = server.client({ name: `heavy-${label}`, session }, extra); // not banned: only that connection went
      await welcomed(again);
      again.close();
    }
    const raw = rawClient(server.port);
    await raw.join({ name: 'raw-heavy' });
    raw.send(Buffer.alloc(limit + 1));
    oversized++;
    await within(raw.closed, 5000, 'the oversized raw connection closed');
    assert.ok(watcher.connected && talker.connected);
    assert.not.ok(received.some((m) => m.content.length > 2000 || m.content === 'bin'), 'an oversized message was delivered');
    // At the limit, the connection stays: the content is refused by the contract, not by the transport.
    const near = await sendText(talker, { content: 'y'.repeat(Math.min(limit - 100, 6000)) });
    assert.equal(near, { ok: false, error: 'too_long' });
    assert.ok(talker.connected);
    addFigures('frames', { oversizedFrames: oversized, frameLimit: limit });
  } finally {
    await server.close();
  }
});

frames.run();

// ---

const flood = suite('flood control and per-session memory');

flood('the bucket belongs to the session: a reconnect or a second tab does not refill it', async () => {
  const server = await startServer(); // default: 10 at once, then 1 a second
  try {
    const watcher = server.client({ name: 'watcher' });
    const first = server.client({ name: 'flooder' });
    const [, welcome] = await Promise.all([welcomed(watcher), welcomed(first)]);
    const received = collect(watcher, 'textmsg');
    const acks: (AckResult | 'timeout')[] = [];
    for (let i = 0; i < 12; i++) acks.push(await sendText(first, { content: `burst ${i}` }));
    assert.equal(acks.map((a) => a !== 'timeout' && a.ok), [...Array(10).fill(true), false, false]);
    assert.equal(acks[10], { ok: false, error: 'rate_limited' });
    first.close();
    await waitUntil(() => server.chat.stats().online === 1, 'the flooder left');
    const again = server.client({ name: 'flooder', session: welcome.session });
    const tab = server.client({ name: 'flooder', session: welcome.session });
    await Promise.all([welcomed(again), welcomed(tab)]);
    assert.equal(await sendText(again, { content: 'after reconnect' }), { ok: false, error: 'rate_limited' });
    assert.equal(await sendText(tab, { content: 'from a second tab' }), { ok: false, error: 'rate_limited' });
    const other = server.client({ name: 'bystander' });
    await welcomed(other);
    const otherAck = await sendText(other, { content: 'not affected' });
    assert.ok(otherAck !== 'timeout' && otherAck.ok, 'another person is not limited');
    await sleep(1100);
    const refilled = [await sendText(tab, { content: 'one more' }), await sendText(again, { content: 'too soon' })];
    assert.ok(refilled[0] !== 'timeout' && refilled[0].ok, 'one token a second');
    assert.equal(refilled[1], { ok: false, error: 'rate_limited' });
    await waitUntil(() => received.some((m) => m.content === 'one more'), 'the refilled message');
    await sleep(100);
    assert.is(received.filter((m) => m.name === 'flooder').length, 11, 'refused messages reached no one');
  } finally {
    await server.close();
  }
});

flood('cid memory is capped at 100 per session: recent retries dedupe, the oldest is forgotten', async () => {
  const server = await startServer({ rateLimit: false });
  try {
    const watcher = server.client({ name: 'watcher' });
    const sender = server.client({ name: 'sender' });
    await Promise.all([welcomed(watcher), welcomed(sender)]);
    const received = collect(watcher, 'textmsg');
    const first = new Map<number, AckResult>();
    for (let i = 0; i < 150; i++) {
      const ack = await sendText(sender, { content: `m${i}`, cid: `c${i}` });
      assert.ok(ack !== 'timeout' && ack.ok);
      first.set(i, ack);
    }
    await waitUntil(() => received.length === 150, '150 messages');
    for (let i = 149; i >= 50; i--) assert.equal(await sendText(sender, { content: `retry ${i}`, cid: `c${i}` }), first.get(i), `cid c${i}`);
    await sleep(100);
    assert.is(received.length, 150, 'a retry within the last 100 was delivered again');
    const forgotten = await sendText(sender, { content: 'm0 again', cid: 'c0' });
    assert.ok(forgotten !== 'timeout' && forgotten.ok && forgotten.id !== (first.get(0) as { id: string }).id, 'the 101st-oldest cid is no longer remembered');
  } finally {
    await server.close();
  }
});

flood.run();

// ---

const connection = suite('one connection cannot pile up state');

/** The Engine.IO socket behind the only raw connection. */
function engineSocket(chat: { io: { engine: unknown } }) {
  const clients = (chat.io.engine as { clients: Record<string, { listenerCount(e: string): number }> }).clients;
  return Object.values(clients)[0];
}

connection('CONNECT/DISCONNECT cycles on one WebSocket leave no listener or socket behind', async () => {
  const server = await startServer();
  try {
    const raw = rawClient(server.port);
    const welcome = await raw.join({ name: 'cycler' });
    const baseline = engineSocket(server.chat).listenerCount('close');
    for (let i = 0; i < 300; i++) {
      const [socket] = server.chat.io.of('/').sockets.values();
      const gone = new Promise((resolve) => socket.once('disconnect', resolve));
      raw.send('41');
      await within(gone, 3000, 'the server handled the DISCONNECT'); // a CONNECT before the server has handled the DISCONNECT would (rightly) close the connection
      await raw.join({ name: 'cycler', session: welcome.session });
    }
    assert.is(server.chat.io.of('/').sockets.size, 1);
    assert.is(server.chat.stats().online, 1);
    const listeners = engineSocket(server.chat).listenerCount('close');
    assert.ok(listeners <= baseline + 1, `the connection holds ${listeners} 'close' listeners after 300 cycles (was ${baseline}): one per cycle, each keeping its Socket`);
    raw.ws.terminate();
    await waitUntil(() => server.chat.stats().online === 0, 'the cycler is offline');
  } finally {
    await server.close();
  }
});

connection('a second CONNECT on a live connection closes it instead of stacking sockets', async () => {
  const server = await startServer();
  try {
    const raw = rawClient(server.port);
    const welcome = await raw.join({ name: 'stacker' });
    for (let i = 0; i < 20; i++) raw.send(`40${JSON.stringify({ name: 'stacker', session: welcome.session })}`);
    await within(raw.closed, 5000, 'the stacked connection closed');
    await waitUntil(() => server.chat.stats().online === 0, 'the stacker is offline');
    assert.is(server.chat.io.of('/').sockets.size, 0);
  } finally {
    await server.close();
  }
});

connection.run();

// ---

const privacy = suite('privacy');

privacy('a private message reaches its two people and no third (not even the teacher), live, by typing, or in any history', async () => {
  const server = await startServer({ rateLimit: false, teacherKey: 'the-teacher-key-of-ms-li' });
  try {
    const ann = server.client({ name: 'ann' });
    const ben = server.client({ name: 'ben' });
    const eve = server.client({ name: 'eve' });
    const teacher = server.client({ name: 'teacher', teacherKey: 'the-teacher-key-of-ms-li' });
    const [, benWelcome, eveWelcome] = await Promise.all([welcomed(ann), welcomed(ben), welcomed(eve), welcomed(teacher)]);
    const thirdMessages = [collect(eve, 'textmsg'), collect(teacher, 'textmsg')];
    const thirdTyping = [collect(eve, 'typing'), collect(teacher, 'typing')];
    const benMessages = collect(ben, 'textmsg');
    const benTyping = collect(ben, 'typing');
    const group = await sendText(ann, { content: 'hello all' });
    ann.emit('typing', { to: 'ben' });
    for (let i = 0; i < 5; i++) await sendText(ann, { content: `${PRIVATE_MARK} ${i}`, to: i % 2 ? 'BEN' : 'ben' });
    await sendText(ben, { content: `${PRIVATE_MARK} reply`, to: 'ann' });
    await waitUntil(() => benMessages.length === 7 && benTyping.some((t) => t.to === 'ben'), 'ben has all');
    await sleep(100);
    const leaks = () => thirdMessages.flat().filter((m) => m.to !== undefined || m.content.includes(PRIVATE_MARK)).length
      + thirdTyping.flat().filter((t) => t.to !== undefined).length;
    assert.is(leaks(), 0);
    assert.is(thirdMessages[1].length, 1, 'the teacher saw the group message');
    // Eve's catch-up and a fresh welcome hold the group message only.
    eve.close();
    const eveBack = server.client({ name: 'eve', session: eveWelcome.session, lastId: group !== 'timeout' && group.ok ? group.id : undefined });
    const history = (await welcomed(eveBack)).history;
    const fresh = (await welcomed(server.client({ name: 'eve2' }))).history;
    // Taking ben's nickname once he left, without his session, reveals nothing of his.
    ben.close();
    await waitUntil(() => server.chat.stats().online === 4, 'ben left'); // ann, eve, eve2, the teacher
    const impostor = (await welcomed(server.client({ name: 'ben' }))).history;
    const wrongName = (await welcomed(server.client({ name: 'mallory', session: benWelcome.session }))).history;
    const transcript = await getPage(`${server.url}/api/transcript?format=json`, { authorization: 'Bearer the-teacher-key-of-ms-li' });
    assert.is(transcript.status, 200);
    const leaked = [history, fresh, impostor, wrongName, JSON.parse(transcript.body) as TextMsg[]].flat()
      .filter((m) => m.to !== undefined || m.content.includes(PRIVATE_MARK));
    assert.equal(leaked, []);
    assert.equal(fresh.map((m) => m.content), ['hello all']);
    addFigures('privacy', { privateLeaks: leaks() + leaked.length });
  } finally {
    await server.close();
  }
});

privacy.run();
