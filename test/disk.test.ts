// A full disk, too many open files, a read-only data folder: the server keeps serving what it can, says
// what is wrong, and every acked message stays readable. A real full disk is a small tmpfs (tmpfs.ts).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import { join } from 'node:path';
import { say, sleep, startServer, tempDir, welcomed } from './helpers.ts';
import { rawClient, spawnCli, waitUntil, type RawClient } from './stress-helpers.ts';
import { fill, mountTmpfs, unmount } from './tmpfs.ts';

const logOf = (dataDir: string) => join(dataDir, 'rooms', 'main', 'messages.jsonl');
const long = (i: number) => `${i} `.padEnd(2000, 'x');

// ---

const Full = suite('disk: full');

Full('9. a write refused on a full disk leaves no torn line: the next acked message is readable after a restart', async () => {
  const mount = mountTmpfs('1m');
  if (!mount) return;
  const dataDir = join(mount, 'data');
  let s = await startServer({ dataDir, rateLimit: false });
  try {
    const ann = s.client({ name: 'Ann' });
    await welcomed(ann);
    assert.ok((await say(ann, 'before')).ok);
    const filler = fill(mount);
    const refusals: string[] = [];
    for (let i = 0; i < 5 && !refusals.length; i++) {
      const ack = await say(ann, long(i));
      if (!ack.ok) refusals.push(ack.error);
    }
    assert.equal(refusals, ['server_error'], 'a message on a full disk is refused, not acked');
    const text = fs.readFileSync(logOf(dataDir), 'utf8');
    assert.ok(text.endsWith('\n'), 'the log ends on a line boundary');
    text.split('\n').filter(Boolean).forEach((line) => JSON.parse(line)); // and every line is whole
    fs.rmSync(filler);
    const after = await say(ann, 'after the disk was freed');
    assert.ok(after.ok);
    await s.close({ keepData: true });
    s = await startServer({ dataDir, rateLimit: false });
    const history = (await welcomed(s.client({ name: 'Reader' }))).history.map((m) => m.content);
    assert.is(history.at(-1), 'after the disk was freed');
    assert.is(history[0], 'before');
  } finally {
    await s.close({ keepData: true });
    unmount(mount);
  }
});

Full('10. compaction on a full disk is said and survived; messages go on once there is room', async () => {
  const mount = mountTmpfs('2m');
  if (!mount) return;
  const dataDir = join(mount, 'data');
  fs.mkdirSync(dataDir);
  const lines = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ id: `old${i}`, name: 'old', avatar: 'cat', content: `old ${i}`, ts: 1, from: 'oldsession-0123456789' }));
  fs.writeFileSync(join(dataDir, 'messages.jsonl'), lines.join('\n') + '\n');
  const said: string[] = [];
  const s = await startServer({ dataDir, rateLimit: false, log: (line) => said.push(line) });
  let filler = '';
  try {
    const ann = s.client({ name: 'Ann' });
    await welcomed(ann);
    filler = fill(mount, 16 * 1024); // room for a few lines, not for a rewrite of the log
    assert.ok((await say(ann, 'this one fits')).ok, 'acked: it is in the log');
    await waitUntil(() => said.some((l) => /could not compact/.test(l)), 'the failed compaction is said');
    assert.not.ok(fs.existsSync(`${logOf(dataDir)}.tmp`), 'the half-written copy is gone');
    assert.ok((await say(ann, 'still serving')).ok);
    fs.rmSync(filler);
    assert.ok((await say(ann, 'and after')).ok);
    const ids = fs.readFileSync(logOf(dataDir), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).content);
    assert.equal(ids.slice(-3), ['this one fits', 'still serving', 'and after']);
  } finally {
    await s.close({ keepData: true });
    unmount(mount);
  }
});

Full.run();

// ---

const Files = suite('disk: open files and the data folder');

Files('10. too many open files: the server refuses what it must, says so, and goes on', async () => {
  const dataDir = tempDir();
  const lines = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ id: `old${i}`, name: 'old', avatar: 'cat', content: `old ${i}`, ts: 1, from: 'oldsession-0123456789' }));
  fs.writeFileSync(join(dataDir, 'messages.jsonl'), lines.join('\n') + '\n');
  const cli = await spawnCli({ DATA_DIR: dataDir, RATE_LIMIT: 'off' }, 20_000, { openFiles: 120 });
  const raws: RawClient[] = [];
  try {
    for (let i = 0; i < 300; i++) { // until the server has no descriptor left for one more
      const raw = rawClient(cli.port);
      raws.push(raw);
      try { await raw.join({ name: `c${i}` }, 2000); } catch { break; }
    }
    assert.ok(raws.length < 300, `the limit was reached after ${raws.length} connections`);
    const speaker = raws[0];
    const acked = new Promise<string>((resolve) => speaker.ws.on('message', (d) => {
      const text = d.toString();
      if (text.startsWith('430')) resolve(text); // the ack of our message: the compaction it triggers needs files
    }));
    speaker.send('420["textmsg",{"content":"past 5000 lines"}]');
    assert.match(await acked, /"ok":true/);
    await waitUntil(() => /could not compact/.test(cli.output), 'the failed compaction is said', 5000);
    await sleep(200);
    assert.not.ok(cli.isExited, `the server is still running:\n${cli.output.slice(-2000)}`);
    raws.splice(10).forEach((r) => r.ws.terminate());
    await sleep(500);
    const fresh = rawClient(cli.port);
    raws.push(fresh);
    const welcome = await fresh.join({ name: 'late' });
    assert.ok(welcome.history.some((m: { content: string }) => m.content === 'past 5000 lines'));
  } finally {
    raws.forEach((r) => r.ws.terminate());
    cli.kill();
    await cli.exited;
  }
});

Files('a read-only or unusable DATA_DIR gets a plain sentence at start', async () => {
  const mount = mountTmpfs('64k', ',ro');
  const aFile = join(tempDir(), 'a-file');
  fs.writeFileSync(aFile, 'not a folder');
  const cases: [string, RegExp][] = [[join(aFile, 'data'), /cannot be used \(ENOTDIR\)/]];
  if (mount) cases.push([join(mount, 'data'), /is not writable/]);
  try {
    for (const [dataDir, why] of cases) {
      const error = await spawnCli({ DATA_DIR: dataDir }, 10_000).then((cli) => { cli.kill(); return ''; }, (err: Error) => err.message);
      assert.match(error, /Could not start: The data folder .+ (is not writable|cannot be used)/);
      assert.match(error, why);
      assert.not.match(error, /at .+\.ts:\d+/, 'no stack trace');
    }
  } finally {
    if (mount) unmount(mount);
  }
});

Files.run();

