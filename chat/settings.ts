// What the environment says, read and checked once at start: a bad value stops the start with a sentence.
import type { Rate } from './rules.ts';

export const DEFAULT_RATE: Rate = { burst: 10, perSecond: 1 }; // 10 at once, then one a second

export function toRedisAdapter(raw: string | undefined): 'streams' | 'pubsub' {
  if (!raw || raw === 'streams' || raw === 'pubsub') return raw === 'pubsub' ? raw : 'streams';
  throw new Error(`REDIS_ADAPTER must be streams or pubsub, not ${raw}`);
}

/** TRUST_PROXY: off when unset; `true`/`false`, a hop count, or addresses and names (loopback, 10.0.0.0/8…). */
export function toTrustProxy(raw: string | undefined): boolean | number | string[] {
  if (!raw || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  return raw.split(',').map((s) => s.trim()).filter(Boolean);
}

/** HTTPS_PORT: off when unset; else the port of the TLS server beside the plain one. */
export function toHttpsPort(raw: string | undefined): number | undefined {
  if (!raw) return undefined;
  if (/^\d{1,5}$/.test(raw) && Number(raw) <= 65535) return Number(raw);
  throw new Error(`HTTPS_PORT must be a port number (3443, say), not ${raw}`);
}

/** A disk budget in MB (ROOM_FILES_MB, FILES_MB): bytes, or the default when unset. */
export function toMegabytes(raw: string | undefined, name: string, fallback: number): number {
  if (!raw) return fallback;
  if (/^\d{1,7}$/.test(raw) && Number(raw) >= 1) return Number(raw) * 2 ** 20;
  throw new Error(`${name} must be a whole number of megabytes (200, say), not ${raw}`);
}

export function toRateLimit(raw: string | undefined): Rate | false {
  if (raw === undefined || raw === '') return DEFAULT_RATE;
  if (raw === 'off' || raw === '0') return false;
  const match = /^(\d+)\/(\d+(?:\.\d+)?)$/.exec(raw);
  if (!match || Number(match[1]) < 1 || Number(match[2]) <= 0) throw new Error(`RATE_LIMIT must look like 10/10 (messages/seconds) or off, not ${raw}`);
  return { burst: Number(match[1]), perSecond: Number(match[1]) / Number(match[2]) };
}
