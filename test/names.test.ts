// Nickname rules (chat/names.ts): what may be a name, and which names count as the same one.
import { createRequire } from 'node:module';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_NAME, toName, toNameKey } from '../chat/names.ts';

const refuses = (names: unknown[]) => {
  for (const name of names) assert.is(toName(name), null, `refuses ${JSON.stringify(name)}`);
};
const accepts = (names: string[]) => {
  for (const name of names) assert.is(toName(name), name, `accepts ${JSON.stringify(name)}`);
};
const sameKey = (a: string, b: string) => assert.is(toNameKey(a), toNameKey(b), `${JSON.stringify(a)} ~ ${JSON.stringify(b)}`);
const otherKey = (a: string, b: string) => assert.is.not(toNameKey(a), toNameKey(b), `${JSON.stringify(a)} ≠ ${JSON.stringify(b)}`);
const codePoints = function* (from: number, to: number) {
  for (let cp = from; cp <= to; cp++) if (cp < 0xd800 || cp > 0xdfff) yield String.fromCodePoint(cp);
};

const Form = suite('names: display form and length');

Form('trims, collapses inner whitespace, NFC; any script', () => {
  assert.is(toName('  东东  '), '东东');
  assert.is(toName('Ana   María'), 'Ana María');
  assert.is(toName('Ana\t\nMaría'), 'Ana María');
  assert.is(toName('Jose\u0301'), 'José', 'NFC');
  assert.is(toName('a\u2028b'), 'a b', 'a line separator is whitespace: one space, as today');
  accepts(['x', '1', '!', '★', 'Наташа', 'Νίκος', 'محمد', 'अनु']);
});

Form('1 to 24 code points', () => {
  assert.is(MAX_NAME, 24);
  accepts(['x'.repeat(24), '🙂'.repeat(24)]);
  refuses(['', '   ', 'x'.repeat(25), '🙂'.repeat(25), ' '.repeat(300) + 'x']);
});

Form('refuses what is not a string', () => {
  refuses([undefined, null, 42, { a: 1 }, ['x'], true]);
});

Form.run();

// ---

const Refused = suite('names: refused characters (as today)');

Refused('control, format, private-use, unassigned', () => {
  refuses(['a\u0000b', 'bell\u0007', 'nel\u0085', 'evil\u202Eoh', 'zero\u200Bwidth', 'rlm\u200Fmark',
    'soft\u00ADhyphen', 'word\u2060joiner', 'pua\uE000', 'pua\u{F0000}', 'unassigned\u0378', 'tag\u{E0041}']);
});

Refused('blank-looking letters, alone or inside a name', () => {
  for (const blank of ['\u115F', '\u1160', '\u3164', '\uFFA0', '\u2800', '\u180E']) refuses([blank, `a${blank}b`, blank.repeat(3)]);
});

Refused.run();

// ---

const Visible = suite('names: at least one visible character');

Visible('names of only invisible characters are refused', () => {
  refuses(['\u034F', '\uFE0F', '\uFE00', '\u{E0100}', '\u{E01EF}', '\u17B4', '\u17B5', '\u180B', '\u180C', '\u180D',
    '\u034F\u034F', '\u17B4\u17B5', '\u180B\u180C\u180D', '\u0301', '\u0301\u0302', ' \u0301 ', '\u034F \u17B4']);
  for (const selector of codePoints(0xfe00, 0xfe0f)) refuses([selector, selector.repeat(2)]);
});

Visible('invisible characters next to visible ones are kept', () => {
  accepts(['a\u034Fb', 'Ms Lee\u180B', 'alice\uFE0F', '\u0301a', 'a\u17B4']);
});

Visible('a variation selector must follow a visible character', () => {
  accepts(['❤\uFE0F', 'a\uFE0E', '葛\u{E0100}', '1\uFE0F\u20E3']);
  refuses(['\uFE0Fabc', 'a \uFE0F', 'a\uFE0F\uFE0F', '\u0301\uFE0F']);
});

Visible.run();

// ---

const Emoji = suite('names: emoji');

Emoji('ZWJ sequences and emoji presentation are accepted', () => {
  accepts(['👨‍👩‍👧‍👦', '❤️', '❤️‍🔥', '👩🏽‍💻', '🏳️‍🌈', '🏃‍♀️', '1️⃣', 'Ana ❤️', 'Bo 👨‍👩‍👧']);
});

Emoji('a zero-width joiner anywhere else is refused', () => {
  refuses(['a\u200Db', '🙂\u200Da', 'a\u200D🙂', '🙂\u200D', '\u200D🙂', '🙂\u200D\u200D🙂', '🙂 \u200D🙂', '\u200D', 'zero\u200Bwidth', 'non\u200Cjoiner']);
});

Emoji.run();

// ---

const Ignored = suite('names: key ignores invisible characters');

Ignored('default-ignorables and variation selectors do not make a name new', () => {
  sameKey('alice\uFE0F', 'alice');
  sameKey('Ms Lee\u180B', 'Ms Lee');
  sameKey('a\u034Fb', 'ab');
  sameKey('\u034F Ms \u17B4 Lee', 'Ms Lee');
  sameKey('❤️', '❤');
  sameKey('👨‍👩‍👧‍👦', '👨👩👧👦');
  sameKey('葛\u{E0100}', '葛');
});

Ignored.run();

// ---

const Case = suite('names: key is case-insensitive (NFKC + lower case, as today)');

Case('every spelling of a name that is the same in lower case', () => {
  for (const name of ['alice', 'ALICE', 'aLiCe', 'ＡＬＩＣＥ', 'Ａｌｉｃｅ']) sameKey(name, 'Alice');
  sameKey(toName(' aLiCe ')!, 'Alice');
  sameKey('ＡＢ', 'ab');
  sameKey('Bo', 'bo');
  sameKey('НАТАША', 'наташа');
  sameKey('ΟΔΥΣΣΕΑΣ', 'οδυσσεας');
  sameKey('Ðóra', 'ðóra');
});

Case('today\'s equal keys stay equal, for every code point', () => {
  for (const char of codePoints(0, 0x1ffff)) {
    const name = `${char}x`;
    assert.is(toNameKey(name), toNameKey(name.normalize('NFKC').toLowerCase()), `U+${char.codePointAt(0)!.toString(16)}`);
  }
});

Case.run();

// ---

const LookAlike = suite('names: key catches look-alikes (UTS #39 skeleton)');

LookAlike('Cyrillic and Greek letters that look Latin', () => {
  sameKey('\u0430lice', 'alice');
  sameKey('\u041Cs Lee', 'Ms Lee');
  for (const name of ['Alice', 'alice', 'ALICE', '\u0410LICE', '\u0430lice', 'Al\u0456ce', '\u0391LICE']) sameKey(name, 'alice');
  sameKey('\u0412\u0435\u0440\u0430', 'Bepa');
  sameKey('\u039F\u03BFps', 'Oops');
});

LookAlike('digits and letters that the standard calls confusable', () => {
  sameKey('AIice', 'Alice');
  sameKey('A1ice', 'Alice');
  sameKey('B0b', 'Bob');
  sameKey('Emma', 'Ernrna');
  sameKey('Michae1', 'Michael');
});

LookAlike('the standard\'s own examples', () => {
  sameKey('𝔭𝒶ỿ𝕡𝕒ℓ', 'paypal');
  sameKey('ℜ𝘂ᖯʏ', 'Ruby');
});

LookAlike('forced by case-insensitivity: I is i, and I looks like l, so i, I, l and L are one letter', () => {
  sameKey('Neil', 'Nell');
  sameKey('Kai', 'Kal');
});

LookAlike('the table is Unicode\'s confusables.txt: its Latin look-alikes collide with their prototype', () => {
  const table = createRequire(import.meta.url)('unhomoglyph/data.json') as Record<string, string>;
  assert.ok(Object.keys(table).length > 6000, 'the whole table');
  const misses = Object.entries(table)
    .filter(([source, prototype]) => /^[a-zA-Z0-9]+$/.test(prototype) && /[\p{L}\p{N}]/u.test(source))
    .filter(([source, prototype]) => toNameKey(source) !== toNameKey(prototype))
    .map(([source]) => source);
  // Case-insensitivity keeps one key per letter pair: where capital and small letter look like
  // different Latin letters, the capital wins (Greek ν/Ν, υ/Υ; Cyrillic г/Г); NFKC, applied first as
  // today, maps ϲ/Ϲ and ſ; and a few Warang Citi letters whose capital decides.
  assert.equal(misses.sort(), ['ſ', 'ƽ', 'ν', 'υ', 'ϲ', 'Ϲ', 'г', 'ⲅ', 'ꮁ', '𑣄', '𑣆', '𑣕', '𑣜',
    '𝛎', '𝛖', '𝜈', '𝜐', '𝝂', '𝝊', '𝝼', '𝞄', '𝞶', '𝞾'].sort());
});

LookAlike('a key is its own key', () => {
  for (const char of codePoints(0x20, 0x3000)) {
    const key = toNameKey(char);
    assert.is(toNameKey(key), key, `U+${char.codePointAt(0)!.toString(16)}`);
  }
});

LookAlike.run();

// ---

const Distinct = suite('names: real names keep distinct keys');

Distinct('names that do not look alike', () => {
  otherKey('Наташа', 'Natasha');
  otherKey('东东', '冬冬');
  otherKey('Ana', 'Ana María');
  otherKey('Ana', 'Ava');
});

Distinct('common names in Latin, Cyrillic and Chinese', () => {
  const names = ['Aaron', 'Adam', 'Alex', 'Ali', 'Alice', 'Amy', 'Ana', 'Anna', 'Ava', 'Ben', 'Bill', 'Bob', 'Chloe',
    'Clara', 'Dan', 'David', 'Eli', 'Ella', 'Emily', 'Emma', 'Eva', 'Ian', 'Ivan', 'Jack', 'Julia', 'Kai', 'Leo', 'Lily',
    'Lucy', 'Maria', 'Mark', 'Max', 'Mia', 'Nina', 'Noah', 'Olga', 'Paul', 'Rita', 'Sam', 'Sara', 'Tom', 'Vera', 'Zoe',
    'Наташа', 'Наталья', 'Мария', 'Марина', 'Иван', 'Ирина', 'Ольга', 'Анна', 'Елена', 'Сергей', 'Дмитрий', 'Алексей',
    'Татьяна', 'Светлана', 'Вера', 'Нина', 'Олег', 'Павел', 'Максим', 'Катя', 'Даша', 'Маша', 'Саша',
    '东东', '冬冬', '王伟', '王玮', '李娜', '张伟', '小明', '丽丽', '莉莉', '明明', '敏敏', '晶晶', '静静', '天天', '田田'];
  const seen = new Map<string, string>();
  for (const name of names) {
    const key = toNameKey(name);
    assert.is(seen.get(key), undefined, `${name} collides with ${seen.get(key)}`);
    seen.set(key, name);
  }
});

Distinct.run();
