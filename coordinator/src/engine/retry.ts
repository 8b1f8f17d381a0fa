// Writes that must not be lost while NATS restarts or fails over: retried with backoff for a bounded
// time. A write that still fails after that is reported, not swallowed.
export interface RetryOptions {
  /** Give up after this long. @default 120000 */
  forMs?: number;
  onGiveUp?: (error: unknown) => void;
}

export async function retrying<T>(what: () => Promise<T>, options: RetryOptions = {}): Promise<T | undefined> {
  const deadline = Date.now() + (options.forMs ?? 120_000);
  for (let attempt = 0; ; attempt++) {
    try {
      return await what();
    } catch (error) {
      if (Date.now() > deadline) {
        options.onGiveUp?.(error);
        return undefined;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 100 * 2 ** Math.min(attempt, 5))));
    }
  }
}
