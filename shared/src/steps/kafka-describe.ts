// `kafka.describe`: the live cluster as the Kafka planner reads it (its cluster-file format, see
// coordinator/src/kafka/model.ts): brokers with host, rack, listeners and throttle configs; every
// topic, internal ones included, with every partition's replicas, leader, ISR, offline replicas,
// reassignment in flight and size. Read through the delegate agent's local broker; changes nothing.
import { z } from 'zod';
import { defineStep } from './step.ts';

export const KafkaDescribeParams = z.object({}).strict();

const ConfigEntry = z.object({ name: z.string(), value: z.string(), source: z.string() });

export const KafkaDescribeResult = z.object({
  clusterId: z.string(),
  controller: z.number(),
  brokers: z.array(
    z.object({
      id: z.number(),
      host: z.string(),
      port: z.number(),
      rack: z.string().nullable(),
      configs: z.array(ConfigEntry),
    }),
  ),
  topics: z.array(
    z.object({
      name: z.string(),
      internal: z.boolean(),
      configs: z.array(ConfigEntry),
      partitions: z.array(
        z.object({
          partition: z.number(),
          replicas: z.array(z.number()),
          leader: z.number(),
          isr: z.array(z.number()),
          offlineReplicas: z.array(z.number()),
          addingReplicas: z.array(z.number()),
          removingReplicas: z.array(z.number()),
          sizeBytes: z.number().nullable(),
        }),
      ),
    }),
  ),
});
export type KafkaDescription = z.infer<typeof KafkaDescribeResult>;

export const kafkaDescribeStep = defineStep({
  name: 'kafka.describe',
  summary: 'Reads brokers, topics (internal ones included), partitions, sizes and throttles; changes nothing.',
  params: KafkaDescribeParams,
  result: KafkaDescribeResult,
  idempotent: true,
  defaultTimeoutMs: 600_000,
});
