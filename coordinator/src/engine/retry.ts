// Writes that must not be lost while NATS restarts or fails over: retried with backoff for a bounded
// time. A write that still fails after that is reported, not swallowed. The engine's one budget for
// such writes; the retry loop itself is shared/src/backoff.ts.
import { retry } from '@drover/shared';

export interface RetryOptions {
  /** Give up after this long. @default 120000 */
  forMs?: number;
  onGiveUp?: (error: unknown) => void;
}

/** 100 ms doubling to 2 s between attempts. */
export const WRITE_BACKOFF = { initialMs: 100, maxMs: 2000 } as const;

export function retrying<T>(what: () => Promise<T>, options: RetryOptions = {}): Promise<T | undefined> {
  return retry(what, {
    ...WRITE_BACKOFF,
    forMs: options.forMs ?? 120_000,
    onGiveUp: (error) => {
      options.onGiveUp?.(error);
      return undefined;
    },
  });
}

/**
 * Whether a NATS error is a server going away or a JetStream leader being elected (a request that
 * timed out, JetStream briefly unavailable): worth trying again. Permission and validation errors are not.
 * "No responders" (JetStreamNotEnabled) counts only with `noResponders`: before JetStream was ever
 * reached it means a server without JetStream, which waiting does not mend; after that, it is a cluster
 * server just restarted whose JetStream has not started yet (seen in the chaos suite: a job's last
 * write landed on it).
 */
export function isTransientNatsError(error: unknown, options: { noResponders?: boolean } = {}): boolean {
  const e = error as { name?: unknown; message?: unknown } | null | undefined;
  if (!e || typeof e !== 'object') return false;
  const text = `${String(e.name ?? '')} ${String(e.message ?? '')}`;
  if (/permission|authoriz|authentic/i.test(text)) return false;
  if (options.noResponders && /no responders|jetstream is not enabled|JetStreamNotEnabled/i.test(text)) return true;
  return /timeout|temporarily unavailable|no suitable peers|leader/i.test(text);
}

/**
 * Runs `what` again while it fails on a transient NATS error, for up to `forMs`; any other error at once.
 * "No responders" counts as transient for the first `noRespondersForMs` (default 0: JetStream never
 * reached yet, so it may be a server without it; retryAfterSetup: always).
 */
export async function retryTransient<T>(
  what: () => Promise<T>,
  forMs = 60_000,
  options: { noRespondersForMs?: number } = {},
): Promise<T> {
  const until = Date.now() + (options.noRespondersForMs ?? 0);
  return retry(what, {
    ...WRITE_BACKOFF,
    forMs,
    retryIf: (error) => isTransientNatsError(error, { noResponders: Date.now() < until }),
  });
}

/** retryTransient for work on a connection whose JetStream setup succeeded (every engine call after it). */
export function retryAfterSetup<T>(what: () => Promise<T>, forMs = 60_000): Promise<T> {
  return retryTransient(what, forMs, { noRespondersForMs: forMs });
}
