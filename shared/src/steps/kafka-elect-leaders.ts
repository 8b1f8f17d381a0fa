// `kafka.elect-leaders`: preferred-leader elections (ElectLeaders PREFERRED, API key 43) through the
// local broker, in batches; ELECTION_NOT_NEEDED counts as success.
import { z } from 'zod';
import { ElectionSchema } from '../kafka/shapes.ts';
import { defineStep } from './step.ts';

export const KafkaElectLeadersParams = z
  .object({
    elections: z.array(ElectionSchema).min(1).max(100_000),
    /** Partitions per ElectLeaders request (Cruise Control: 1000). */
    batchSize: z.number().int().min(1).max(5000).default(1000),
  })
  .strict();

export const KafkaElectLeadersResult = z.object({
  elected: z.number(),
  notNeeded: z.number(),
  durationMs: z.number(),
});

export const kafkaElectLeadersStep = defineStep({
  name: 'kafka.elect-leaders',
  summary: 'Makes each listed partition lead by its preferred (first) replica.',
  params: KafkaElectLeadersParams,
  result: KafkaElectLeadersResult,
  idempotent: true,
  defaultTimeoutMs: 3600_000,
});
