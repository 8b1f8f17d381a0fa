// Waiting for a started service to be of use (its port accepts TCP connections), and quoting the end
// of its log when it is not: what an operator reads first when a start fails.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { connect } from 'node:net';

/** Pause between connection attempts. */
const POLL_MS = 100;
/** Longest single connection attempt (a filtered port never answers). */
const CONNECT_TIMEOUT_MS = 1_000;

export type ReadyOutcome =
  | { ready: true }
  | { ready: false; why: 'timeout'; lastError: string }
  | { ready: false; why: 'gone' };

/**
 * Polls `host:port` until a TCP connection succeeds (ready), `timeoutMs` passes (timeout) or
 * `alive()` says the process is gone. Rejects with `signal.reason` when aborted.
 */
export async function waitForPort(
  target: { host: string; port: number },
  timeoutMs: number,
  alive: () => boolean,
  signal?: AbortSignal,
): Promise<ReadyOutcome> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no attempt';
  for (;;) {
    signal?.throwIfAborted();
    if (!alive()) return { ready: false, why: 'gone' };
    const attempt = await tryConnect(target, Math.min(CONNECT_TIMEOUT_MS, Math.max(1, deadline - Date.now())));
    if (attempt === true) return { ready: true };
    lastError = attempt;
    if (Date.now() + POLL_MS > deadline) return { ready: false, why: 'timeout', lastError };
    await pause(POLL_MS, signal);
  }
}

/** Waits `ms`; rejects with `signal.reason` (not a generic AbortError) when aborted. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * `promise`'s value, or undefined once `ms` passed first (the timer is cleared either way, so nothing
 * is left holding the event loop); rejects with `signal.reason` when aborted first.
 */
export async function within<T>(promise: Promise<T>, ms: number, signal?: AbortSignal): Promise<T | undefined> {
  signal?.throwIfAborted();
  const stop = new AbortController();
  const onAbort = () => stop.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await Promise.race([promise, pause(ms, stop.signal).then(() => undefined)]);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    stop.abort(new Error('settled'));
  }
}

/** true when a connection was made, else why not ("connect ECONNREFUSED …", "timed out"). */
function tryConnect(target: { host: string; port: number }, timeoutMs: number): Promise<true | string> {
  return new Promise((resolve) => {
    const socket = connect({ host: target.host, port: target.port });
    const finish = (outcome: true | string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish(`no answer within ${timeoutMs} ms`), timeoutMs);
    socket.once('connect', () => finish(true));
    // A refused connection is the expected "not yet": it becomes the outcome, not an exception.
    socket.once('error', (error) => finish(error.message));
  });
}

/** The last `lines` lines of a log file (from at most its last `maxBytes`); [] when there is no file. */
export function readLogTail(path: string, lines = 20, maxBytes = 16 * 1024): string[] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    // Called while reporting another failure: say why the log is missing rather than hide that failure.
    return [`(cannot read ${path}: ${(error as Error).message})`];
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const all = buffer.toString('utf8').split('\n');
    if (size > length) all.shift(); // probably a partial line
    while (all.length > 0 && all[all.length - 1]?.trim() === '') all.pop();
    return all.slice(-lines);
  } finally {
    closeSync(fd);
  }
}
