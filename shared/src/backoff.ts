// Retrying with backoff, written once for agent and coordinator. NATS restarts and JetStream
// leader elections make single writes fail for seconds at a time; every caller that must outlast
// that (results, audit records, orders, run records, consumer creation) uses `retry` so the delays,
// the budget and what happens when it runs out are the same everywhere and visible in one place.
import { InvalidInputError } from './errors.ts';

export interface BackoffOptions {
  /** Delay after the first failure. */
  initialMs: number;
  /** Longest delay between two attempts (the doubling stops here). */
  maxMs: number;
}

/**
 * The delay after failed attempt `attempt` (0 for the first): `initialMs` doubled per attempt,
 * capped at `maxMs`. With { initialMs: 100, maxMs: 2000 }: 100, 200, 400, 800, 1600, 2000, 2000, …
 * Pass initialMs = maxMs for a fixed period.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions): number {
  // The exponent is capped so a long retry never computes Infinity (or NaN with initialMs 0).
  return Math.min(options.maxMs, options.initialMs * 2 ** Math.min(Math.max(0, attempt), 52));
}

/** Resolves after `ms`; rejects with the signal's reason if it aborts first (or already has). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
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

export interface RetryOptions<F = never> extends BackoffOptions {
  /**
   * Stop at the first failure after this long since the first attempt.
   * @default no time limit
   */
  forMs?: number;
  /**
   * Stop after this many attempts in all (the first one included).
   * @default no limit (with neither forMs nor attempts, retries until it succeeds or the signal aborts)
   */
  attempts?: number;
  /** Stops retrying: `retry` rejects with the signal's reason (not a give-up: onGiveUp is not called). */
  signal?: AbortSignal;
  /**
   * Whether this error is worth another attempt; when false `retry` rejects with it at once.
   * @default every error is retried
   */
  retryIf?: (error: unknown, attempt: number) => boolean;
  /** Called after each failed attempt that will be retried (e.g. to log every tenth). */
  onRetry?: (error: unknown, attempt: number) => void;
  /**
   * Called with the last error when the budget (forMs / attempts) runs out; what it returns becomes
   * `retry`'s result, so a caller that must not throw reports here and returns a fallback.
   * @default none: `retry` rejects with the last error
   */
  onGiveUp?: (error: unknown) => F;
}

/** Checks the options once, so a typo'd budget fails at the call site and not after hours. */
function checkRetryOptions(options: RetryOptions<unknown>): void {
  const { initialMs, maxMs, forMs, attempts } = options;
  if (!(initialMs >= 0)) throw new InvalidInputError('retry.initialMs', initialMs, 'a delay of 0 ms or more');
  if (!(maxMs >= initialMs)) throw new InvalidInputError('retry.maxMs', maxMs, `a delay of at least ${initialMs} ms`);
  if (forMs !== undefined && !(forMs >= 0))
    throw new InvalidInputError('retry.forMs', forMs, 'a duration of 0 ms or more');
  if (attempts !== undefined && !(Number.isInteger(attempts) && attempts >= 1))
    throw new InvalidInputError('retry.attempts', attempts, 'a whole number of attempts, 1 or more');
}

/**
 * Runs `fn` until it resolves, waiting `backoffDelayMs(attempt)` after each failure. Ends with the
 * first success; with the error when `retryIf` says no; with the signal's reason on abort; and when
 * the budget runs out, with `onGiveUp`'s value or else the last error.
 *
 * @example
 * // A write that must outlast a NATS failover, reported (not thrown) if it never lands:
 * await retry(() => kv.put(key, value), { forMs: 120_000, initialMs: 100, maxMs: 2000,
 *   onGiveUp: (error) => void process.emitWarning(`${key} not written: ${error}`) });
 */
export async function retry<T, F = never>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions<F>,
): Promise<T | F> {
  checkRetryOptions(options);
  const deadline = options.forMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.forMs;
  const maxAttempts = options.attempts ?? Number.POSITIVE_INFINITY;
  for (let attempt = 0; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (options.retryIf && !options.retryIf(error, attempt)) throw error;
      if (attempt + 1 >= maxAttempts || Date.now() > deadline) {
        if (options.onGiveUp) return options.onGiveUp(error);
        throw error;
      }
      options.onRetry?.(error, attempt);
      await sleep(backoffDelayMs(attempt, options), options.signal);
    }
  }
}
