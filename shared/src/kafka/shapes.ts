// The shapes a Kafka migration carries between the planner (coordinator) and the agent that executes
// it against its local broker: reassignments, preferred-leader elections and IncrementalAlterConfigs
// operations, grouped in batches. Defined once here (zod) so the agent never imports the coordinator;
// the planner's types are these. Semantics: coordinator/src/kafka/README.md.
import { z } from 'zod';

/** Topic names as Kafka allows them: letters, digits, ".", "_", "-", at most 249 chars. */
export const TopicNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,249}$/, 'a Kafka topic name (letters, digits, ".", "_", "-"; 1-249 chars)');
export const BrokerIdSchema = z.number().int().min(0).max(2_147_483_647);
export const PartitionIdSchema = z.number().int().min(0).max(1_000_000);

/** One partition's target replica list; the first replica is the preferred leader. */
export const ReassignmentSchema = z
  .object({
    topic: TopicNameSchema,
    partition: PartitionIdSchema,
    replicas: z.array(BrokerIdSchema).min(1).max(64),
  })
  .strict()
  .refine((r) => new Set(r.replicas).size === r.replicas.length, 'replicas without duplicates');
export type Reassignment = z.infer<typeof ReassignmentSchema>;

/** A preferred-leader election (ElectLeaders PREFERRED): the first replica becomes leader. */
export const ElectionSchema = z.object({ topic: TopicNameSchema, partition: PartitionIdSchema }).strict();
export type Election = z.infer<typeof ElectionSchema>;

export const CONFIG_OP_KINDS = ['APPEND', 'SUBTRACT', 'SET', 'DELETE'] as const;
export type ConfigOpKind = (typeof CONFIG_OP_KINDS)[number];

/**
 * The config keys a migration may change: replication throttles only. Anything else a plan carries
 * is refused by the agent (a throttle plan must not become a way to rewrite a broker's config).
 */
export const THROTTLE_CONFIG_KEYS = [
  'leader.replication.throttled.replicas',
  'follower.replication.throttled.replicas',
  'leader.replication.throttled.rate',
  'follower.replication.throttled.rate',
  'replica.alter.log.dirs.io.max.bytes.per.second',
] as const;

/**
 * One IncrementalAlterConfigs operation. `resource` is `topic:<name>` or `broker:<id>`; `value` is
 * null for DELETE. Kafka rejects two operations on one key of a resource in one request, so an
 * executor applies a batch's ops in list order, one request per run of distinct keys.
 */
export const ConfigOpSchema = z
  .object({
    resource: z.string().regex(/^(topic:[A-Za-z0-9._-]{1,249}|broker:\d{1,10})$/, 'topic:<name> or broker:<id>'),
    op: z.enum(CONFIG_OP_KINDS),
    key: z.enum(THROTTLE_CONFIG_KEYS),
    value: z
      .string()
      .regex(/^[A-Za-z0-9:,._*-]{0,100000}$/, 'a throttle value (rates, or partition:broker lists)')
      .nullable(),
  })
  .strict()
  .refine((o) => (o.op === 'DELETE') === (o.value === null), 'value null exactly when op is DELETE');
export type ConfigOp = z.infer<typeof ConfigOpSchema>;

/** Run to completion before the next: configOps, then reassignments (until done and in ISR), then elections. */
export const BatchSchema = z
  .object({
    reassignments: z.array(ReassignmentSchema).default([]),
    elections: z.array(ElectionSchema).default([]),
    configOps: z.array(ConfigOpSchema).default([]),
  })
  .strict();
export type Batch = z.infer<typeof BatchSchema>;
