// Loaded into the test process by run.ts. On SIGUSR2 it names what keeps the process alive (a server, a socket,
// a child process left open by a test): a run whose suites have ended but that does not exit says why.
import { ChildProcess } from 'node:child_process';
import { Server, Socket } from 'node:net';

const describe = (handle: unknown): string => {
  if (handle instanceof Server) return `a server listening on ${JSON.stringify(handle.address())}`;
  if (handle instanceof Socket) return `a socket ${handle.localAddress}:${handle.localPort} -> ${handle.remoteAddress}:${handle.remotePort}`;
  if (handle instanceof ChildProcess) return `a child process: ${handle.spawnargs.join(' ')}`;
  return (handle as object)?.constructor?.name ?? String(handle);
};

process.on('SIGUSR2', () => {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles(); // what Node counts as keeping it alive
  console.error(`\nStill open after the last suite: ${process.getActiveResourcesInfo().join(', ')}`);
  for (const handle of handles) if (handle !== process.stdout && handle !== process.stderr) console.error(`  ${describe(handle)}`);
});
