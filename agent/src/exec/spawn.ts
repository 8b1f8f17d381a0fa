// The one way the agent runs a program to completion (the SSM agent's shared executor is the model):
// an argv array, never a shell; the child leads its own process group, so a timeout or an abort stops
// whatever it started too (SIGTERM, then SIGKILL after a grace); stdout and stderr are streamed in
// chunks as they come and their LAST bytes kept, capped, for the result.
import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { SpawnError } from './errors.ts';
import { signalGroup } from './process-group.ts';

/** Bytes of stdout and of stderr kept in the result by default (the last ones: errors and summaries). */
export const CAPTURE_BYTES = 64 * 1024;
/** Default time between SIGTERM and SIGKILL when a run is aborted or times out. */
export const KILL_GRACE_MS = 3_000;

export type OutputStream = 'stdout' | 'stderr';

export interface RunProcessOptions {
  /** The program (absolute path, or a name looked up in PATH) and its arguments, each passed as is. */
  argv: readonly [string, ...string[]];
  /** Working directory. @default the agent's */
  cwd?: string | undefined;
  /** Added to (and overriding) the agent's own environment. @default none */
  env?: Readonly<Record<string, string>> | undefined;
  /** Stops the process group (SIGTERM, then SIGKILL) after this long; the result says `timedOut`. @default none */
  timeoutMs?: number | undefined;
  /** Aborting stops the process group like a timeout; the run then rejects with `signal.reason`. */
  signal?: AbortSignal | undefined;
  /** Time between SIGTERM and SIGKILL. @default KILL_GRACE_MS */
  killGraceMs?: number | undefined;
  /** Bytes of stdout and of stderr kept in the result (the last ones). @default CAPTURE_BYTES */
  captureBytes?: number | undefined;
  /** Receives every chunk of output as it arrives, decoded as UTF-8 (never split inside a character). */
  onOutput?: ((stream: OutputStream, text: string) => void) | undefined;
}

export interface RunProcessResult {
  /** null when the process was killed by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The last `captureBytes` of each stream. */
  stdout: string;
  stderr: string;
  /** Whether either stream produced more than was kept. */
  truncated: boolean;
  /** Whether the run was stopped because it exceeded `timeoutMs`. */
  timedOut: boolean;
  durationMs: number;
}

/**
 * Runs `argv` to completion. Resolves with the outcome whatever the exit code (non-zero is the caller's
 * to judge) and on timeout (`timedOut`); rejects with SpawnError when the program cannot start, and
 * with `signal.reason` when aborted (after the process group is gone, or the pipes were given up).
 */
export async function runProcess(options: RunProcessOptions): Promise<RunProcessResult> {
  const { argv, signal } = options;
  signal?.throwIfAborted();
  const [program, ...args] = argv;
  if (typeof program !== 'string' || program === '')
    throw new SpawnError(String(program), { cause: new Error('empty argv') });
  const graceMs = options.killGraceMs ?? KILL_GRACE_MS;
  const limit = options.captureBytes ?? CAPTURE_BYTES;
  const started = performance.now();
  const child = spawn(program, args, {
    shell: false,
    cwd: options.cwd,
    env: options.env ? { ...process.env, ...options.env } : process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // The child leads its own process group, so a stop reaches what it started too.
    detached: true,
  });
  const captured = { stdout: new TailBuffer(limit), stderr: new TailBuffer(limit) };
  for (const stream of ['stdout', 'stderr'] as const) {
    const decoder = new StringDecoder('utf8');
    child[stream].on('data', (chunk: Buffer) => {
      captured[stream].push(chunk);
      const text = decoder.write(chunk);
      if (text) options.onOutput?.(stream, text);
    });
    child[stream].on('end', () => {
      const text = decoder.end();
      if (text) options.onOutput?.(stream, text);
    });
  }

  let stopReason: 'aborted' | 'timeout' | undefined;
  const timers: NodeJS.Timeout[] = [];
  const signalAll = (sig: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    // The whole group, even when its leader has exited: what it started may still hold the pipes.
    if (!signalGroup(child.pid, sig)) child.kill(sig); // no group (never formed): the child itself
  };
  const stop = (reason: 'aborted' | 'timeout') => {
    if (stopReason) return;
    stopReason = reason;
    signalAll('SIGTERM');
    timers.push(setTimeout(() => signalAll('SIGKILL'), graceMs));
  };
  const onAbort = () => stop('aborted');
  signal?.addEventListener('abort', onAbort, { once: true });
  if (options.timeoutMs !== undefined) timers.push(setTimeout(() => stop('timeout'), options.timeoutMs));

  let outcome: { exitCode: number | null; signal: NodeJS.Signals | null };
  try {
    outcome = await new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', () => {
        // A grandchild that left the process group may hold the pipes open: do not wait for it forever.
        timers.push(
          setTimeout(() => {
            child.stdout.destroy();
            child.stderr.destroy();
          }, graceMs),
        );
      });
      child.once('close', (exitCode, exitSignal) => resolve({ exitCode, signal: exitSignal }));
    });
  } catch (cause) {
    throw new SpawnError(program, { cause });
  } finally {
    signal?.removeEventListener('abort', onAbort);
    for (const timer of timers) clearTimeout(timer);
    // A stopped run may end because its pipes were given up while members of its group (which
    // ignored SIGTERM) live on: the grace period is over by then, so they get SIGKILL now.
    if (stopReason && child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
  }
  if (stopReason === 'aborted') signal?.throwIfAborted();
  return {
    exitCode: outcome.exitCode,
    signal: outcome.signal,
    stdout: captured.stdout.toString(),
    stderr: captured.stderr.toString(),
    truncated: captured.stdout.truncated || captured.stderr.truncated,
    timedOut: stopReason === 'timeout',
    durationMs: Math.round(performance.now() - started),
  };
}

/** Keeps the last `limit` bytes written to it. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private kept = 0;
  private readonly limit: number;
  total = 0;
  constructor(limit: number) {
    this.limit = limit;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    this.chunks.push(chunk);
    this.kept += chunk.length;
    while (this.kept - (this.chunks[0]?.length ?? 0) >= this.limit) this.kept -= this.chunks.shift()?.length ?? 0;
  }

  get truncated(): boolean {
    return this.total > this.limit;
  }

  toString(): string {
    let bytes = Buffer.concat(this.chunks);
    if (bytes.length > this.limit) bytes = bytes.subarray(bytes.length - this.limit);
    // Do not start inside a multi-byte UTF-8 character.
    let start = 0;
    while (start < bytes.length && start < 4 && ((bytes[start] as number) & 0xc0) === 0x80) start++;
    return bytes.subarray(start).toString('utf8');
  }
}
