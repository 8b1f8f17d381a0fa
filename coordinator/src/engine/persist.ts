// Writing what the driver decides: run records to KV drover-runs and job events to the events
// stream, each retried through NATS failures and reported (not thrown) if it never lands, because
// the driving loop must go on either way. Run records are the state a resumed coordinator starts
// from, so the writes of one run are chained: an older snapshot never lands after a newer one.
import { COORDINATOR_TOKEN, eventSubject, type JobEvent, runKey } from '@drover/shared';
import type { Drover } from './nats.ts';
import type { RunRecord } from './records.ts';
import { retrying } from './retry.ts';

const warn = (what: string) => (error: unknown) =>
  process.emitWarning(`${what} not written: ${(error as Error)?.message ?? error}`);

export class RunWriter {
  private readonly d: Drover;
  private readonly jobId: string;
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(d: Drover, jobId: string) {
    this.d = d;
    this.jobId = jobId;
  }

  /** Writes a snapshot of the run as it is now, after any earlier write of the same run. */
  persist(run: RunRecord): Promise<unknown> {
    const snapshot = JSON.stringify(run);
    const key = runKey(this.jobId, run.agentId);
    const next = (this.chains.get(key) ?? Promise.resolve()).then(() =>
      retrying(() => this.d.runs.put(key, snapshot), { onGiveUp: warn(`run record ${key}`) }),
    );
    this.chains.set(key, next);
    return next;
  }

  /** Resolves when every write started so far has landed or been given up. */
  async settled(): Promise<void> {
    await Promise.all(this.chains.values());
  }
}

/** Publishes a coordinator job event (started, wave, stopped, verdict, finished, …) in the background. */
export function publishJobEvent(d: Drover, event: JobEvent): void {
  void retrying(() => d.js.publish(eventSubject(event.jobId, COORDINATOR_TOKEN, 'job'), JSON.stringify(event)), {
    onGiveUp: warn('job event'),
  });
}
