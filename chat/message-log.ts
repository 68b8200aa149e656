// A room's message log on disk: one JSON line per message, appended with one small synchronous write per
// batch (into the page cache: it outlives a crash of the process), rewritten aside and renamed over when
// compacted. A failed write never leaves a torn line for the next one to be glued to.
import fs from 'node:fs';
import { toLogRecord, type LogRecord, type MessageLog } from './store.ts';

export function openMessageLog(file: string, warn: (line: string) => void): MessageLog {
  const records = readRecords(file, warn);
  let fd = fs.openSync(file, 'a');
  let size = fs.fstatSync(fd).size;
  let lineCount = records.length;
  let isTorn = false; // a failed write could not be cut back: the next one starts on a new line

  return {
    records,
    get lineCount() { return lineCount; },
    append(batch: LogRecord[]) {
      if (fd < 0) throw new Error('the message log is closed');
      const bytes = Buffer.from((isTorn ? '\n' : '') + batch.map((r) => JSON.stringify(r)).join('\n') + '\n');
      try {
        for (let written = 0; written < bytes.length;) written += fs.writeSync(fd, bytes, written);
      } catch (err) {
        isTorn = !cutBack(fd, size);
        throw err;
      }
      size += bytes.length;
      lineCount += batch.length;
      isTorn = false;
    },
    rewrite(kept: LogRecord[]) {
      const tmp = `${file}.tmp`;
      const text = kept.length ? kept.map((r) => JSON.stringify(r)).join('\n') + '\n' : '';
      let next = -1;
      try { // the next descriptor is opened before the swap: a failure (EMFILE, ENOSPC) leaves the old log in use
        writeSynced(tmp, text);
        next = fs.openSync(tmp, 'a');
        fs.renameSync(tmp, file);
      } catch (err) {
        if (next >= 0) fs.closeSync(next);
        fs.rmSync(tmp, { force: true });
        throw err;
      }
      fs.closeSync(fd);
      fd = next;
      size = Buffer.byteLength(text);
      lineCount = kept.length;
      isTorn = false;
    },
    close() {
      if (fd < 0) return;
      try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
      fd = -1; // a late write must fail, not land in whatever file reuses the number
    },
  };
}

function readRecords(file: string, warn: (line: string) => void): LogRecord[] {
  const records: LogRecord[] = [];
  if (!fs.existsSync(file)) return records;
  const text = fs.readFileSync(file, 'utf8');
  if (text && !text.endsWith('\n')) fs.appendFileSync(file, '\n'); // the next write must not join a torn line
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let record: LogRecord | null = null;
    try { record = toLogRecord(JSON.parse(line)); } catch {}
    if (record) records.push(record);
    else warn(`skipping unreadable line ${i + 1} of ${file}${i === lines.length - 1 ? ' (torn last write)' : ''}`);
  });
  return records;
}

/** Cuts the file back to its last whole line after a failed write; false if even that failed. */
function cutBack(fd: number, size: number): boolean {
  try {
    fs.ftruncateSync(fd, size);
    return true;
  } catch {
    return false;
  }
}

export function writeSynced(file: string, text: string) {
  const fd = fs.openSync(file, 'w', 0o600);
  try {
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
