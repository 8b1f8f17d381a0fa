// `ping`: is the agent there and who is it — a facts summary, cheap enough for the whole fleet at once.
import { z } from 'zod';
import { defineStep } from './step.ts';

export const PingParams = z.object({}).strict();
export const FactsSummarySchema = z.object({
  hostname: z.string(),
  os: z.string(),
  arch: z.string(),
  cpus: z.number(),
  memoryBytes: z.number(),
  uptimeSec: z.number(),
});
export type FactsSummary = z.infer<typeof FactsSummarySchema>;
export const PingResult = z.object({
  agentId: z.string(),
  version: z.string(),
  labels: z.record(z.string(), z.string()),
  facts: FactsSummarySchema,
});

export const pingStep = defineStep({
  name: 'ping',
  summary: 'Answers with the agent id, version, labels and a facts summary.',
  params: PingParams,
  result: PingResult,
  idempotent: true,
  defaultTimeoutMs: 30_000,
});
