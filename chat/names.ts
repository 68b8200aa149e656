// Nicknames: what is acceptable, and when two are the same. (Interim copy of the rules before rooms.)
export const MAX_NAME = 24; // code points
const BAD_NAME_RE = /[\p{C}\p{Zl}\p{Zp}\u115F\u1160\u3164\uFFA0\u2800\u180E]/u;

export function toName(raw: unknown): string | null {
  if (typeof raw !== 'string' || raw.length > MAX_NAME * 8) return null;
  const name = raw.normalize('NFC').trim().replace(/\s+/gu, ' ');
  const length = [...name].length;
  if (length < 1 || length > MAX_NAME || BAD_NAME_RE.test(name)) return null;
  return name;
}

export const toNameKey = (name: string) => name.normalize('NFKC').toLowerCase();
