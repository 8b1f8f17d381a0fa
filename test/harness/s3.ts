// A real S3-compatible server on loopback for the log-shipping tests: Versity's gateway (versitygw,
// Apache 2.0, built by setup.sh with `go install`) on its posix backend, so objects are plain files
// under a folder that survives a stop and a restart ("the bucket is down for a minute").
import fs from 'node:fs';
import path from 'node:path';
import { canConnect, freePort, makeTempDir, type ProcessHandle, startProcess, waitFor } from './process.ts';
import { versitygwBinary } from './versions.ts';

export interface S3Server {
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  readonly region: string;
  /** The root user's keys (tests hand them to agents as a credentials file or environment). */
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Where the posix backend keeps buckets (one folder each) and objects (files). */
  readonly dataDir: string;
  readonly process: ProcessHandle | undefined;
  /** Stops the server (the data stays); `start()` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

export interface StartS3Options {
  /** @default a fresh temp dir */
  dir?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
}

let started = 0;

export async function startS3(options: StartS3Options = {}): Promise<S3Server> {
  const { binary } = versitygwBinary();
  const dir = options.dir ?? makeTempDir('s3');
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const accessKeyId = options.accessKeyId ?? 'drovertestroot';
  const secretAccessKey = options.secretAccessKey ?? `secret-${process.pid}-${Date.now().toString(36)}`;
  const name = `versitygw-${++started}`;
  let handle: ProcessHandle | undefined;
  const server: S3Server = {
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    accessKeyId,
    secretAccessKey,
    dataDir,
    get process() {
      return handle;
    },
    async start() {
      if (handle && !handle.exitInfo) return;
      handle = await startProcess({
        name,
        command: binary,
        args: ['--port', `127.0.0.1:${port}`, '--quiet', 'posix', dataDir],
        // Keys through the environment, so they are not in the process list.
        env: { ROOT_ACCESS_KEY_ID: accessKeyId, ROOT_SECRET_ACCESS_KEY: secretAccessKey },
        logDir: dir,
      });
      const running = handle;
      await waitFor(() => canConnect('127.0.0.1', port), {
        what: `${name} to accept connections on 127.0.0.1:${port}`,
        timeoutMs: 30_000,
        processes: [running],
      });
    },
    async stop() {
      await handle?.stop('SIGTERM', 5_000);
    },
  };
  await server.start();
  return server;
}
