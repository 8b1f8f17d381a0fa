// What a plan run keeps in KV drover-plan-runs: the resolved plan (written once, `<run>.plan`) and
// the run's state (`<run>.state`: per phase and per step, which job attempt ran and how it ended,
// approvals, rollback progress, the driving coordinator's lease). These two records are the whole
// state of a run: any coordinator can pick it up after a crash.
import { PlanConditionSchema } from '@drover/shared';
import { z } from 'zod';

const CountOrPercentSchema = z.union([
  z.object({ count: z.number().int().min(0) }),
  z.object({ percent: z.number().min(0).max(100) }),
]);

export const ResolvedStepSchema = z.object({
  name: z.string(),
  step: z.string(),
  target: z.union([z.object({ selector: z.string() }), z.object({ agents: z.array(z.string()).min(1) })]),
  /** Validated against the step's schema, vars substituted. */
  params: z.record(z.string(), z.unknown()),
  options: z.object({
    concurrency: CountOrPercentSchema,
    maxErrors: CountOrPercentSchema,
    serialBy: z.string().optional(),
    timeoutMs: z.number().optional(),
    deliveryTimeoutMs: z.number().optional(),
  }),
});
export type ResolvedStep = z.infer<typeof ResolvedStepSchema>;

export const ResolvedGateCheckSchema = ResolvedStepSchema.extend({ expect: z.array(PlanConditionSchema).min(1) });
export type ResolvedGateCheck = z.infer<typeof ResolvedGateCheckSchema>;

export const ResolvedPhaseSchema = z.object({
  name: z.string(),
  description: z.string().optional(),
  approval: z.boolean(),
  steps: z.array(ResolvedStepSchema),
  gate: z.array(ResolvedGateCheckSchema),
  rollback: z.array(ResolvedStepSchema),
});
export type ResolvedPhase = z.infer<typeof ResolvedPhaseSchema>;

export const ResolvedPlanSchema = z.object({
  apiVersion: z.literal('drover/v1'),
  kind: z.literal('Plan'),
  metadata: z.object({ name: z.string(), cluster: z.string().optional(), description: z.string().optional() }),
  vars: z.record(z.string(), z.unknown()),
  phases: z.array(ResolvedPhaseSchema).min(1),
});
export type ResolvedPlan = z.infer<typeof ResolvedPlanSchema>;

/** States a run and its phases share; a run can also be `paused`, a phase `pending`. */
const SHARED_STATES = [
  'awaiting-approval',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'rolling-back',
  'rolled-back',
  'rollback-failed',
] as const;
export const RUN_STATES = [...SHARED_STATES, 'paused'] as const;
export type RunState = (typeof RUN_STATES)[number];
export const PHASE_STATES = ['pending', ...SHARED_STATES] as const;
export type PhaseState = (typeof PHASE_STATES)[number];

export const STEP_RUN_STATES = ['pending', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type StepRunState = (typeof STEP_RUN_STATES)[number];

/** One step (or gate check, or rollback step) of a phase in a run: its current attempt and outcome. */
export const StepRunSchema = z.object({
  name: z.string(),
  kind: z.enum(['step', 'gate', 'rollback']),
  /** Starts at 1; `drover run resume` after a failure runs the step again as the next attempt. */
  attempt: z.number().int().min(1),
  jobId: z.string().optional(),
  state: z.enum(STEP_RUN_STATES),
  /** The job's final state and counts, or why a gate failed. */
  jobState: z.string().optional(),
  counts: z.record(z.string(), z.number()).optional(),
  message: z.string().optional(),
  startedAt: z.number().optional(),
  finishedAt: z.number().optional(),
});
export type StepRun = z.infer<typeof StepRunSchema>;

export const PhaseRunSchema = z.object({
  name: z.string(),
  state: z.enum(PHASE_STATES),
  /** Steps, then gate checks, in plan order. */
  steps: z.array(StepRunSchema),
  rollback: z.array(StepRunSchema),
  approvedBy: z.string().optional(),
  approvedAt: z.number().optional(),
  startedAt: z.number().optional(),
  finishedAt: z.number().optional(),
  message: z.string().optional(),
});
export type PhaseRun = z.infer<typeof PhaseRunSchema>;

export const PlanRunSchema = z.object({
  id: z.string(),
  name: z.string(),
  cluster: z.string().optional(),
  file: z.string(),
  digest: z.string(),
  createdAt: z.number(),
  createdBy: z.string(),
  state: z.enum(RUN_STATES),
  /** Index of the phase running, waiting, failed or next to run. */
  phase: z.number().int().min(0),
  /** Stop (state paused) after this phase succeeds. */
  until: z.string().optional(),
  phases: z.array(PhaseRunSchema),
  /** Set by `drover run rollback`: phases to undo, in the order they are undone. */
  rollback: z.object({ order: z.array(z.number().int().min(0)), to: z.string().optional() }).optional(),
  cancelRequested: z.boolean().default(false),
  owner: z.string().optional(),
  leaseUntil: z.number().optional(),
  updatedAt: z.number().optional(),
  finishedAt: z.number().optional(),
  message: z.string().optional(),
});
export type PlanRun = z.infer<typeof PlanRunSchema>;

/** Run states in which nobody drives the run (a coordinator may take it up, or it is over). */
export const RESTING_RUN_STATES: readonly RunState[] = [
  'awaiting-approval',
  'paused',
  'succeeded',
  'failed',
  'cancelled',
  'rolled-back',
  'rollback-failed',
];
