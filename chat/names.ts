// Nicknames: what a person may be called (toName) and when two nicknames are "the same" (toNameKey).
import { createRequire } from 'node:module';

export const MAX_NAME = 24; // code points

// --- characters

// Control, format (bidi, zero-width), private-use, unassigned, line/paragraph separators, and the
// blank-looking letters that make a name invisible.
const BAD_CHAR = /[\p{C}\p{Zl}\p{Zp}\u115F\u1160\u3164\uFFA0\u2800\u180E]/u;
// What a reader can see: letters, numbers, symbols, punctuation (not marks, spaces or selectors).
const SEEN_CHAR = /[\p{L}\p{N}\p{S}\p{P}]/u;
const IGNORABLE_CHAR = /\p{Default_Ignorable_Code_Point}/u;
const VARIATION_SELECTOR = /\p{Variation_Selector}/u;
const PICTOGRAPH = /\p{Extended_Pictographic}/u;
const EMOJI_MODIFIER = /\p{Emoji_Modifier}/u; // skin tones
const ZWJ = '\u200D';
const VS16 = '\uFE0F'; // "show as emoji"
const SPACE_RUNS = /\s{2,}|[^\S ]/g; // to one space (a lone space stays: no copy)
// Variation selectors, U+034F, U+180B…, U+200B…: invisible, so never part of what makes names differ.
const IGNORABLE_RUNS = /\p{Default_Ignorable_Code_Point}+/gu;
const LATIN_LOOK = /^[\x20-\x7e]+$/; // looks like plain ASCII

// --- display form

/** The display form of a nickname (NFC, trimmed, inner whitespace runs collapsed to one space), or null if it is not acceptable. */
export function toName(raw: unknown): string | null {
  if (typeof raw !== 'string' || raw.length > MAX_NAME * 8) return null;
  const name = raw.normalize('NFC').trim().replace(SPACE_RUNS, ' ');
  const chars = [...name];
  if (chars.length < 1 || chars.length > MAX_NAME) return null;
  return isAcceptable(chars) ? name : null;
}

// One walk: every character allowed where it stands, and at least one a reader can see.
function isAcceptable(chars: string[]): boolean {
  let seen = false;
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i]!;
    if (char === ZWJ) {
      if (!isEmojiJoin(chars, i)) return false;
    } else if (VARIATION_SELECTOR.test(char)) {
      if (i === 0 || !isVisible(chars[i - 1]!)) return false; // selects the look of the character before
    } else if (BAD_CHAR.test(char)) {
      return false;
    } else if (isVisible(char)) {
      seen = true;
    }
  }
  return seen;
}

function isVisible(char: string): boolean {
  return SEEN_CHAR.test(char) && !IGNORABLE_CHAR.test(char);
}

// A zero-width joiner only glues two pictographs (👨‍👩‍👧, ❤️‍🔥, 👩🏽‍💻); elsewhere it hides a difference.
function isEmojiJoin(chars: string[], at: number): boolean {
  let before = at - 1;
  while (before >= 0 && (chars[before] === VS16 || EMOJI_MODIFIER.test(chars[before]!))) before--;
  const after = chars[at + 1];
  return before >= 0 && PICTOGRAPH.test(chars[before]!) && after !== undefined && PICTOGRAPH.test(after);
}

// --- comparison key

/** The comparison key: two names with the same key are "the same nickname" (one may not be used while the other is online). */
export function toNameKey(name: string): string {
  const plain = name.normalize('NFKC').replace(IGNORABLE_RUNS, '').replace(SPACE_RUNS, ' ').trim();
  // Lower case, then capitals: names equal in lower case (today's rule) stay equal, and a capital
  // look-alike is caught as a capital (Cyrillic "М" looks like "M", but "м" not like "m").
  // Both rules at once make i, I, l and L one letter: "I" is "i", and "I" looks like "l".
  const capitals = plain.toLowerCase().toUpperCase().normalize('NFD');
  return replaceEach(capitals, toCapitalKey).toLowerCase().normalize('NFD');
}

// --- the confusables table

// UTS #39 confusables.txt (Unicode 13.0.0, every `source ; prototype` line, unchanged) as packaged
// by `unhomoglyph` 1.0.6 (MIT, nodeca) in data.json: { "<source code point>": "<prototype>" }.
const PROTOTYPES = loadPrototypes();
// The capitals whose key is more than their lower case: the table's sources and their capitals.
const LOOK_ALIKES = toLookAlikes();
// Their keys, each worked out on first use (so start-up stays fast): at most LOOK_ALIKES.size.
const CAPITAL_KEYS = new Map<number, string>();

function loadPrototypes(): Map<number, string> {
  const table = createRequire(import.meta.url)('unhomoglyph/data.json') as Record<string, string>;
  const prototypes = new Map<number, string>();
  for (const source in table) prototypes.set(source.codePointAt(0)!, table[source]!);
  return prototypes;
}

function toLookAlikes(): Set<number> {
  const codes = new Set(PROTOTYPES.keys());
  for (const source of PROTOTYPES.keys()) {
    const capital = String.fromCodePoint(source).toUpperCase(); // "А" for Cyrillic "а"
    if (capital === String.fromCodePoint(capital.codePointAt(0)!)) codes.add(capital.codePointAt(0)!);
  }
  return codes;
}

function toCapitalKey(code: number): string | undefined {
  const known = CAPITAL_KEYS.get(code);
  if (known !== undefined || !LOOK_ALIKES.has(code)) return known;
  const capital = String.fromCodePoint(code);
  CAPITAL_KEYS.set(code, capital.toLowerCase()); // meanwhile, should its own look lead back to it
  // A key is its own key: "ɪ" looks like "i", and "i" is keyed like "I", which looks like "l".
  const key = toNameKey(toLook(capital));
  CAPITAL_KEYS.set(code, key);
  return key;
}

// A capital's skeleton, lower-cased, then the small letters' skeleton ("rn" for "m"), lower-cased.
// Where capital and small letter look like different things (Greek "Σ" and "σ"), the form that
// looks Latin wins, the capital if both do (Greek "Ν" is "N", so "ν" is not "v").
function toLook(capital: string): string {
  const look = toSmallSkeleton(capital);
  const small = capital.toLowerCase();
  if (small === capital || LATIN_LOOK.test(look)) return look;
  const smallLook = toSmallSkeleton(small);
  return LATIN_LOOK.test(smallLook) ? smallLook : look;
}

function toSmallSkeleton(char: string): string {
  return toSkeleton(toSkeleton(char).toLowerCase()).toLowerCase();
}

// UTS #39 skeleton: NFD, each code point replaced by its prototype, NFD again.
function toSkeleton(text: string): string {
  return replaceEach(text.normalize('NFD'), toPrototype).normalize('NFD');
}

function toPrototype(code: number): string | undefined {
  return PROTOTYPES.get(code);
}

// Each code point that `replace` has a replacement for replaced; the runs between copied in one slice.
function replaceEach(text: string, replace: (code: number) => string | undefined): string {
  let result = '';
  let copied = 0;
  for (let i = 0; i < text.length; ) {
    const code = text.codePointAt(i)!;
    const next = i + (code > 0xffff ? 2 : 1);
    const replacement = replace(code);
    if (replacement !== undefined) {
      result += text.slice(copied, i) + replacement;
      copied = next;
    }
    i = next;
  }
  return copied === 0 ? text : result + text.slice(copied);
}
