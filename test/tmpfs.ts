// A real full disk for tests: a small tmpfs mounted on a temporary folder (root is needed: CI runs as root;
// elsewhere the tests that need one are skipped with a message).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers.ts';

/** A fresh tmpfs of `size` (e.g. '1m') on a temporary folder, or null if this user may not mount. */
export function mountTmpfs(size: string, extra = ''): string | null {
  const dir = tempDir('chat-disk-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}${extra}`, 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    fs.rmSync(dir, { recursive: true, force: true });
    if (process.env.CI) throw new Error('mounting a tmpfs failed: CI must run as root for the full-disk tests');
    console.log('  (skipped: mounting a tmpfs needs root)');
    return null;
  }
}

/** Unmounts and removes the folder (lazily: a late close of a file in it must not fail the test). */
export function unmount(dir: string) {
  execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Fills the file system of `dir` with one file, leaving `spare` bytes free; returns the filler's path. */
export function fill(dir: string, spare = 0): string {
  const filler = join(dir, 'filler');
  const fd = fs.openSync(filler, 'w');
  const block = Buffer.alloc(64 * 1024, 1);
  try {
    for (let size = block.length; size >= 1; size = Math.floor(size / 4)) {
      try { for (;;) fs.writeSync(fd, block, 0, size); } catch {}
    }
    if (spare) fs.ftruncateSync(fd, Math.max(0, fs.fstatSync(fd).size - spare));
  } finally {
    fs.closeSync(fd);
  }
  return filler;
}
