// Feeding a progress display from the events stream: one follower per job (a plan step's job, from
// its first event until it finishes), so the agents' accepted/progress/result events reach the
// bars. A follower that fails only leaves its bars still; the run's outcome never depends on it.
import type { Drover } from '../../engine/index.ts';
import { followTail } from '../../engine/index.ts';
import type { ProgressAction } from './model.ts';

export interface JobFollowers {
  /** Starts following `jobId` (once per job; later calls do nothing). */
  follow(jobId: string): void;
  stop(): Promise<void>;
}

export function jobFollowers(d: Drover, dispatch: (action: ProgressAction) => void): JobFollowers {
  const abort = new AbortController();
  const running = new Map<string, Promise<void>>();
  return {
    follow(jobId) {
      if (running.has(jobId) || abort.signal.aborted) return;
      const loop = (async () => {
        for await (const event of followTail(d, { jobId, fromStart: true, signal: abort.signal })) {
          // Only the agents' own (signed) events move a bar.
          if (event.kind !== 'log' && !event.unverified) dispatch({ type: 'event', event });
        }
      })().catch((error: unknown) => {
        process.emitWarning(`progress of job ${jobId} not followed: ${(error as Error)?.message ?? error}`);
      });
      running.set(jobId, loop);
    },
    async stop() {
      abort.abort();
      await Promise.all(running.values());
    },
  };
}
