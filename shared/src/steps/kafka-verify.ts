// `kafka.verify`: reads the cluster through the local broker and reports, without changing anything,
// whether it is as expected: the pre-flight and the gate after each phase. It returns `ok` and the
// figures instead of failing, so a plan's gate states what must hold (`expect: { field: ok, equals: true }`
// or finer conditions such as `underReplicated` atMost 0).
import { z } from 'zod';
import { BrokerIdSchema, ReassignmentSchema } from '../kafka/shapes.ts';
import { defineStep } from './step.ts';

export const KafkaVerifyParams = z
  .object({
    /** Expected replica lists, in order (the first is the preferred leader). */
    assignment: z.array(ReassignmentSchema).max(100_000).optional(),
    /** These brokers are live members of the cluster (e.g. destination brokers that just started). */
    brokers: z.array(BrokerIdSchema).min(1).max(10_000).optional(),
    /** Every replica of every partition (internal topics included) is on one of these brokers. */
    onlyBrokers: z.array(BrokerIdSchema).min(1).max(10_000).optional(),
    /** Every partition is led by its first replica. */
    leadersPreferred: z.boolean().default(false),
    /** No reassignment is in flight. */
    noReassignments: z.boolean().default(true),
    /** No replication throttle is set on any broker or topic. */
    noThrottles: z.boolean().default(false),
    /** Every partition's ISR holds all its replicas. */
    fullIsr: z.boolean().default(true),
  })
  .strict();

export const KafkaVerifyResult = z.object({
  ok: z.boolean(),
  partitions: z.number(),
  underReplicated: z.number(),
  offline: z.number(),
  reassignmentsInFlight: z.number(),
  throttles: z.number(),
  leadersNotPreferred: z.number(),
  assignmentMismatches: z.number(),
  replicasOutside: z.number(),
  /** Brokers asked for with `brokers` that are not live. */
  brokersMissing: z.number(),
  /** The first problems found, as sentences (at most 50). */
  problems: z.array(z.string()),
});

export const kafkaVerifyStep = defineStep({
  name: 'kafka.verify',
  summary: 'Checks assignment, leaders, ISR, reassignments in flight and throttles; changes nothing.',
  params: KafkaVerifyParams,
  result: KafkaVerifyResult,
  idempotent: true,
  defaultTimeoutMs: 600_000,
});
