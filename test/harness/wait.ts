// Readiness helpers for tests against real servers: wait for a condition with a named, bounded
// timeout (failing fast when a watched process dies), pick free ports, probe TCP ports.

import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProcessExitedError, WaitTimeoutError } from './errors.ts';
import type { ProcessHandle } from './process.ts';

export interface WaitForOptions {
  /** Names the condition in the timeout error ("nats-2 to accept connections"). */
  what: string;
  timeoutMs: number;
  /** @default 250 */
  intervalMs?: number;
  /** Fail at once (with the log tail) if any of these exits while waiting. */
  processes?: ProcessHandle[];
}

/**
 * Calls `fn` until it returns a truthy value (which is returned) or `timeoutMs` passes; a throw counts
 * as "not yet". The timeout error names `what` and carries the last error as its cause.
 */
export async function waitFor<T>(fn: () => T | Promise<T>, options: WaitForOptions): Promise<NonNullable<T>> {
  const deadline = Date.now() + options.timeoutMs;
  const intervalMs = options.intervalMs ?? 250;
  let lastError: unknown;
  let lastValue: unknown;
  for (;;) {
    for (const p of options.processes ?? []) {
      if (p.exitInfo) {
        throw new ProcessExitedError(p.name, p.exitInfo.code, p.exitInfo.signal, p.logFile, p.logTail(30), {
          cause: new Error(`while waiting for ${options.what}`),
        });
      }
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    try {
      const value = await withTimeout(Promise.resolve().then(fn), remaining);
      if (value) return value as NonNullable<T>;
      lastValue = value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() + intervalMs > deadline) break;
    await sleep(intervalMs);
  }
  const detail =
    lastError instanceof Error
      ? `last error: ${lastError.message}`
      : lastError !== undefined
        ? `last error: ${String(lastError)}`
        : `last value: ${String(lastValue)}`;
  throw new WaitTimeoutError(options.what, options.timeoutMs, detail, { cause: lastError });
}

const handedOutPorts = new Set<number>();

/** A TCP port free on `host` right now (never the same one twice in this process). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.unref();
      server.once('error', reject);
      server.listen(0, host, () => {
        const address = server.address();
        const p = typeof address === 'object' && address ? address.port : 0;
        server.close(() => resolve(p));
      });
    });
    if (!handedOutPorts.has(port)) {
      handedOutPorts.add(port);
      return port;
    }
  }
  throw new Error(`freePort: no new free port found on ${host} after 50 attempts`);
}

/** Whether a TCP connection to host:port is accepted within `timeoutMs`. */
export function canConnect(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`attempt still pending after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
