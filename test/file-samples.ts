// Real sample files of every type a teacher may share, made here (shared by the file-type and the file-sharing tests).
import AdmZip from 'adm-zip';
import { fixture } from './helpers.ts';

export const OOXML_MAIN = {
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
};
export const ODF_MIME = 'application/vnd.oasis.opendocument.';

/** A zip of these parts, in this order; the names in `stored` are not compressed. */
export function zipOf(parts: [string, string | Buffer][], stored: string[] = []): Buffer {
  const zip = new AdmZip(undefined, { noSort: true });
  for (const [name, content] of parts) {
    zip.addFile(name, Buffer.from(content));
    if (stored.includes(name)) zip.getEntry(name)!.header.method = 0;
  }
  return zip.toBuffer();
}

export const contentTypes = (overrides: string, padding = '') =>
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
  + '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
  + `<Default Extension="xml" ContentType="application/xml"/>${overrides}${padding}</Types>`;
export const override = (part: string, type: string) => `<Override PartName="${part}" ContentType="${type}"/>`;
export const rels = (target: string) =>
  '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
  + `<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="${target}"/></Relationships>`;

export const docxParts = (types = contentTypes(override('/word/document.xml', `${OOXML_MAIN.docx}.main+xml`))): [string, string][] => [
  ['[Content_Types].xml', types],
  ['_rels/.rels', rels('word/document.xml')],
  ['word/document.xml', '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Worksheet 1</w:t></w:r></w:p></w:body></w:document>'],
];
export const xlsxParts = (): [string, string][] => [
  ['[Content_Types].xml', contentTypes(override('/xl/workbook.xml', `${OOXML_MAIN.xlsx}.main+xml`)
    + override('/xl/worksheets/sheet1.xml', 'application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml'))],
  ['_rels/.rels', rels('xl/workbook.xml')],
  ['xl/workbook.xml', '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"/></sheets></workbook>'],
  ['xl/_rels/workbook.xml.rels', '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'],
  ['xl/worksheets/sheet1.xml', '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>'],
];
export const pptxParts = (): [string, string][] => [
  ['[Content_Types].xml', contentTypes(override('/ppt/presentation.xml', `${OOXML_MAIN.pptx}.main+xml`))],
  ['_rels/.rels', rels('ppt/presentation.xml')],
  ['ppt/presentation.xml', '<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"/>'],
];
export const odfParts = (mimetype: string): [string, string][] => [
  ['mimetype', mimetype],
  ['META-INF/manifest.xml', `<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="${mimetype}"/></manifest:manifest>`],
  ['content.xml', '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"/>'],
];
export const odf = (kind: string) => zipOf(odfParts(ODF_MIME + kind), ['mimetype']);

export const PDF = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n'
  + 'trailer\n<< /Root 1 0 R >>\n%%EOF\n';
export const pdf = (text = PDF) => Buffer.from(text, 'latin1');


/** One sample of every type that may be shared, by the extension it is stored under. */
export const allowedSamples = (): Record<string, Buffer> => ({
  pdf: pdf(), png: fixture('tiny.png'), jpg: fixture('tiny.jpg'), txt: Buffer.from('Homework: exercises 3 to 7, page 41.\n'),
  docx: zipOf(docxParts()), xlsx: zipOf(xlsxParts()), pptx: zipOf(pptxParts()),
  odt: odf('text'), ods: odf('spreadsheet'), odp: odf('presentation'), zip: zipOf([['answers.txt', 'a b c']]),
});
