// What a job and each of its targets look like in KV (drover-jobs, drover-runs). These records are
// the coordinator's whole state: any coordinator can pick a job up from them after a crash.
import { isFinalTargetState, OrderResultSchema, OrderSchema, TARGET_STATES } from '@drover/shared';
import { z } from 'zod';

const CountOrPercentSchema = z.union([
  z.object({ count: z.number().int().min(0) }),
  z.object({ percent: z.number().min(0).max(100) }),
]);

export const JOB_STATES = ['running', 'succeeded', 'failed', 'stopped', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];

export const JobRecordSchema = z.object({
  id: z.string(),
  step: z.string(),
  /** The validated parameters every order of this job carries (needed to sign orders on resume). */
  params: z.record(z.string(), z.unknown()),
  selector: z.string(),
  /** An explicit target list (plan steps may name agents instead of a selector). */
  agents: z.array(z.string()).optional(),
  options: z.object({
    concurrency: CountOrPercentSchema,
    maxErrors: CountOrPercentSchema,
    serialBy: z.string().optional(),
    timeoutMs: z.number(),
    deliveryTimeoutMs: z.number(),
  }),
  /** Targets in dispatch order, grouped by the serial-by label value (one group without --serial-by). */
  groups: z.array(z.object({ key: z.string(), agents: z.array(z.string()) })),
  /**
   * Targets not online when the job was made (offline or silent in the registry): their orders are
   * stored on the stream as they are dispatched, not after the wait for an answer, so a coordinator
   * killed right after dispatch leaves them there for the agent's catch-up.
   */
  away: z.array(z.string()).optional(),
  createdAt: z.number(),
  createdBy: z.string(),
  state: z.enum(JOB_STATES),
  /** Set by `drover job cancel`; the driving coordinator acts on it. */
  cancelRequested: z.boolean().default(false),
  /** The coordinator driving the job and until when (renewed by compare-and-set). */
  owner: z.string().optional(),
  leaseUntil: z.number().optional(),
  finishedAt: z.number().optional(),
  counts: z.record(z.string(), z.number()).optional(),
  message: z.string().optional(),
});
export type JobRecord = z.infer<typeof JobRecordSchema>;

export const RunRecordSchema = z.object({
  jobId: z.string(),
  agentId: z.string(),
  group: z.string(),
  state: z.enum(TARGET_STATES),
  /** The signed order, kept so a resumed coordinator republishes the identical message. */
  order: OrderSchema.optional(),
  /** The order's id when the signed order itself is not known (a target rebuilt by `drover reconcile`). */
  orderId: z.string().optional(),
  /** Stream sequence of the published order (to delete it if it must never be delivered). */
  seq: z.number().optional(),
  dispatchedAt: z.number().optional(),
  acceptedAt: z.number().optional(),
  finishedAt: z.number().optional(),
  result: OrderResultSchema.optional(),
  /** Why the coordinator (not the agent) decided the final state: no-response, skipped, cancelled. */
  reason: z.string().optional(),
  /** A result that arrived after the coordinator had already given the target a final state. */
  late: z.boolean().optional(),
});
export type RunRecord = z.infer<typeof RunRecordSchema>;

export function parseJob(value: unknown): JobRecord | undefined {
  const parsed = JobRecordSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

export function parseRun(value: unknown): RunRecord | undefined {
  const parsed = RunRecordSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/**
 * Final run records written together under one key, `<jobId>._f-<writer>-<n>` (persist.ts RunWriter):
 * a job's results cost a KV write per batch, not per target. Each record keeps its order's id and
 * leaves out the signed order, which nothing needs once the target has its final state.
 */
export const RunBatchSchema = z.object({ runs: z.array(RunRecordSchema) });

/** The run records a KV value of drover-runs holds: one (a target's own key) or a batch; undefined if neither. */
export function parseRuns(value: unknown): RunRecord[] | undefined {
  const one = RunRecordSchema.safeParse(value);
  if (one.success) return [one.data];
  const batch = RunBatchSchema.safeParse(value);
  return batch.success ? batch.data.runs : undefined;
}

/**
 * How far along a record says its target is: not final (0), final without a result (1, the
 * coordinator's own verdict), final on a rejection (2), final on a real result (3). A target's
 * records may sit under several keys (its own, written while it ran, and a batch of final ones);
 * the furthest along is its state, as resultTransition never moves a target back.
 */
function rank(run: RunRecord): number {
  if (!isFinalTargetState(run.state)) return 0;
  if (!run.result) return 1;
  return run.result.status === 'rejected' ? 2 : 3;
}

/** Whether `next`, read after `current`, says as much or more about the target (so it replaces it). */
export function supersedes(next: RunRecord, current: RunRecord | undefined): boolean {
  return current === undefined || rank(next) >= rank(current);
}

/**
 * The id of the order for the target at `position` in the job's dispatch order: deterministic, so a
 * resumed coordinator sends the same id again and the agent's journal keeps it from running twice.
 */
export function orderIdAt(jobId: string, position: number): string {
  return `${jobId}-${position}`;
}

/** Counts targets by state (every state listed, zeros included, so summaries read the same every time). */
export function countStates(runs: Iterable<Pick<RunRecord, 'state'>>): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(TARGET_STATES.map((s) => [s, 0]));
  for (const run of runs) counts[run.state] = (counts[run.state] ?? 0) + 1;
  return counts;
}
