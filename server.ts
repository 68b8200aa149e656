// Classroom chat: the one Express + Socket.IO server. HTTP routes, the Socket.IO wiring, and the CLI at the
// bottom; the chat itself lives in chat/ (one concern per file), its storage behind chat/store.ts.
import express from 'express';
import { createServer, ServerResponse, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Server as NetServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import fs from 'node:fs';
import { Server } from 'socket.io';
import { renderSVG, renderUnicodeCompact } from 'uqr';
import {
  DEFAULT_ROOM, isContentError, isPlainObject, toContent, toLanguage, toRefusal, type Refusal,
  type ClientToServerEvents, type InterServerEvents, type ServerToClientEvents, type SocketData,
} from './chat/contract.ts';
import { HANDLERS } from './chat/events.ts';
import { compressedStatic, readersStrings, securityHeaders } from './chat/static-files.ts';
import { announce, toMarkdown, transcriptOf } from './chat/teacher.ts';
import { joinPage, lanAddresses, lanUrls, type SecureAddresses } from './chat/join-page.ts';
import type { Certificates } from './chat/certificates.ts';
import { createFileStore } from './chat/file-store.ts';
import { joinCluster } from './chat/cluster.ts';
import { DEFAULT_RATE, toHttpsPort, toMegabytes, toRateLimit, toRedisAdapter, toTrustProxy } from './chat/settings.ts';
import { ROOM_RATE, type Rate } from './chat/rules.ts';
import { School, type KeyRole } from './chat/school.ts';
import { LIMITS, type ChatSocket, type Limits, type Room } from './chat/room.ts';
import { PictureDisk } from './chat/picture-disk.ts';
import { MAX_CHUNK, UPLOAD_ID_RE } from './chat/file-uploads.ts';
import { MIME_BY_EXT, toFileName } from './chat/file-types.ts';
import type { ChatStore } from './chat/store.ts';

const SESSION_TTL_MS = 24 * 3600_000; // an offline session is forgotten after this
const SWEEP_MS = 60_000;
const PRESENCE_LIMIT = 100; // above this many people in a room, `online` tells only the count and the list is capped
const MAX_UPLOADING = 16 * 1024 * 1024; // bytes held by all unfinished picture uploads together
const MAX_FRAME = 40 * 1024; // one picture chunk, or 2000 JSON-escaped characters; larger drops the sender
const MAX_BODY = '16kb';
const MAX_PUSH_TO = 500;
const EMPTY_HANDSHAKE = Object.freeze({ headers: {}, time: '', address: '', xdomain: false, secure: false, issued: 0, url: '', query: {}, auth: {} });
const PUBLIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'public');

export interface ChatOptions {
  dataDir?: string;
  store?: ChatStore; // the file store under dataDir when absent
  redisUrl?: string; // a node of a cluster: everything in this Redis, shared with the other nodes (no dataDir)
  redisAdapter?: 'streams' | 'pubsub'; // how broadcasts cross nodes: a Redis stream (default) or Redis pub/sub
  rateLimit?: Rate | false;
  roomRate?: Rate | false; // the whole room's ceiling; off when rateLimit is off
  presenceLimit?: number;
  allowedOrigins?: string[];
  publicUrl?: string; // the address students open when it is not this server's own (a load balancer's)
  trustProxy?: string; // Express's "trust proxy": whose X-Forwarded-For names the client (a load balancer's address)
  httpsPort?: number; // also serve over TLS on this port (0: any free one), with a certificate of the server's own CA in dataDir/tls
  sessionTtlMs?: number;
  teacherKey?: string; // the server (admin) key
  limits?: Partial<Limits>;
  log?: (line: string) => void;
}

type Req = express.Request;
type Res = express.Response;
type Next = express.NextFunction;

export function createChatServer(options: ChatOptions = {}) {
  const rate = options.rateLimit === undefined ? DEFAULT_RATE : options.rateLimit;
  const allowedOrigins = new Set(options.allowedOrigins ?? []);
  const log = options.log ?? ((line: string) => console.log(line));
  const limits = { ...LIMITS, ...options.limits };
  const node = options.redisUrl ? joinCluster(options.redisUrl, options.redisAdapter, log) : null;
  const dataDir = options.dataDir ?? './data';
  const store = node?.store ?? options.store ?? createFileStore(dataDir, log);
  let certificates: Certificates | null = null; // with HTTPS on, once ready

  // ---- HTTP

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', toTrustProxy(options.trustProxy));
  const isTrusted = app.get('trust proxy fn') as (address: string, hop: number) => boolean;
  app.use(securityHeaders);
  app.get('/healthz', (_req, res) => { // the load balancer's check: a node that cannot reach Redis serves no one
    const isUp = !!school && (!node || node.store.redis.status === 'ready');
    res.status(isUp ? 200 : 503).type('text/plain').send(isUp ? 'ok' : 'not ready');
  });
  app.get('/join', withRoom, (_req, res) => {
    res.type('html').send(joinPage(res.locals.room, roomUrls(res.locals.room, false), secureAddresses(res.locals.room)));
  });
  app.get('/join.svg', withRoom, (_req, res) => { res.type('image/svg+xml').send(renderSVG(roomUrls(res.locals.room)[0])); });
  app.get('/ca.crt', onCaCertificate);
  app.use(readersStrings);
  app.use(compressedStatic(PUBLIC_DIR));
  app.use(express.static(PUBLIC_DIR, { extensions: ['html'] }));
  app.get('/images/:room/:file', serveStored('image/'));
  app.get('/media/:room/:file', serveStored('audio/'));
  app.get('/files/:room/:file/:name', serveStored());
  app.get('/api/uploads/:room/:upload', onUploadStatus);
  app.put('/api/uploads/:room/:upload', express.raw({ type: () => true, limit: MAX_CHUNK }), onUploadChunk);
  app.get('/api/rooms/:id', (req, res) => {
    const room = school.rooms.get(req.params.id);
    if (!room) return res.status(404).json({ error: 'No such class.' });
    res.json({ id: room.id, title: room.meta.title });
  });
  app.get('/api/rooms', requireKey, requireAdmin, (_req, res) => { res.json([...school.rooms.values()].map(toRoomInfo)); });
  app.post('/api/rooms', requireKey, requireAdmin, express.json({ limit: MAX_BODY }), onCreateRoom);
  app.delete('/api/rooms/:id', requireKey, requireAdmin, onDeleteRoom);
  app.post('/api/push', requireKey, express.json({ limit: MAX_BODY }), onPush);
  app.get('/api/transcript', requireKey, onTranscript);
  app.use((_req, res) => { res.status(404).type('text/plain').send('Not found'); });
  app.use((err: Error & { status?: number }, _req: Req, res: Res, _next: Next) => {
    const status = err.status || 500;
    if (status >= 500) log(`error: ${err.stack ?? err.message}`);
    const sentence = status === 413 ? `The body is larger than ${MAX_BODY}.`
      : status === 400 ? `The body is not valid JSON (${err.message}).` : status >= 500 ? 'Internal error.' : err.message;
    res.status(status).json({ error: sentence });
  });

  /** The room named by `?room=` (the default room without one); 404 for an unknown room. */
  function withRoom(req: Req, res: Res, next: Next) {
    const room = school.get(req.query.room);
    if (!room) return res.status(404).type('text/plain').send('No such class.');
    res.locals.room = room;
    next();
  }

  const roomQuery = (room: Room) => room.id === DEFAULT_ROOM ? '' : `?room=${room.id}`;

  function roomUrls(room: Room, withLocalhost = true): string[] {
    const bases = options.publicUrl ? [options.publicUrl.replace(/\/*$/, '/')] : lanUrls(portOf(httpServer), { withLocalhost });
    return bases.map((u) => u + roomQuery(room));
  }

  /** A room's https addresses for the projector page: none with HTTPS off, or behind a load balancer (PUBLIC_URL). */
  function secureAddresses(room: Room): SecureAddresses | undefined {
    if (!certificates || !httpsServer || options.publicUrl) return undefined;
    const urls = lanUrls(portOf(httpsServer), { withLocalhost: false, scheme: 'https' });
    return { urls: urls.map((u) => u + roomQuery(room)), caName: certificates.caName };
  }

  /** The CA devices trust once for HTTPS: a certificate, public by nature, so over plain HTTP too. */
  function onCaCertificate(_req: Req, res: Res) {
    if (!certificates) return res.status(404).type('text/plain').send('Not found');
    res.attachment('classroom-chat-ca.crt').type('application/x-x509-ca-cert').send(Buffer.from(certificates.ca));
  }

  const toRoomInfo = (room: Room) => {
    const url = roomUrls(room, false)[0];
    return { id: room.id, title: room.meta.title, online: room.people.online.size, teacherKey: room.meta.teacherKey, url, teacherUrl: `${url}#teacher=${room.meta.teacherKey}` };
  };

  /** A bearer key: the admin key or a room's teacher key. Wrong keys are slowed down per address. */
  function requireKey(req: Req, res: Res, next: Next) {
    const address = req.ip ?? '';
    if (school.isBlocked(address)) return res.status(429).json({ error: 'Too many wrong keys from this address. Try again in a few minutes.' });
    const [scheme, token] = (req.get('authorization') ?? '').split(' ');
    const role = scheme === 'Bearer' ? school.roleOf(token) : null;
    if (role) {
      res.locals.role = role;
      return next();
    }
    if (scheme === 'Bearer' && token) school.failedKey(address);
    res.status(401).set('WWW-Authenticate', 'Bearer').json({ error: 'A valid key is needed: Authorization: Bearer <key>.' });
  }

  function requireAdmin(_req: Req, res: Res, next: Next) {
    if ((res.locals.role as KeyRole).admin) return next();
    res.status(403).json({ error: 'Only the admin key manages rooms.' });
  }

  /** The room a push or transcript is for (the default room if not named), if this key may use it. */
  function keyedRoom(raw: unknown, res: Res): Room | undefined {
    const room = school.get(raw);
    const role = res.locals.role as KeyRole;
    if (!room) res.status(404).json({ error: 'No such class.' });
    else if (!role.admin && role.room !== room.id) res.status(403).json({ error: 'This key is the teacher key of another class.' });
    else return room;
  }

  async function onCreateRoom(req: Req, res: Res) {
    const result = await school.create(isPlainObject(req.body) ? req.body : {});
    if ('error' in result) return res.status(result.status).json({ error: result.error });
    log(`room ${result.id} created: ${result.meta.title}`);
    res.status(201).json(toRoomInfo(result));
  }

  async function onDeleteRoom(req: Req, res: Res) {
    const id = String(req.params.id);
    if (id === DEFAULT_ROOM) return res.status(409).json({ error: 'The default room cannot be deleted.' });
    if (!school.rooms.has(id)) return res.status(404).json({ error: 'No such class.' });
    await school.remove(id);
    log(`room ${id} deleted`);
    res.status(204).end();
  }

  function onPush(req: Req, res: Res) {
    const { content: raw, to, room: roomId } = isPlainObject(req.body) ? req.body : ({} as Record<string, unknown>);
    const room = keyedRoom(roomId, res);
    if (!room) return;
    const content = toContent(raw);
    if (isContentError(content)) return res.status(400).json({ error: '"content" must be a text of 1 to 2000 characters.' });
    const isNameList = Array.isArray(to) && to.length <= MAX_PUSH_TO && to.every((n) => typeof n === 'string');
    if (to !== undefined && !isNameList) {
      return res.status(400).json({ error: `"to" must be a list of at most ${MAX_PUSH_TO} nicknames, or left out for everyone.` });
    }
    res.json(announce(room, content, to as string[] | undefined));
  }

  function onTranscript(req: Req, res: Res) {
    const room = keyedRoom(req.query.room, res);
    if (!room) return;
    const format = req.query.format ?? 'md';
    if (format !== 'md' && format !== 'json') return res.status(400).json({ error: '"format" must be md or json.' });
    const messages = transcriptOf(room);
    const day = new Date().toLocaleDateString('sv'); // YYYY-MM-DD in local time, like the lines
    res.attachment(`transcript-${room.id}-${day}.${format}`);
    if (format === 'json') return res.json(messages);
    res.type('text/markdown').send(toMarkdown(room.meta.title, day, messages));
  }

  /** Stored files as what they were judged to be, never run, never sniffed, never framed; a 404 once gone.
   * `only`: a route for pictures or for voice serves nothing else. Without it, a shared file: only ever a download
   * under its name made safe; its URL is all the access there is (a private one is only ever sent to its two people). */
  function serveStored(only?: 'image/' | 'audio/') {
    return async (req: Req, res: Res) => {
      const file = String(req.params.file);
      const ext = file.split('.').pop()!;
      const type = MIME_BY_EXT[ext];
      const bytes = type?.startsWith(only ?? '') ? await store.readPicture(String(req.params.room), file) : null;
      if (!bytes) return res.status(404).type('text/plain').send('Not found');
      res.set({ 'Content-Security-Policy': "default-src 'none'; sandbox", 'Cache-Control': 'private, max-age=86400' });
      if (!only) res.attachment(toFileName(String(req.params.name), ext));
      res.type(type).send(bytes);
    };
  }

  /** Who uploads: the session named by X-Chat-Session, in the room of the path; a 404 for anyone else. */
  function uploader(req: Req, res: Res) {
    const room = school.rooms.get(String(req.params.room));
    const session = room?.people.get(req.get('x-chat-session'));
    const upload = String(req.params.upload);
    if (room && session && UPLOAD_ID_RE.test(upload) && !room.rules.isKicked(session.key, session.id)) return { room, session, upload };
    res.status(404).json({ error: 'not_found' });
    return null;
  }

  /** How much of an upload arrived (a page that lost track goes on from there). */
  function onUploadStatus(req: Req, res: Res) {
    const who = uploader(req, res);
    if (!who) return;
    res.set('Cache-Control', 'no-store').json(who.room.files.status(who.session.id, who.upload) ?? { received: 0 });
  }

  /** One chunk of an upload: `Content-Range: bytes <first>-<last>/<total>` (or the whole file without it). */
  async function onUploadChunk(req: Req, res: Res) {
    const who = uploader(req, res);
    if (!who) return;
    const { room, session, upload } = who;
    const kind = req.query.kind === 'voice' ? 'voice' : 'file';
    if (kind === 'file' && !session.isTeacher && !room.rules.files) return res.status(403).json({ error: 'not_allowed' });
    const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(req.get('content-range') ?? '');
    if (req.get('content-range') && (!range || Number(range[2]) !== Number(range[1]) + bytes.length - 1)) {
      return res.status(400).json({ error: 'invalid_message' });
    }
    const [start, total] = range ? [Number(range[1]), Number(range[3])] : [0, bytes.length];
    const result = await room.files.chunk(session.id, upload, kind, start, total, bytes);
    if ('error' in result) {
      if (result.error === 'disk_full') room.say(`the disk is full: an upload of ${session.name} was refused`);
      return res.status(result.status).json({ error: result.error, received: result.received });
    }
    if ('done' in result) return res.status(201).json({ received: result.done.size, done: true, type: result.done.type.mime });
    res.json({ received: result.received });
  }

  // ---- Socket.IO

  const httpServer = createServer(app);
  const httpsServer = options.httpsPort === undefined ? null : createHttpsServer(); // its listeners are mirrored below, its certificate comes with `ready`
  const io = new Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>(httpServer, {
    maxHttpBufferSize: MAX_FRAME,
    ...(node && { adapter: node.adapter }),
    allowRequest: (req, callback) => callback(null, isOriginAllowed(req, allowedOrigins)),
  });

  // The HTTP request is only needed during the handshake, yet engine.io keeps it (~1 KB) as long as the
  // connection: as the socket's `request`, and in the stand-in response of a WebSocket upgrade, whose `req`
  // only middlewares use (this is the only one).
  io.engine.use((_req: IncomingMessage, res: ServerResponse | { req: unknown }, next: () => void) => {
    if (!(res instanceof ServerResponse)) res.req = null;
    next();
  });
  io.engine.on('connection', (rawSocket: { request: IncomingMessage | null }) => { rawSocket.request = null; });
  if (httpsServer) mirror(httpServer, httpsServer);

  let school!: School;
  const ready = School.open({
    io, store, log, rate,
    roomRate: rate ? (options.roomRate ?? ROOM_RATE) : false,
    listLimit: options.presenceLimit ?? PRESENCE_LIMIT,
    sessionTtlMs: options.sessionTtlMs ?? SESSION_TTL_MS,
    uploadBudget: { held: 0, max: MAX_UPLOADING },
    disk: new PictureDisk(limits.roomPictureBytes, limits.totalPictureBytes),
    partsDir: join(dataDir, 'uploads'),
    crowd: { online: 0 },
    limits,
    cluster: node?.cluster,
  }, options.teacherKey).then((opened) => { school = opened; }).then(() => httpsServer && loadTls(httpsServer));

  async function loadTls(server: HttpsServer) {
    const { loadCertificates } = await import('./chat/certificates.ts'); // only with HTTPS on: the X.509 library weighs ~15 MB
    certificates = await loadCertificates(dataDir, lanAddresses());
    server.setSecureContext({ key: certificates.key, cert: certificates.cert });
    if (certificates.isNewCa) log(`HTTPS: made a certificate authority in ${join(dataDir, 'tls')}: each device trusts it once (/ca.crt; the steps are on /join)`);
    else if (certificates.isNew) log('HTTPS: made a new server certificate for these addresses, by the same authority (nothing to do on the devices)');
  }

  io.use((socket, next) => {
    const auth = isPlainObject(socket.handshake.auth) ? socket.handshake.auth : {};
    const settle = (result: Room | Refusal) => {
      if (typeof result === 'string') return next(toRefusal(result, toLanguage(auth)));
      next();
      // A connection that closed in the same write as its handshake never connects, so no 'disconnect' will
      // release what admit() claimed: Socket.IO decides on the next tick, and this tick comes after it.
      process.nextTick(() => { if (!socket.connected) result.release(socket); });
    };
    const result = school.admit(socket, auth, clientAddress(socket.handshake.address, socket.handshake.headers['x-forwarded-for']));
    if (result instanceof Promise) result.then(settle);
    else settle(result);
  });

  io.on('connection', (socket) => {
    const room = school.rooms.get(socket.data.room);
    if (room && socket.data.waiting) { // a locked room: this page waits for the teacher, in no Socket.IO room
      socket.onAny(onEvent);
      socket.on('disconnect', onDisconnect);
      room.waiting.connected(socket);
      return;
    }
    const session = room?.people.get(socket.data.session);
    if (!room || !session) return void socket.disconnect(true); // its room was deleted in between
    socket.onAny(onEvent);
    socket.on('disconnect', onDisconnect);
    room.welcome(socket, session, socket.handshake.auth?.lastId);
    (socket as { handshake: unknown }).handshake = EMPTY_HANDSHAKE; // read above, never again: ~0.5 KB per idle socket
  });

  // One listener shared by every socket (no closures per connection).
  function onEvent(this: ChatSocket, event: unknown, ...args: unknown[]) {
    try {
      const room = school.rooms.get(this.data.room);
      const session = room?.people.get(this.data.session);
      if (typeof event === 'string' && Object.hasOwn(HANDLERS, event) && room && session) return HANDLERS[event](room, session, this, args);
      const ack = args[args.length - 1];
      if (typeof ack === 'function') ack({ ok: false, error: 'invalid_message' }); // unknown event
    } catch (err) { // a bug must cost one message, never the server
      log(`error handling ${String(event).slice(0, 40)}: ${(err as Error).stack}`);
    }
  }

  function onDisconnect(this: ChatSocket) {
    school.rooms.get(this.data.room)?.release(this);
  }

  /** The client's address: the connection's, or behind a trusted proxy the one it forwarded (as req.ip). */
  function clientAddress(address: string, forwarded: string | string[] | undefined): string {
    const hops = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded ?? '').split(',').map((h) => h.trim()).filter(Boolean);
    for (let i = 0; hops.length && isTrusted(address, i); i++) address = hops.pop()!;
    return address;
  }

  // ---- lifecycle

  let sweeper: NodeJS.Timeout | undefined;

  /** Listens on `port` (plain HTTP) and, with HTTPS on, on options.httpsPort; both on `host`. */
  async function listen(port = 0, host = '127.0.0.1'): Promise<{ port: number; host: string; httpsPort?: number }> {
    await ready;
    sweeper ??= setInterval(() => school.sweep(), SWEEP_MS).unref();
    await listenOn(httpServer, port, host);
    httpServer.on('error', onServerError);
    if (!httpsServer) return { port: portOf(httpServer), host };
    await listenOn(httpsServer, options.httpsPort!, host);
    httpsServer.on('error', onServerError);
    return { port: portOf(httpServer), host, httpsPort: portOf(httpsServer) };
  }

  /** EMFILE and the like on accept: said in the terminal (once a minute), the server goes on with who it has. */
  let lastServerError = 0;
  function onServerError(err: NodeJS.ErrnoException) {
    if (Date.now() - lastServerError < 60_000) return;
    lastServerError = Date.now();
    const hint = err.code === 'EMFILE' || err.code === 'ENFILE' ? ' (too many open files: raise `ulimit -n`; new connections wait meanwhile)' : '';
    log(`network error: ${err.message}${hint}`);
  }

  let closing: Promise<void> | null = null;
  /** Tells the pages, writes what was accepted, stops accepting, syncs the files. */
  function close(): Promise<void> {
    closing ??= (async () => {
      await ready.catch(() => {});
      clearInterval(sweeper);
      io.emit('restarting');
      for (const room of school?.rooms.values() ?? []) room.commitBatch();
      const closed = Promise.all([
        new Promise<void>((resolve) => io.close(() => resolve())), // its engine serves both servers; closes httpServer
        httpsServer && new Promise<void>((resolve) => httpsServer.close(() => resolve())),
      ]);
      httpServer.closeAllConnections(); // a keep-alive (long-polling) connection would otherwise hold close() open
      httpsServer?.closeAllConnections();
      await closed;
      await school?.close();
      node?.closeAdapter();
    })();
    return closing;
  }

  const sum = (f: (r: Room) => number) => [...school.rooms.values()].reduce((n, r) => n + f(r), 0);
  return {
    app, httpServer, httpsServer, io, listen, close, ready,
    redisWhere: node?.store.where,
    get school() { return school; },
    /** The server (admin) key: teacher in every room, and the key that manages rooms. */
    get teacherKey() { return school.adminKey; },
    /** Sizes of the internal maps, for tests that check nothing leaks. */
    stats: () => ({
      sessions: sum((r) => r.people.sessions.size), online: sum((r) => r.people.online.size),
      privates: sum((r) => r.convs.privateCount), group: sum((r) => r.convs.group.length),
    }),
    sweepSessions: (now?: number) => school.sweep(now),
  };
}

function isOriginAllowed(req: IncomingMessage, allowed: Set<string>): boolean {
  const origin = req.headers.origin;
  if (!origin) return true; // not a browser page: nothing to hijack
  if (allowed.has(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** `to` answers as `from` does: the listeners Express and Socket.IO put on it (the app, Socket.IO's client files,
 * the engine.io server). io.attach(to) would make a second engine, which io.engine and io.close would not know. */
function mirror(from: HttpServer, to: HttpsServer) {
  for (const event of ['request', 'upgrade']) for (const listener of from.listeners(event)) to.on(event, listener as (...args: unknown[]) => void);
}

function listenOn(server: NetServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(); });
  });
}

function portOf(server: NetServer): number {
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

// --- CLI entry

async function main() {
  const env = process.env;
  const chat = createChatServer({
    dataDir: env.DATA_DIR || './data',
    rateLimit: toRateLimit(env.RATE_LIMIT),
    allowedOrigins: env.ALLOWED_ORIGINS?.split(',').map((o) => o.trim()).filter(Boolean),
    teacherKey: env.TEACHER_KEY,
    redisUrl: env.REDIS_URL || undefined,
    trustProxy: env.TRUST_PROXY,
    publicUrl: env.PUBLIC_URL || undefined,
    redisAdapter: toRedisAdapter(env.REDIS_ADAPTER),
    httpsPort: toHttpsPort(env.HTTPS_PORT),
    limits: {
      roomPictureBytes: toMegabytes(env.ROOM_FILES_MB, 'ROOM_FILES_MB', LIMITS.roomPictureBytes),
      totalPictureBytes: toMegabytes(env.FILES_MB, 'FILES_MB', LIMITS.totalPictureBytes),
    },
  });
  const { port, httpsPort } = await chat.listen(Number(env.PORT ?? 3000), env.HOST || '0.0.0.0');
  const students = env.PUBLIC_URL ? [env.PUBLIC_URL] : lanUrls(port, { withLocalhost: false });
  if (env.REDIS_URL) console.log(`A node of the school on Redis at ${chat.redisWhere}, listening on port ${port}.`);
  console.log('Classroom chat is running. Students can open:');
  for (const url of students) console.log(`  ${url}`);
  if (httpsPort !== undefined) {
    console.log(`For voice messages and recording, over HTTPS (each device trusts ${new URL('/ca.crt', students[0]).href} once; the steps are on /join):`);
    for (const url of lanUrls(httpsPort, { withLocalhost: false, scheme: 'https' })) console.log(`  ${url}`);
  }
  console.log(renderUnicodeCompact(students[0]));
  console.log(`To show this on the projector, open http://localhost:${port}/join`);
  console.log('\n──────── keep what follows to yourself: these links carry keys ────────');
  console.log(`Teacher link of this class: http://localhost:${port}/#teacher=${chat.school.get(DEFAULT_ROOM)!.meta.teacherKey}`);
  console.log(`Admin link (every class, creates rooms): http://localhost:${port}/admin#key=${chat.teacherKey}`);
  const stop = async (signal: string) => {
    console.log(`\n${signal}: saving messages and stopping…`);
    setTimeout(() => process.exit(1), 5000).unref();
    await chat.close();
    process.exit(0);
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  main().catch((err) => { console.error(`Could not start: ${err.message}`); process.exit(1); });
}
