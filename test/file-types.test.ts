// What a worksheet upload is (chat/file-types.ts): judged by its bytes only, on real files made here.
import AdmZip from 'adm-zip';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_FILE, toFileType } from '../chat/file-types.ts';
import { fixture } from './helpers.ts';
import { contentTypes, docxParts, odf, ODF_MIME, odfParts, OOXML_MAIN, override, pdf, PDF, pptxParts, xlsxParts, zipOf } from './file-samples.ts';

const judged = (bytes: Buffer) => {
  const type = toFileType(bytes);
  return type && `${type.kind} ${type.ext} ${type.mime}`;
};
const refuses = (cases: Record<string, Buffer>) => {
  for (const [what, bytes] of Object.entries(cases)) assert.is(toFileType(bytes), null, `refuses ${what}`);
};

/** The zip with `name`'s uncompressed size rewritten in its local and central headers: an archive that lies. */
function declare(zip: Buffer, name: string, size: number): Buffer {
  const out = Buffer.from(zip);
  const { offset } = new AdmZip(zip, { noSort: true }).getEntry(name)!.header;
  out.writeUInt32LE(size, offset + 22);
  const central = out.indexOf(name, offset + 30 + name.length) - 46;
  assert.is(out.readUInt32LE(central), 0x02014b50, 'found the central header');
  out.writeUInt32LE(size, central + 24);
  return out;
}

/** The zip with its first two central records swapped: it lists its second file first. */
function swapListed(zip: Buffer): Buffer {
  const first = zip.indexOf('PK\x01\x02');
  const size = (at: number) => 46 + zip.readUInt16LE(at + 28) + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  const second = first + size(first);
  const end = second + size(second);
  return Buffer.concat([zip.subarray(0, first), zip.subarray(second, end), zip.subarray(first, second), zip.subarray(end)]);
}

/** Runs `judge` and says how long it took and how much Buffer memory it left allocated. */
function cost<T>(judge: () => T): { result: T; ms: number; mb: number } {
  const before = process.memoryUsage().arrayBuffers;
  const start = performance.now();
  const result = judge();
  return { result, ms: performance.now() - start, mb: (process.memoryUsage().arrayBuffers - before) / 2 ** 20 };
}

// ---

const Plain = suite('file types: PDF, pictures and text');

Plain('a PDF: %PDF- at offset 0 and %%EOF in its last KB', () => {
  assert.is(judged(pdf()), 'pdf pdf application/pdf');
  assert.is(judged(pdf(PDF.trimEnd())), 'pdf pdf application/pdf', 'no newline after %%EOF');
  assert.is(judged(pdf(PDF + ' '.repeat(900))), 'pdf pdf application/pdf', 'a little after %%EOF');
  refuses({
    'a PDF cut short': pdf(PDF.slice(0, 80)),
    '%%EOF farther than 1 KB from the end': pdf(PDF + '%'.repeat(2000)),
    '%PDF- further in': pdf(` ${PDF}`),
    'HTML renamed .pdf': Buffer.from('<!DOCTYPE html><html><body><script>alert(1)</script>%PDF-1.4 %%EOF</body></html>'),
  });
});

Plain('pictures by their magic bytes', () => {
  assert.is(judged(fixture('tiny.png')), 'image png image/png');
  assert.is(judged(fixture('tiny.jpg')), 'image jpg image/jpeg');
  assert.is(judged(Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1')), 'image gif image/gif');
  assert.is(judged(Buffer.from('RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x00', 'latin1')), 'image webp image/webp');
  refuses({ 'HTML named .png': fixture('evil-html.png'), 'SVG named .png': fixture('evil-svg.png') });
});

Plain('UTF-8 text, any script', () => {
  for (const text of ['Worksheet 1\nRead page 12.\n', '第一课 练习：请用“学习”造句。\r\n', '\uFEFFwith a BOM', '  indented', 'a < b', '1 <= 2\n<not first>']) {
    assert.is(judged(Buffer.from(text)), 'text txt text/plain; charset=utf-8', JSON.stringify(text));
  }
});

Plain('text that is HTML, SVG, XML, binary or nothing is refused', () => {
  refuses({
    HTML: Buffer.from('<html><body>hi</body></html>'),
    SVG: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    XML: Buffer.from('<?xml version="1.0"?><x/>'),
    'HTML after blanks and a BOM': Buffer.from('\uFEFF \r\n\t<!doctype html>'),
    'HTML after an ideographic space': Buffer.from('\u3000<script>alert(1)</script>'),
    'a NUL byte': Buffer.from('abc\0def'),
    'UTF-16': Buffer.from('\uFEFFhello', 'utf16le'),
    'invalid UTF-8': Buffer.from([0x68, 0x69, 0xff, 0x21]),
    'an overlong slash': Buffer.from([0x61, 0xc0, 0xaf]),
    'an encoded surrogate': Buffer.from([0x61, 0xed, 0xa0, 0x80]),
    'an empty file': Buffer.alloc(0),
    'only blanks': Buffer.from(' \n\t\r\n'),
    '4 KB of blanks, then HTML': Buffer.from(`${' '.repeat(5000)}<script>alert(1)</script>`),
  });
});

Plain('at most MAX_FILE bytes', () => {
  assert.is(MAX_FILE, 10 * 2 ** 20);
  assert.is(judged(Buffer.alloc(MAX_FILE, 'a')), 'text txt text/plain; charset=utf-8');
  refuses({ 'one byte more': Buffer.alloc(MAX_FILE + 1, 'a') });
});

Plain.run();

// ---

const Executables = suite('file types: executables');

Executables('ELF, PE/MZ, Mach-O and scripts are refused, even without a NUL byte', () => {
  refuses({
    'an ELF header': Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(56)]),
    'ELF magic, then text': Buffer.from('\x7fELF looks like text'),
    'an MZ header': Buffer.concat([Buffer.from('MZ\x90\x00\x03\x00\x00\x00', 'latin1'), Buffer.from('This program cannot be run in DOS mode.')]),
    'MZ, then text': Buffer.from('MZ looks like text'),
    'a Mach-O header': Buffer.from([0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1]),
    'a fat Mach-O': Buffer.from([0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2]),
    'a shell script': Buffer.from('#!/bin/sh\nrm -rf ~\n'),
    'a script for env': Buffer.from('#!/usr/bin/env python3\nprint(1)\n'),
    'a self-extracting exe (a zip after MZ)': Buffer.concat([Buffer.from('MZ'), zipOf(docxParts())]),
  });
});

Executables.run();

// ---

const Office = suite('file types: office documents');

Office('docx, xlsx, pptx: OOXML packages with their main part declared', () => {
  assert.is(judged(zipOf(docxParts())), `office docx ${OOXML_MAIN.docx}`);
  assert.is(judged(zipOf(xlsxParts())), `office xlsx ${OOXML_MAIN.xlsx}`);
  assert.is(judged(zipOf(pptxParts())), `office pptx ${OOXML_MAIN.pptx}`);
});

Office('the Override may be written otherwise: single quotes, attributes swapped, names in another case', () => {
  const types = contentTypes(`<Override  ContentType='${OOXML_MAIN.docx}.main+xml' PartName='/Word/Document.xml' />`);
  assert.is(judged(zipOf(docxParts(types))), `office docx ${OOXML_MAIN.docx}`);
});

Office('odt, ods, odp: mimetype first, stored, exact', () => {
  assert.is(judged(odf('text')), `office odt ${ODF_MIME}text`);
  assert.is(judged(odf('spreadsheet')), `office ods ${ODF_MIME}spreadsheet`);
  assert.is(judged(odf('presentation')), `office odp ${ODF_MIME}presentation`);
});

Office('a zip whose first entry is mimetype must be one of the three ODF documents', () => {
  refuses({
    'mimetype saying EPUB': zipOf(odfParts('application/epub+zip'), ['mimetype']),
    'mimetype saying ODF graphics': zipOf(odfParts(`${ODF_MIME}graphics`), ['mimetype']),
    'mimetype saying text/html': zipOf(odfParts('text/html'), ['mimetype']),
    'mimetype with a newline': zipOf(odfParts(`${ODF_MIME}text\n`), ['mimetype']),
    'mimetype compressed': zipOf(odfParts(`${ODF_MIME}text`)),
    'mimetype listed first but not the first file': swapListed(zipOf([odfParts(`${ODF_MIME}text`)[2], ...odfParts(`${ODF_MIME}text`).slice(0, 2)], ['mimetype'])),
  });
  const listed = new AdmZip(swapListed(zipOf([['a', 'a'], ['b', 'b']])), { noSort: true }).getEntries().map((e) => e.entryName);
  assert.equal(listed, ['b', 'a'], 'swapListed swaps');
});

Office('other zips are plain zips', () => {
  const zip = `zip zip application/zip`;
  assert.is(judged(zipOf([['answers.txt', 'a b c'], ['pictures/cat.png', fixture('tiny.png')]])), zip);
  assert.is(judged(zipOf(docxParts().slice(1))), zip, 'a docx without [Content_Types].xml');
  assert.is(judged(zipOf(docxParts().filter(([name]) => name !== 'word/document.xml'))), zip, 'a docx without its main part');
  const docm = contentTypes(override('/word/document.xml', 'application/vnd.ms-word.document.macroEnabled.main+xml'));
  assert.is(judged(zipOf([...docxParts(docm), ['word/vbaProject.bin', 'macros']])), zip, 'a macro-enabled docm');
  const [mimetype, ...rest] = odfParts(`${ODF_MIME}text`);
  assert.is(judged(zipOf([...rest, mimetype], ['mimetype'])), zip, 'mimetype not first');
});

Office.run();

// ---

const Broken = suite('file types: broken and hostile zips');

Broken('a zip whose central directory cannot be read is refused', () => {
  const docx = zipOf(docxParts());
  const end = docx.lastIndexOf('PK\x05\x06');
  const wrongOffset = Buffer.from(docx);
  wrongOffset.writeUInt32LE(3, end + 16);
  const badSignature = Buffer.from(docx);
  badSignature.write('XX', docx.indexOf('PK\x01\x02'));
  const moreEntries = Buffer.from(docx);
  moreEntries.writeUInt16LE(50, end + 8);
  moreEntries.writeUInt16LE(50, end + 10);
  refuses({
    'cut in half': docx.subarray(0, docx.length >> 1),
    'its last bytes cut': docx.subarray(0, docx.length - 5),
    'only its first local header': docx.subarray(0, 40),
    'a central directory elsewhere': wrongOffset,
    'a central header without its signature': badSignature,
    'more entries said than there are': moreEntries,
  });
});

Broken('every entry must have its local header and data in the file', () => {
  const docx = zipOf(docxParts());
  const second = new AdmZip(docx, { noSort: true }).getEntries()[1].header.offset;
  const badLocal = Buffer.from(docx);
  badLocal.write('XX', second);
  refuses({ 'a local header without its signature': badLocal });
});

Broken('a part read must match its CRC', () => {
  const docx = zipOf(docxParts(), ['[Content_Types].xml']);
  const changed = Buffer.from(docx);
  changed.write('T', docx.indexOf('<Types'));
  refuses({ '[Content_Types].xml changed': changed });
});

Broken('a [Content_Types].xml declared huge is refused without being inflated', () => {
  const bomb = zipOf(docxParts(contentTypes(override('/word/document.xml', `${OOXML_MAIN.docx}.main+xml`), ' '.repeat(32 * 2 ** 20))));
  assert.ok(bomb.length < 200 * 1024, `${bomb.length} bytes`);
  const { result, ms, mb } = cost(() => toFileType(bomb));
  assert.is(result, null);
  assert.ok(ms < 100, `${ms} ms`);
  assert.ok(mb < 1, `${mb} MB`);
});

Broken('a [Content_Types].xml declared small but inflating to 32 MB is refused early', () => {
  const padded = zipOf(docxParts(contentTypes(override('/word/document.xml', `${OOXML_MAIN.docx}.main+xml`), ' '.repeat(32 * 2 ** 20))));
  const liar = declare(padded, '[Content_Types].xml', 1000);
  const { result, ms, mb } = cost(() => toFileType(liar));
  assert.is(result, null);
  assert.ok(ms < 100, `${ms} ms`);
  assert.ok(mb < 1, `${mb} MB`);
});

Broken('at most 2000 entries are listed', () => {
  const entries = (n: number) => zipOf(Array.from({ length: n }, (_, i): [string, string] => [`f${i}.txt`, '']));
  assert.is(judged(entries(2000)), 'zip zip application/zip');
  refuses({ '2001 entries': entries(2001) });
});

Broken.run();
