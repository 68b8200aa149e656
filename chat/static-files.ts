// The pages' files, compressed once (Brotli at its best quality, or gzip) and kept in memory: a phone on the
// classroom Wi-Fi gets the chat page's first load in about a third of its size, and no request pays for the
// compression. Files are read again when they change on disk. Anything else (a client that takes neither
// encoding, a file type not worth it, a missing file) falls through to express.static.
import fs from 'node:fs';
import { extname, resolve, sep } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { NextFunction, Request, Response } from 'express';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml', '.json': 'application/json; charset=utf-8',
};
const DOCUMENT_ONLY = ['Content-Security-Policy', 'X-Frame-Options', 'Referrer-Policy']; // they mean nothing on a script or a style

interface Compressed { mtimeMs: number; size: number; br: Buffer; gzip: Buffer; etag: string }

export function compressedStatic(dir: string) {
  const root = resolve(dir);
  const cache = new Map<string, Compressed>();

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

  function compressed(file: string): Compressed {
    const stat = fs.statSync(file);
    const known = cache.get(file);
    if (known && known.mtimeMs === stat.mtimeMs && known.size === stat.size) return known;
    const bytes = fs.readFileSync(file);
    const br = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY } });
    const entry = { mtimeMs: stat.mtimeMs, size: stat.size, br, gzip: gzipSync(bytes, { level: 9 }), etag: `"${stat.size.toString(36)}-${Math.round(stat.mtimeMs).toString(36)}` };
    cache.set(file, entry);
    return entry;
  }

  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const encoding = req.acceptsEncodings('br', 'gzip');
    const file = encoding ? toFile(req.path) : null;
    if (!encoding || !file) return next();
    const entry = compressed(file);
    const body = encoding === 'br' ? entry.br : entry.gzip;
    const etag = `${entry.etag.slice(0, -1)}-${encoding}"`;
    const type = TYPES[extname(file)];
    if (!type.startsWith('text/html')) DOCUMENT_ONLY.forEach((name) => res.removeHeader(name));
    res.set({ 'Content-Type': type, 'Content-Encoding': encoding, ETag: etag, 'Cache-Control': 'no-cache', Vary: 'Accept-Encoding' });
    if (req.get('if-none-match') === etag) return void res.status(304).end();
    res.set('Content-Length', String(body.length));
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
