// Writing what the driver decides: run records to KV drover-runs and job events to the events
// stream, each retried through NATS failures and reported (not thrown) if it never lands, because
// the driving loop must go on either way. Run records are the state a resumed coordinator starts
// from. A target still on its way (dispatched, running) is written under its own key, and the writes
// of one target are chained so an older snapshot never lands after a newer one. Final records are
// written together, a batch per BATCH_MS (records.ts RunBatchSchema): a 2,000-target job's results
// cost a few KV writes instead of one per target. Readers take, per target, the record furthest
// along (records.ts supersedes), so the batch and the target's own key need no order between them.
import { randomBytes } from 'node:crypto';
import {
  COORDINATOR_TOKEN,
  eventSubject,
  isFinalTargetState,
  type JobEvent,
  runBatchKey,
  runKey,
} from '@drover/shared';
import type { Drover } from './nats.ts';
import type { RunRecord } from './records.ts';
import { retrying } from './retry.ts';

const warn = (what: string) => (error: unknown) =>
  process.emitWarning(`${what} not written: ${(error as Error)?.message ?? error}`);

/** How long final records gather before they are written as one batch. */
const BATCH_MS = 100;
/** A batch is written at once when it reaches this size (a KV value must fit one 1 MiB message). */
const BATCH_MAX_BYTES = 256 * 1024;

export class RunWriter {
  private readonly d: Drover;
  private readonly jobId: string;
  private readonly chains = new Map<string, Promise<unknown>>();
  /** Names this writer's batches apart from any other coordinator's that wrote for the same job. */
  private readonly writerId = randomBytes(6).toString('hex');
  private batches = 0;
  private pending = new Map<string, string>();
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private written: Promise<unknown> = Promise.resolve();

  constructor(d: Drover, jobId: string) {
    this.d = d;
    this.jobId = jobId;
  }

  /** Writes a snapshot of the run as it is now: final ones in the next batch, others under their own key. */
  persist(run: RunRecord): Promise<unknown> {
    if (isFinalTargetState(run.state)) return this.addFinal(run);
    const snapshot = JSON.stringify(run);
    const key = runKey(this.jobId, run.agentId);
    const next = (this.chains.get(key) ?? Promise.resolve()).then(() =>
      retrying(() => this.d.runs.put(key, snapshot), { onGiveUp: warn(`run record ${key}`) }),
    );
    this.chains.set(key, next);
    return next;
  }

  /** Resolves when every write started so far (and the batch gathering now) has landed or been given up. */
  async settled(): Promise<void> {
    this.flush();
    await Promise.all([...this.chains.values(), this.written]);
  }

  private addFinal(run: RunRecord): Promise<unknown> {
    const { order, ...rest } = run;
    const snapshot = JSON.stringify({ ...rest, orderId: order?.orderId ?? run.orderId });
    const before = this.pending.get(run.agentId);
    // A record that would take the batch past its size goes into the next one (a big result alone).
    if (before === undefined && this.pending.size > 0 && this.pendingBytes + snapshot.length > BATCH_MAX_BYTES)
      this.flush();
    this.pending.set(run.agentId, snapshot);
    this.pendingBytes += snapshot.length - (before?.length ?? 0);
    if (this.pendingBytes >= BATCH_MAX_BYTES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), BATCH_MS);
    return this.written;
  }

  /** Writes the gathered final records as one batch, after the batches before it. */
  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const value = `{"runs":[${[...this.pending.values()].join(',')}]}`;
    const key = runBatchKey(this.jobId, this.writerId, this.batches++);
    this.pending = new Map();
    this.pendingBytes = 0;
    this.written = this.written.then(() =>
      retrying(() => this.d.runs.put(key, value), { onGiveUp: warn(`final run records ${key}`) }),
    );
  }
}

/** Publishes a coordinator job event (started, wave, stopped, verdict, finished, …) in the background. */
export function publishJobEvent(d: Drover, event: JobEvent): void {
  void retrying(() => d.js.publish(eventSubject(event.jobId, COORDINATOR_TOKEN, 'job'), JSON.stringify(event)), {
    onGiveUp: warn('job event'),
  });
}
