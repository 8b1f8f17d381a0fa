// A clock that runs faster than real time by a factor: 10,000x turns a simulated day into 8.64 s.
// Simulated agents of the full rehearsal (real plan runner, real NATS) wait on it; the forecast's
// replay (`drover rehearse run --speed`) paces its output with it.

const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export class ScaledClock {
  readonly speed: number;
  private readonly realStart: number;
  private readonly simulatedStart: number;
  private readonly realNow: () => number;

  /** `speed` simulated ms per real ms; `realNow` is injectable for tests. */
  constructor(speed: number, simulatedStart = 0, realNow: () => number = () => performance.now()) {
    if (!(speed > 0) || !Number.isFinite(speed))
      throw new RangeError(`speed must be a finite number > 0, got ${speed}`);
    this.speed = speed;
    this.realNow = realNow;
    this.realStart = realNow();
    this.simulatedStart = simulatedStart;
  }

  /** Simulated ms now. */
  now(): number {
    return this.simulatedStart + (this.realNow() - this.realStart) * this.speed;
  }

  /** Real ms until the simulated time `at` (0 when it has passed). */
  realMsUntil(at: number): number {
    return Math.max(0, (at - this.now()) / this.speed);
  }

  /** Resolves when the simulated time reaches `at`. */
  until(at: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      // setTimeout fires at once past 2^31-1 ms (24.8 days): wait in pieces and look again.
      const wait = this.realMsUntil(at);
      const timer = setTimeout(
        () => {
          signal?.removeEventListener('abort', abort);
          if (wait > MAX_TIMEOUT_MS) resolve(this.until(at, signal));
          else resolve();
        },
        Math.min(wait, MAX_TIMEOUT_MS),
      );
      const abort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', abort, { once: true });
    });
  }

  /** Resolves after `ms` simulated milliseconds. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.until(this.now() + ms, signal);
  }
}
