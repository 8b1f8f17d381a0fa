// What agents' events mean for their targets: `accepted` starts the clock on a step's timeout, a
// result gives the target its final state. The rules are pure functions (a transition or none) so
// the job driver and a plan runner read the events stream the same way and the rules can be tested
// without a server. A real result supersedes a rejection: a forged or stale copy of an order can be
// refused before the real order runs, and the real outcome is what the operator must see.
import {
  isFinalTargetState,
  type OrderResult,
  OrderResultSchema,
  orderDigest,
  parseEventSubject,
  type TargetState,
} from '@drover/shared';
import type { SetState } from './job-state.ts';
import type { RunRecord } from './records.ts';

export interface Transition {
  state: TargetState;
  extra: Partial<RunRecord>;
}

/**
 * An `accepted` event moves a dispatched (or not yet known dispatched) target to running. A target
 * this coordinator knows no order of (its first coordinator died before writing the record) takes
 * the order id the agent signed: the result of that order then counts for it (otherwise it would
 * stay `running` for good, its result taken for another order's, as a chaos run found).
 */
export function acceptedTransition(run: RunRecord, body: unknown, now = Date.now()): Transition | undefined {
  if (run.state !== 'dispatched' && run.state !== 'pending') return undefined;
  const { at, orderId } = (body ?? {}) as { at?: unknown; orderId?: unknown };
  const known = run.order?.orderId ?? run.orderId;
  return {
    state: 'running',
    extra: {
      acceptedAt: typeof at === 'number' ? at : now,
      ...(known === undefined && typeof orderId === 'string' ? { orderId } : {}),
    },
  };
}

/**
 * A result for the target's current order gives it the result's status. A target that already has
 * a final state keeps it, except that a rejection gives way to a real result; a result after the
 * coordinator itself ended the target (no-response, timed-out, cancelled) is kept and marked late.
 */
export function resultTransition(run: RunRecord, result: OrderResult): Transition | undefined {
  // A target rebuilt by `drover reconcile` knows its order's id only, not the signed order.
  if (result.orderId !== (run.order?.orderId ?? run.orderId)) return undefined;
  // A rejection of some other message under this order's id (a forged or altered copy) is not this
  // order's outcome: the agent says which message it refused. Without the order, no rejection counts.
  if (
    result.status === 'rejected' &&
    (run.order ? result.rejectedDigest && result.rejectedDigest !== orderDigest(run.order) : true)
  )
    return undefined;
  const final = isFinalTargetState(run.state);
  if (final && run.result && !(run.result.status === 'rejected' && result.status !== 'rejected')) return undefined;
  return { state: result.status, extra: { result, ...(final && !run.result ? { late: true } : {}) } };
}

/** Whether an agent's report (accepted event or result) carries its enrolled key's signature. */
export type ReportCheck = (agentId: string, body: unknown) => { ok: true } | { ok: false; reason: string };

/** A report that failed its check: what it claimed and why it did not count. */
export interface RefusedReport {
  agentId: string;
  kind: 'accepted' | 'result';
  orderId?: string;
  status?: string;
  reason: string;
}

/**
 * Applies one message of a job's events stream to its target through `setState`. Returns false
 * when the message is for no target of the job, or is a report that fails `check` (then nothing
 * changed and nothing needs waking; `onRefused` hears of it).
 */
export function applyEvent(
  runs: ReadonlyMap<string, RunRecord>,
  message: { subject: string; data: Uint8Array },
  setState: SetState,
  now = Date.now(),
  verification?: { check: ReportCheck; onRefused?: (refused: RefusedReport) => void },
): boolean {
  const parsed = parseEventSubject(message.subject);
  const run = parsed ? runs.get(parsed.agentId) : undefined;
  if (!parsed || !run) return false;
  if (parsed.kind !== 'accepted' && parsed.kind !== 'result') return true;
  const body = safeJson(message.data);
  const verdict = verification?.check(parsed.agentId, body);
  if (verdict && !verdict.ok) {
    const claimed = (body ?? {}) as { orderId?: unknown; status?: unknown };
    verification?.onRefused?.({
      agentId: parsed.agentId,
      kind: parsed.kind,
      ...(typeof claimed.orderId === 'string' ? { orderId: claimed.orderId.slice(0, 128) } : {}),
      ...(typeof claimed.status === 'string' ? { status: claimed.status.slice(0, 32) } : {}),
      reason: verdict.reason,
    });
    return false;
  }
  let change: Transition | undefined;
  if (parsed.kind === 'accepted') change = acceptedTransition(run, body, now);
  else {
    const result = OrderResultSchema.safeParse(body);
    if (result.success) change = resultTransition(run, result.data);
  }
  if (change) setState(run, change.state, change.extra);
  return true;
}

/** A message body as JSON, or undefined when it is not JSON (an agent's event is checked after). */
function safeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}
