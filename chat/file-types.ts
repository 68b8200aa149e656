// What an uploaded worksheet is, judged by its content only (never its name, never a declared type). Zips are
// read by adm-zip, which checks every header it reads; only the small parts that say a document's type are
// ever inflated, and never beyond their declared size.
import { isUtf8 } from 'node:buffer';
import AdmZip from 'adm-zip';
import { MAX_FILE_NAME } from './contract.ts';
import { toImageType, type PictureType } from './pictures.ts';

export const MAX_FILE = 10 * 2 ** 20;
export const MAX_VOICE = 2 * 2 ** 20; // 60 s of AAC at 256 kbit/s; Opus at the browsers' default is a quarter of it
const MAX_ENTRIES = 2000; // adm-zip holds ~9 KB per entry it lists; a 300-slide deck has ~1000 parts
const MAX_PART = 512 * 1024; // the [Content_Types].xml of MAX_ENTRIES parts fits; a bigger one is a bomb
const TEXT_HEAD = 4096; // a text must show something other than blanks this early
// Refused whatever follows: ELF, PE/MZ, a script for the kernel, Mach-O (both byte orders, 32/64 bits, fat)
const EXECUTABLE = ['\x7fELF', 'MZ', '#!', '\xfe\xed\xfa\xce', '\xfe\xed\xfa\xcf', '\xce\xfa\xed\xfe', '\xcf\xfa\xed\xfe', '\xca\xfe\xba\xbe'];
const ZIP_MAGIC = 'PK\x03\x04'; // at offset 0: a zip appended to something else (a self-extracting .exe) is not one

export interface FileType { ext: string; mime: string; kind: 'pdf' | 'image' | 'text' | 'office' | 'zip' | 'audio' }

const PDF: FileType = { ext: 'pdf', mime: 'application/pdf', kind: 'pdf' };
const TEXT: FileType = { ext: 'txt', mime: 'text/plain; charset=utf-8', kind: 'text' }; // UTF-8 is checked
const ZIP: FileType = { ext: 'zip', mime: 'application/zip', kind: 'zip' };
const IMAGE_MIME: Record<PictureType, string> = { jpg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp' };
const ODF_MIME = /^application\/vnd\.oasis\.opendocument\.(text|spreadsheet|presentation)$/;
const ODF_EXT: Record<string, string> = { text: 'odt', spreadsheet: 'ods', presentation: 'odp' };
const OOXML = [ // the main part, whose content type is the document's mime + '.main+xml'
  { ext: 'docx', part: '/word/document.xml', mime: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' },
  { ext: 'xlsx', part: '/xl/workbook.xml', mime: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' },
  { ext: 'pptx', part: '/ppt/presentation.xml', mime: 'application/vnd.openxmlformats-officedocument.presentationml.presentation' },
];

/** What these bytes are if the teacher may hand them out: PDF, picture, UTF-8 text, office document or zip. */
export function toFileType(bytes: Buffer): FileType | null {
  const magic = bytes.toString('latin1', 0, 5);
  if (bytes.length > MAX_FILE || EXECUTABLE.some((m) => magic.startsWith(m))) return null;
  if (magic === '%PDF-') return bytes.subarray(-1024).includes('%%EOF') ? PDF : null;
  const image = toImageType(bytes);
  if (image) return { ext: image, mime: IMAGE_MIME[image], kind: 'image' };
  if (magic.startsWith(ZIP_MAGIC)) return toZipType(bytes);
  return toTextType(bytes);
}

/** A recording as MediaRecorder or a phone's recorder makes it: WebM (Chromium, Firefox), Ogg, or MP4 audio
 * (Safari, iPhones), judged by its container's signature. */
export function toAudioType(bytes: Buffer): FileType | null {
  if (bytes.length > MAX_VOICE || bytes.length < 8) return null;
  if (bytes.readUInt32BE(0) === 0x1a45dfa3) return { ext: 'webm', mime: 'audio/webm', kind: 'audio' }; // EBML
  if (bytes.toString('latin1', 0, 4) === 'OggS') return { ext: 'ogg', mime: 'audio/ogg', kind: 'audio' };
  if (bytes.toString('latin1', 4, 8) === 'ftyp') return { ext: 'm4a', mime: 'audio/mp4', kind: 'audio' };
  return null;
}

/** The type a stored file is served as, by the extension it was stored under (after it was judged). */
export const MIME_BY_EXT: Record<string, string> = {
  pdf: PDF.mime, txt: TEXT.mime, zip: ZIP.mime, ...IMAGE_MIME, webm: 'audio/webm', ogg: 'audio/ogg', m4a: 'audio/mp4',
  odt: 'application/vnd.oasis.opendocument.text', ods: 'application/vnd.oasis.opendocument.spreadsheet',
  odp: 'application/vnd.oasis.opendocument.presentation', ...Object.fromEntries(OOXML.map((o) => [o.ext, o.mime])),
};

/** A shared file's name as shown and downloaded: one line of at most 100 code points, no path, no control or
 * invisible characters, ending with the extension its content was judged to have. */
export function toFileName(raw: unknown, ext: string): string {
  const clean = String(raw ?? '').normalize('NFC').replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}/\\:*?"<>|]+/gu, ' ').replace(/\s+/g, ' ').trim();
  const base = [...clean.replace(/^\.+/, '')].slice(0, MAX_FILE_NAME).join('').trim() || 'file';
  return base.toLowerCase().endsWith(`.${ext}`) ? base : `${[...base].slice(0, MAX_FILE_NAME - ext.length - 1).join('')}.${ext}`;
}

/** UTF-8 without NUL that does not start (after blanks and BOM) like HTML, SVG or XML. */
function toTextType(bytes: Buffer): FileType | null {
  if (bytes.includes(0) || !isUtf8(bytes)) return null;
  const head = bytes.toString('utf8', 0, TEXT_HEAD).trimStart(); // trimStart drops a BOM too
  return head && !head.startsWith('<') ? TEXT : null;
}

function toZipType(bytes: Buffer): FileType | null {
  try {
    const zip = new AdmZip(bytes, { noSort: true }); // reads the end record only; entries in the archive's order
    if (zip.getEntryCount() > MAX_ENTRIES) return null;
    const entries = zip.getEntries(); // throws on a central directory it cannot read
    for (const entry of entries) entry.getCompressedData(); // throws unless its local header and data are in the file
    if (entries[0]?.entryName === 'mimetype') return toOdfType(entries[0]);
    return toOoxmlType(entries);
  } catch {
    return null; // not a zip after all, or a part that does not inflate to its size and CRC
  }
}

/** A zip that starts with `mimetype` says what it is: one of the three ODF documents, else refused (EPUB…). */
function toOdfType(entry: AdmZip.IZipEntry): FileType | null {
  const { method, offset, size, compressedSize } = entry.header;
  if (method !== 0 || offset !== 0 || size > 64 || compressedSize > 64) return null; // the spec's stored first file
  const kind = ODF_MIME.exec(entry.getData().toString('latin1'))?.[1];
  return kind ? { ext: ODF_EXT[kind], mime: `application/vnd.oasis.opendocument.${kind}`, kind: 'office' } : null;
}

/** An OOXML package if its main part is there and [Content_Types].xml declares it so; else a plain zip (a .docm too). */
function toOoxmlType(entries: AdmZip.IZipEntry[]): FileType | null {
  const byName = new Map(entries.map((e) => [`/${e.entryName.toLowerCase()}`, e])); // OPC names ignore case
  const types = byName.get('/[content_types].xml');
  if (!types) return ZIP;
  if (types.header.size > MAX_PART || types.header.compressedSize > MAX_PART) return null; // never inflated
  const overrides = toOverrides(types.getData().toString('utf8'));
  const office = OOXML.find((o) => byName.has(o.part) && overrides.get(o.part) === `${o.mime}.main+xml`);
  return office ? { ext: office.ext, mime: office.mime, kind: 'office' } : ZIP;
}

/** PartName (lower case) → ContentType of each <Override> in [Content_Types].xml. */
function toOverrides(xml: string): Map<string, string> {
  const overrides = new Map<string, string>();
  for (const [tag] of xml.matchAll(/<Override\b[^>]*>/g)) {
    const part = /\bPartName\s*=\s*["']([^"']*)["']/.exec(tag)?.[1];
    const type = /\bContentType\s*=\s*["']([^"']*)["']/.exec(tag)?.[1];
    if (part && type) overrides.set(part.toLowerCase(), type);
  }
  return overrides;
}
