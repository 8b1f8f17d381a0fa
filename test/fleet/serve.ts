// `drover serve` for a local fleet (the demos): a throwaway token in a 0600 file, any free port, and
// the page's address once it listens. The token is never printed: open the page with
// `http://127.0.0.1:PORT/?token=$(cat FILE)`.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ProcessHandle, waitFor } from '../harness/process.ts';
import type { Fleet } from './fleet.ts';

export interface LiveStatus {
  url: string;
  tokenFile: string;
  process: ProcessHandle;
}

export async function startLiveStatus(fleet: Fleet): Promise<LiveStatus> {
  const tokenFile = join(fleet.dir, 'serve.token');
  writeFileSync(tokenFile, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
  // As the read-only identity: the page can show everything and change nothing.
  const handle = await fleet.startDrover('serve', ['serve', '--port', '0', '--token-file', tokenFile], fleet.viewerEnv);
  const url = await waitFor(() => /drover serve: (http:\/\/\S+)/.exec(handle.logTail(20))?.[1], {
    what: 'drover serve to listen',
    timeoutMs: 30_000,
    processes: [handle],
  });
  return { url, tokenFile, process: handle };
}
