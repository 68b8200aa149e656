// The pages' files, made small once and kept in memory: scripts and stylesheets minified (esbuild, the way tsx
// already reads our TypeScript; the files on disk stay as written, and a source map shows them so in DevTools),
// then compressed (Brotli at its best quality, or gzip). A phone on the classroom Wi-Fi gets the chat page's
// first load in about a quarter of its size. Files are read again when they change on disk. Anything else (a
// client that takes neither encoding, a file type not worth it, a missing file) falls through to express.static.
// Also the headers every answer carries, and which dictionary `/strings.js` is for this reader.
import fs from 'node:fs';
import { basename, extname, resolve, sep } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { transformSync } from 'esbuild';
import type { NextFunction, Request, Response } from 'express';

// No charset on scripts: every page loads them as modules, which browsers always read as UTF-8 (HTML spec,
// "fetch a single module script"); it would be 15 bytes of each first-load answer for nothing.
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.js': 'text/javascript',
  '.svg': 'image/svg+xml', '.json': 'application/json; charset=utf-8',
};
const MAP_TYPE = 'application/json; charset=utf-8';
const DOCUMENT_ONLY = ['Content-Security-Policy', 'X-Frame-Options', 'Referrer-Policy']; // they mean nothing on a script or a style

interface Encoded { br: Buffer; gzip: Buffer }
interface Entry { mtimeMs: number; size: number; body: Encoded; map?: Encoded; etag: string }

const encode = (bytes: Buffer): Encoded => ({
  br: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY } }),
  gzip: gzipSync(bytes, { level: 9 }),
});

/** A script or stylesheet as sent: minified, pointing to its source map; any other file as it is. A file esbuild
 * cannot read is sent as written, so the browser reports the mistake where it is. */
export function toSent(file: string, bytes: Buffer): { body: Buffer; map?: Buffer } {
  const ext = extname(file);
  if (ext !== '.js' && ext !== '.css') return { body: bytes };
  const name = basename(file);
  try {
    const out = transformSync(bytes.toString('utf8'), { loader: ext === '.js' ? 'js' : 'css', minify: true, sourcemap: 'external', sourcefile: name });
    const link = ext === '.js' ? `//# sourceMappingURL=${name}.map` : `/*# sourceMappingURL=${name}.map */`;
    return { body: Buffer.from(`${out.code}${link}\n`), map: Buffer.from(out.map) };
  } catch {
    return { body: bytes };
  }
}

export function compressedStatic(dir: string) {
  const root = resolve(dir);
  const cache = new Map<string, Entry>();

  /** The file a URL path names, as express.static finds it (`/` → index.html, `/chat` → chat.html), or null. */
  function toFile(urlPath: string): string | null {
    let path: string;
    try { path = decodeURIComponent(urlPath); } catch { return null; }
    if (path.includes('\0') || path.split('/').some((part) => part.startsWith('.'))) return null; // no dot files, no ..
    const file = resolve(root, `.${path.endsWith('/') ? `${path}index.html` : path}`);
    if (!file.startsWith(root + sep)) return null;
    for (const candidate of extname(file) ? [file] : [file, `${file}.html`]) {
      const stat = fs.statSync(candidate, { throwIfNoEntry: false });
      if (stat?.isFile() && TYPES[extname(candidate)]) return candidate;
    }
    return null;
  }

  function prepared(file: string): Entry {
    const stat = fs.statSync(file);
    const known = cache.get(file);
    if (known && known.mtimeMs === stat.mtimeMs && known.size === stat.size) return known;
    const { body, map } = toSent(file, fs.readFileSync(file));
    const etag = `"${stat.size.toString(36)}-${Math.round(stat.mtimeMs).toString(36)}`;
    const entry: Entry = { mtimeMs: stat.mtimeMs, size: stat.size, body: encode(body), map: map && encode(map), etag };
    cache.set(file, entry);
    return entry;
  }

  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const encoding = req.acceptsEncodings('br', 'gzip');
    const isMap = req.path.endsWith('.map');
    const file = encoding ? toFile(isMap ? req.path.slice(0, -4) : req.path) : null;
    if (!encoding || !file) return next();
    const entry = prepared(file);
    const sent = isMap ? entry.map : entry.body;
    if (!sent) return next();
    const etag = `${entry.etag.slice(0, -1)}-${isMap ? 'map-' : ''}${encoding}"`;
    const type = isMap ? MAP_TYPE : TYPES[extname(file)];
    if (!type.startsWith('text/html')) DOCUMENT_ONLY.forEach((name) => res.removeHeader(name));
    res.setHeader('Content-Type', type); // as it is: express's res.set would add a charset
    res.set({ 'Content-Encoding': encoding, ETag: etag, 'Cache-Control': 'no-cache' }).vary('Accept-Encoding');
    if (req.get('if-none-match') === etag) return void res.status(304).end();
    const body = sent[encoding as keyof Encoded];
    res.set('Content-Length', String(body.length));
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}

/** `/strings.js` is the reader's dictionary: the language the page will pick (its `lang` cookie, which the page
 * keeps equal to its choice, else the browser's first language, as navigator.language). So the pages import
 * their strings statically, with their other modules, and load one language only. */
export function readersStrings(req: Request, res: Response, next: NextFunction) {
  if (req.path !== '/strings.js') return next();
  const chosen = /(?:^|;\s*)lang=(en|zh)(?:;|$)/.exec(req.headers.cookie ?? '')?.[1];
  const lang = chosen ?? (req.headers['accept-language']?.trim().toLowerCase().startsWith('zh') ? 'zh' : 'en');
  res.vary('Cookie').vary('Accept-Language');
  req.url = `/strings-${lang}.js`;
  next();
}

/** The headers of every answer; a script or a style drops those that only mean something on a page. */
export function securityHeaders(_req: Request, res: Response, next: NextFunction) {
  res.set({
    'Content-Security-Policy':
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; " +
      "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
  });
  next();
}
