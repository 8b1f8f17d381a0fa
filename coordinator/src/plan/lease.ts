// The lease of the coordinator that drives a plan run: taken by compare-and-set (refused while
// another coordinator holds it), renewed every third of its length, and checked on every state
// write, so a coordinator that lost it (frozen, partitioned) can never overwrite the new owner's
// state. Losing it aborts `signal`: the step job being driven stops without writing anything more.
import { LEASE_MS, retryAfterSetup } from '../engine/index.ts';
import { claim, LeaseMovedError, waitForLapse } from '../engine/lease-watch.ts';
import { RunLeasedError, RunLeaseLostError } from './errors.ts';
import { type RunStore, readRun, updateRun } from './store.ts';
import type { PlanRun } from './types.ts';

export class RunLease {
  readonly runId: string;
  readonly owner: string;
  private readonly store: RunStore;
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  /** The latest record seen (after our own writes and every renewal). */
  run: PlanRun;
  /** Called after every renewal with the record read (the runner watches for cancel requests). */
  onRenew: ((run: PlanRun) => void) | undefined;

  private constructor(store: RunStore, run: PlanRun, owner: string) {
    this.store = store;
    this.run = run;
    this.runId = run.id;
    this.owner = owner;
  }

  /**
   * Takes the lease. A run another coordinator holds is watched for one lease (lease-watch.ts) and
   * taken when it lapses; RunLeasedError as soon as the holder renews it, or at once without `wait`.
   * `admit` sees the current record inside the compare-and-set and may refuse (throw) or change it
   * (e.g. from failed back to running); it runs only when the lease is free.
   */
  static async take(
    store: RunStore,
    runId: string,
    owner: string,
    wait = true,
    admit: (run: PlanRun) => PlanRun = (run) => run,
  ): Promise<RunLease> {
    const run = await takeRun(store, runId, owner, wait, admit);
    const lease = new RunLease(store, run, owner);
    lease.timer = setInterval(() => void lease.renew(), LEASE_MS / 3);
    lease.timer.unref();
    return lease;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get lost(): boolean {
    return this.controller.signal.aborted;
  }

  /** Writes a change to the run, only while this coordinator still holds the lease. */
  async write(change: (run: PlanRun) => PlanRun | undefined): Promise<PlanRun> {
    if (this.lost) throw new RunLeaseLostError(this.runId, undefined);
    // Tried again through a NATS restart (a change re-applied to what it already wrote is the same
    // state); a lost lease is not transient and ends it at once.
    const { run } = await retryAfterSetup(() =>
      updateRun(this.store, this.runId, (current) => {
        if (current.owner !== this.owner) {
          this.controller.abort(new RunLeaseLostError(this.runId, current.owner));
          throw new RunLeaseLostError(this.runId, current.owner);
        }
        const next = change(current);
        return next ? { ...next, leaseUntil: Date.now() + LEASE_MS } : undefined;
      }),
    );
    this.run = run;
    return run;
  }

  private renewing = false;

  private async renew(): Promise<void> {
    // A renewal still trying through a NATS restart is not joined by the next one.
    if (this.renewing) return;
    this.renewing = true;
    try {
      await this.write((run) => run);
      this.onRenew?.(this.run);
    } catch (error) {
      if (error instanceof RunLeaseLostError) return;
      // NATS briefly away: the next renewal tries again; a lease that lapses meanwhile is caught by
      // the owner check of the next write.
      this.run = (await readRun(this.store, this.runId).catch(() => undefined))?.run ?? this.run;
    } finally {
      this.renewing = false;
    }
  }

  /** Stops renewing and gives the lease up (the run can be taken at once by anyone). */
  async release(): Promise<void> {
    clearInterval(this.timer);
    if (this.lost) return;
    await updateRun(this.store, this.runId, (run) =>
      run.owner === this.owner ? { ...run, owner: undefined, leaseUntil: 0 } : undefined,
    ).catch((error: unknown) => process.emitWarning(`run ${this.runId}: lease not released: ${String(error)}`));
  }
}

async function takeRun(
  store: RunStore,
  runId: string,
  owner: string,
  wait: boolean,
  admit: (run: PlanRun) => PlanRun,
): Promise<PlanRun> {
  for (let look = 0; ; look++) {
    let { run: watched } = await readRun(store, runId);
    if (watched.owner && watched.owner !== owner && watched.leaseUntil !== 0) {
      const leased = (seen: PlanRun) => new RunLeasedError(runId, seen.owner ?? '', seen.leaseUntil ?? 0);
      if (!wait) throw leased(watched);
      watched = await waitForLapse(async () => (await readRun(store, runId)).run, watched, leased);
    }
    try {
      const { run } = await updateRun(store, runId, (current) => claim(admit(current), watched, owner));
      return run;
    } catch (error) {
      if (!(error instanceof LeaseMovedError) || look >= 5) throw error;
    }
  }
}
