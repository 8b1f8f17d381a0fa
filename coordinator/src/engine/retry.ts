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
