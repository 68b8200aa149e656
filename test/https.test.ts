// HTTPS on the LAN: the server's CA and certificate in DATA_DIR/tls (made once, the leaf re-made for new addresses by
// the same CA), the TLS server beside the plain one with the CA as the only trust anchor, /ca.crt, the projector page,
// and no address that serves a private key.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { io as ioClient } from 'socket.io-client';
import { loadCertificates } from '../chat/certificates.ts';
import { lanAddresses } from '../chat/join-page.ts';
import { startServer, tempDir, waitFor, welcomed, say, type Client, type TestServer } from './helpers.ts';

const LAN = '192.168.50.7';
const DAY_MS = 86_400_000;
const FILES = ['ca.key', 'ca.crt', 'server.key', 'server.crt'];

const readTls = (dir: string) => Object.fromEntries(FILES.map((f) => [f, fs.readFileSync(join(dir, 'tls', f))]));
const days = (cert: X509Certificate) => (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / DAY_MS;

async function inTempDir(body: (dir: string) => Promise<void>) {
  const dir = tempDir('chat-tls-');
  try { await body(dir); } finally { fs.rmSync(dir, { recursive: true, force: true }); }
}

type Reply = { status: number; headers: IncomingHttpHeaders; body: string; peer: Buffer | null };

/** GET of a path sent exactly as written (no URL normalising), over HTTPS when `ca` is given. */
function get(port: number, path: string, { ca, host = '127.0.0.1' }: { ca?: string; host?: string } = {}): Promise<Reply> {
  const send = ca ? https.get : http.get;
  return new Promise((resolve, reject) => {
    const req = send({ host, port, path, ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({
        status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'),
        peer: ca ? (res.socket as TLSSocket).getPeerCertificate().raw : null,
      }));
    });
    req.on('error', reject);
  });
}

const httpsPortOf = (s: TestServer) => (s.chat.httpsServer!.address() as AddressInfo).port;
const caOf = (s: TestServer) => fs.readFileSync(join(s.dataDir, 'tls', 'ca.crt'), 'utf8');

/** A real server with HTTPS on an ephemeral port beside the plain one, always closed. */
async function withHttps(body: (s: TestServer, httpsPort: number, ca: string) => Promise<void>) {
  const s = await startServer({ rateLimit: false, httpsPort: 0 });
  try { await body(s, httpsPortOf(s), caOf(s)); } finally { await s.close(); }
}

// ---

const certificates = suite('certificates in DATA_DIR/tls');

certificates('made once, then reused at the next start: the same CA and leaf bytes; the keys are 0600', () => inTempDir(async (dir) => {
  const first = await loadCertificates(dir, [LAN]);
  assert.ok(first.isNew && first.isNewCa);
  const files = readTls(dir);
  for (const key of ['ca.key', 'server.key']) {
    assert.is(fs.statSync(join(dir, 'tls', key)).mode & 0o777, 0o600, key);
    assert.match(files[key].toString(), /^-----BEGIN PRIVATE KEY-----/);
  }
  const second = await loadCertificates(dir, [LAN]);
  assert.not.ok(second.isNew || second.isNewCa);
  assert.equal(readTls(dir), files, 'nothing written again');
  assert.equal([second.ca, second.cert, second.key], [first.ca, first.cert, first.key]);
  assert.is(first.ca, files['ca.crt'].toString());
}));

certificates('the leaf is a server certificate for the LAN address, localhost, 127.0.0.1 and ::1, signed by the CA, for at most 397 days', () => inTempDir(async (dir) => {
  const made = await loadCertificates(dir, [LAN]);
  const ca = new X509Certificate(made.ca);
  const leaf = new X509Certificate(made.cert);
  assert.ok(ca.ca && !leaf.ca, 'basicConstraints');
  assert.ok(ca.verify(ca.publicKey), 'the CA is self-signed');
  assert.ok(leaf.verify(ca.publicKey), 'the leaf is signed by the CA');
  assert.is(leaf.checkIssued(ca), true);
  for (const ip of [LAN, '127.0.0.1', '::1']) assert.is(leaf.checkIP(ip), ip);
  assert.is(leaf.checkHost('localhost'), 'localhost');
  assert.is(leaf.checkIP('192.168.50.8'), undefined);
  assert.is(leaf.checkHost('example.com'), undefined);
  assert.equal(leaf.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'serverAuth');
  assert.ok(days(leaf) <= 397, `${days(leaf)} days`);
  assert.ok(days(ca) >= 3650, `${days(ca)} days`);
  assert.ok(Date.parse(leaf.validFrom) < Date.now(), 'valid now');
  assert.match(made.caName, /^Classroom chat CA/);
}));

certificates('a changed address list gets a new leaf by the same CA; a key that does not match its certificate too', () => inTempDir(async (dir) => {
  const first = await loadCertificates(dir, [LAN, '10.1.2.3']);
  const moved = await loadCertificates(dir, ['10.1.2.3']); // one network left
  assert.ok(moved.isNew && !moved.isNewCa);
  assert.is(moved.ca, first.ca, 'students trust once');
  assert.is.not(moved.cert, first.cert);
  const leaf = new X509Certificate(moved.cert);
  assert.is(leaf.checkIP('10.1.2.3'), '10.1.2.3');
  assert.is(leaf.checkIP(LAN), undefined);
  assert.ok(leaf.verify(new X509Certificate(moved.ca).publicKey));
  assert.not.ok((await loadCertificates(dir, ['10.1.2.3'])).isNew, 'then kept');

  fs.copyFileSync(join(dir, 'tls', 'ca.key'), join(dir, 'tls', 'server.key')); // a key of another certificate
  const mended = await loadCertificates(dir, ['10.1.2.3']);
  assert.ok(mended.isNew && !mended.isNewCa);
  assert.is.not(mended.key, fs.readFileSync(join(dir, 'tls', 'ca.key'), 'utf8'));
  assert.is(fs.readFileSync(join(dir, 'tls', 'server.key'), 'utf8'), mended.key);
}));

certificates('a leaf with less than 30 days left is made again at start, by the same CA', () => inTempDir(async (dir) => {
  const first = await loadCertificates(dir, [LAN]);
  const realNow = Date.now;
  Date.now = () => realNow() + 370 * DAY_MS; // a start a year and a week later
  try {
    const later = await loadCertificates(dir, [LAN]);
    assert.ok(later.isNew && !later.isNewCa);
    assert.is(later.ca, first.ca);
    assert.ok(Date.parse(new X509Certificate(later.cert).validTo) > realNow() + 700 * DAY_MS, 'good for another 397 days');
  } finally { Date.now = realNow; }
}));

certificates.run();

// ---

const server = suite('the HTTPS server');

server('an HTTPS request with the CA as the only trust anchor succeeds on 127.0.0.1 and localhost; without it, refused', () => withHttps(async (_s, port, ca) => {
  const page = await get(port, '/', { ca });
  assert.is(page.status, 200);
  assert.match(page.body, '<!doctype html>');
  assert.is(page.headers['content-security-policy']?.includes("default-src 'self'"), true, 'the same security headers');
  assert.is((await get(port, '/socket.io/socket.io.esm.min.js', { ca })).status, 200, 'Socket.IO\'s client file too');
  assert.is((await get(port, '/', { ca, host: 'localhost' })).status, 200);
  const error = await new Promise<NodeJS.ErrnoException>((resolve) => {
    https.get({ host: '127.0.0.1', port, agent: false }, () => resolve(new Error('trusted without the CA'))).on('error', resolve);
  });
  assert.is(error.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
}));

server('socket.io-client over wss and over HTTPS long-polling chats with a client on plain HTTP: one Socket.IO server', () => withHttps(async (s, port, ca) => {
  const secure = (name: string, transports: string[]): Client =>
    ioClient(`https://127.0.0.1:${port}`, { ca, auth: { name }, forceNew: true, reconnection: false, transports });
  const ann = secure('Ann', ['websocket']);
  const cat = secure('Cat', ['polling']);
  try {
    const bob = s.client({ name: 'Bob' });
    await Promise.all([welcomed(ann), welcomed(cat), welcomed(bob)]);
    assert.is(ann.io.engine.transport.name, 'websocket');
    const heard = waitFor(bob, 'textmsg', (m) => m.content === 'over TLS');
    const heardToo = waitFor(cat, 'textmsg', (m) => m.content === 'over TLS');
    assert.ok((await say(ann, 'over TLS')).ok);
    await Promise.all([heard, heardToo]);
    const back = waitFor(ann, 'textmsg', (m) => m.content === 'in clear');
    await say(bob, 'in clear');
    await back;
    assert.is(s.chat.stats().online, 3);
  } finally { ann.close(); cat.close(); }
}));

server('made once: a second start on the same DATA_DIR serves the same CA and the same certificate', async () => {
  const dataDir = tempDir('chat-tls-');
  let before: { ca: string; peer: Buffer } | undefined;
  try {
    for (let start = 0; start < 2; start++) {
      const s = await startServer({ rateLimit: false, httpsPort: 0, dataDir });
      try {
        const ca = (await get(s.port, '/ca.crt')).body;
        const { peer } = await get(httpsPortOf(s), '/', { ca });
        if (before) assert.equal({ ca, peer }, before);
        before = { ca, peer: peer! };
      } finally { await s.close({ keepData: true }); }
    }
  } finally { fs.rmSync(dataDir, { recursive: true, force: true }); }
});

server('/ca.crt serves the CA over plain HTTP as a download; 404 with HTTPS off, and nothing made then', async () => {
  await withHttps(async (s, port, ca) => {
    for (const reply of [await get(s.port, '/ca.crt'), await get(port, '/ca.crt', { ca })]) {
      assert.is(reply.status, 200);
      assert.is(reply.headers['content-type'], 'application/x-x509-ca-cert');
      assert.match(String(reply.headers['content-disposition']), /^attachment; filename="?classroom-chat-ca\.crt/);
      assert.is(reply.body, ca);
      assert.ok(new X509Certificate(reply.body).ca);
    }
  });
  const plain = await startServer({ rateLimit: false });
  try {
    assert.is(plain.chat.httpsServer, null);
    assert.is((await get(plain.port, '/ca.crt')).status, 404);
    assert.not.ok(fs.existsSync(join(plain.dataDir, 'tls')), 'no certificates without HTTPS');
    assert.not.match((await get(plain.port, '/join')).body, 'https://');
  } finally { await plain.close(); }
});

server('no address serves a private key, over HTTP or HTTPS', () => withHttps(async (s, port, ca) => {
  const tls = join(s.dataDir, 'tls');
  const paths = [
    '/tls/ca.key', '/tls/server.key', '/data/tls/server.key', '/data/tls/ca.key', '/ca.key', '/server.key', '/tls/',
    '/../data/tls/ca.key', '/../../data/tls/server.key', '/%2e%2e/data/tls/ca.key', '/..%2fdata%2ftls%2fca.key',
    '/..%5cdata%5ctls%5cca.key', '/public/../data/tls/ca.key', '/ca.crt/../tls/ca.key', '/ca.crt%2f..%2ftls%2fca.key',
    `${tls}/ca.key`, `/..${tls}/server.key`, `/${encodeURIComponent(`${tls}/ca.key`)}`,
    '/images/main/..%2f..%2ftls%2fca.key', '/images/..%2f..%2ftls/ca.key', '/images/main/ca.key', '/join?room=../tls/ca.key',
    '/socket.io/../../tls/ca.key', '/socket.io/ca.key',
  ];
  const replies = [];
  for (const path of paths) replies.push([path, await get(s.port, path)] as const, [path, await get(port, path, { ca })] as const);
  for (const path of ['/ca.crt', '/join', '/', '/chat.html', '/join.svg']) replies.push([path, await get(s.port, path)] as const);
  for (const [path, reply] of replies) {
    assert.not.match(reply.body, 'PRIVATE KEY', path);
    if (!['/ca.crt', '/join', '/', '/chat.html', '/join.svg'].includes(path)) assert.is.not(reply.status, 200, path);
  }
}));

server('the projector page shows the https addresses, the CA link and the steps for each kind of device', () => withHttps(async (s, port, ca) => {
  for (const page of [(await get(s.port, '/join')).body, (await get(port, '/join', { ca })).body]) {
    const hosts = lanAddresses().length ? lanAddresses() : ['localhost'];
    for (const host of hosts) assert.match(page, `https://${host}:${port}/`);
    assert.match(page, new RegExp(`<a href="http://[^"]+:${s.port}/ca\\.crt" download>`));
    for (const text of ['For voice messages and recording', '语音消息', 'Trust this server once', '只需信任本服务器一次',
      'Android', 'iPhone', 'Windows', 'macOS', 'ChromeOS', 'Classroom chat CA']) assert.match(page, text);
  }
  const room = await fetch(`${s.url}/api/rooms`, {
    method: 'POST', body: JSON.stringify({ title: '7B', id: '7b' }),
    headers: { authorization: `Bearer ${s.chat.teacherKey}`, 'content-type': 'application/json' },
  });
  assert.is(room.status, 201);
  assert.match((await get(s.port, '/join?room=7b')).body, new RegExp(`https://[^<]+:${port}/\\?room=7b`));
}));

server('close() closes the HTTPS server too', async () => {
  const s = await startServer({ rateLimit: false, httpsPort: 0 });
  const tlsServer = s.chat.httpsServer!;
  const socket = ioClient(`https://127.0.0.1:${httpsPortOf(s)}`, {
    ca: caOf(s), auth: { name: 'Ann' }, forceNew: true, reconnection: false, transports: ['websocket'],
  });
  await welcomed(socket);
  const disconnected = new Promise((resolve) => socket.on('disconnect', resolve));
  await s.close();
  await disconnected;
  assert.not.ok(tlsServer.listening);
  socket.close();
});

server.run();
