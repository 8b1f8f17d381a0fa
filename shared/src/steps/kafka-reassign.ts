// `kafka.reassign`: carries out planner batches against the cluster of the agent's LOCAL broker (run
// on one delegate agent per cluster). Per batch: the throttle config ops, the reassignments (done
// when they leave ListPartitionReassignments and the ISR holds every target replica), then the
// preferred-leader elections. Idempotent and resumable: a partition already on its target replicas
// is skipped, one already moving toward them is waited for, so a new attempt after an agent restart
// picks up from what the brokers report. `cancelInFlight` first cancels (null replicas) every
// reassignment in flight: what a rollback does before it reassigns back.
import { z } from 'zod';
import { BatchSchema } from '../kafka/shapes.ts';
import { defineStep } from './step.ts';

export const KafkaReassignParams = z
  .object({
    /** What the batches are, for progress and audit (`expand`, `leaders`, `rollback-expand`, …). */
    phase: z.string().regex(/^[a-z][a-z0-9-]{0,40}$/, 'a phase label such as expand or rollback-expand'),
    batches: z.array(BatchSchema).min(1).max(10_000),
    cancelInFlight: z.boolean().default(false),
    /** How often the brokers are asked how far the moves are. */
    pollMs: z.number().int().min(100).max(60_000).default(1000),
  })
  .strict();
export type KafkaReassignParamsType = z.infer<typeof KafkaReassignParams>;

export const KafkaReassignResult = z.object({
  phase: z.string(),
  batches: z.number(),
  /** Partitions moved by this run, and those already on their target replicas (skipped). */
  reassigned: z.number(),
  alreadyInPlace: z.number(),
  cancelled: z.number(),
  elected: z.number(),
  electionsNotNeeded: z.number(),
  configOps: z.number(),
  /**
   * Throttles released as moves finished (before the batch ended): partitions whose entries were
   * subtracted from their topic's throttled-replicas lists, brokers whose rates were deleted.
   */
  throttlesReleasedPartitions: z.number(),
  throttlesReleasedBrokers: z.number(),
  /** Bytes on the new replicas when the last batch ended (DescribeLogDirs), 0 when unknown. */
  bytesOnTargets: z.number(),
  durationMs: z.number(),
});

export const kafkaReassignStep = defineStep({
  name: 'kafka.reassign',
  summary: "Moves partitions in the planner's batches through the local broker (throttles, caps, elections).",
  params: KafkaReassignParams,
  result: KafkaReassignResult,
  idempotent: true,
  defaultTimeoutMs: 24 * 3600_000,
});
