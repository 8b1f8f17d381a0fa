// Deadlines that give every target a named final state even when its agent goes silent: an order
// nobody took before it expired ends `no-response` (and is removed from the stream), a step whose
// result never came ends `timed-out`, and after a cancel, a target whose agent did not confirm in
// time ends `cancelled`. The rule is a pure function of the run and the clock; the scan applies it.
import { isFinalTargetState } from '@drover/shared';
import { deleteStoredOrder } from './dispatch.ts';
import type { SetState } from './job-state.ts';
import type { Drover } from './nats.ts';
import { DELIVERY_GRACE_MS, RESULT_GRACE_MS } from './options.ts';
import type { RunRecord } from './records.ts';

export interface CancelWindow {
  /** When the driver saw the job's cancel request; undefined while there is none. */
  seenAt: number | undefined;
  /** How long agents have to confirm a cancel. */
  graceMs: number;
}

export interface Overdue {
  state: 'no-response' | 'timed-out' | 'cancelled';
  reason: string;
}

/**
 * The final state a target is owed at `now`, or undefined when it has none yet. A dispatched order
 * gets DELIVERY_GRACE_MS past its expiry (for an `accepted` event in flight); a running step gets
 * its timeout from when it was accepted plus RESULT_GRACE_MS (for the result in flight).
 */
export function overdue(run: RunRecord, now: number, cancel: CancelWindow, jobTimeoutMs?: number): Overdue | undefined {
  if (run.state === 'dispatched' && run.order && now > run.order.expiresAt + DELIVERY_GRACE_MS) {
    return {
      state: 'no-response',
      reason: `agent did not take the order before it expired at ${new Date(run.order.expiresAt).toISOString()}`,
    };
  }
  // A target running an order this coordinator never saw signed (see JobRuns) has the job's timeout.
  const timeoutMs = run.order?.timeoutMs ?? jobTimeoutMs;
  if (
    run.state === 'running' &&
    timeoutMs !== undefined &&
    now > (run.acceptedAt ?? now) + timeoutMs + RESULT_GRACE_MS
  ) {
    return {
      state: 'timed-out',
      reason: `no result within the ${timeoutMs} ms timeout plus ${RESULT_GRACE_MS} ms`,
    };
  }
  if (cancel.seenAt !== undefined && !isFinalTargetState(run.state) && now > cancel.seenAt + cancel.graceMs) {
    return { state: 'cancelled', reason: 'cancel requested; the agent did not confirm in time' };
  }
  return undefined;
}

/** Ends every overdue target; a no-response order is removed from the stream first. */
export async function endOverdue(
  d: Drover,
  runs: Iterable<RunRecord>,
  now: number,
  cancel: CancelWindow,
  setState: SetState,
  jobTimeoutMs?: number,
): Promise<void> {
  for (const run of runs) {
    const due = overdue(run, now, cancel, jobTimeoutMs);
    if (!due) continue;
    if (due.state === 'no-response') await deleteStoredOrder(d, run);
    run.reason = due.reason;
    setState(run, due.state);
  }
}
