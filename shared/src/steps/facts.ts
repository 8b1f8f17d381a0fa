// `facts`: the agent's full host facts (cpu, memory, disks, os, network) from systeminformation.
import { z } from 'zod';
import { defineStep } from './step.ts';

export const FactsParams = z.object({}).strict();
export const HostFactsSchema = z.object({
  hostname: z.string(),
  os: z.object({ platform: z.string(), distro: z.string(), release: z.string(), kernel: z.string(), arch: z.string() }),
  cpu: z.object({ manufacturer: z.string(), brand: z.string(), cores: z.number(), physicalCores: z.number() }),
  memory: z.object({ totalBytes: z.number(), availableBytes: z.number() }),
  disks: z.array(z.object({ mount: z.string(), fs: z.string(), sizeBytes: z.number(), usedBytes: z.number() })),
  network: z.array(z.object({ iface: z.string(), ip4: z.string(), ip6: z.string(), mac: z.string() })),
  uptimeSec: z.number(),
});
export type HostFacts = z.infer<typeof HostFactsSchema>;

export const factsStep = defineStep({
  name: 'facts',
  summary: 'Collects the full host facts: cpu, memory, disks, os and network interfaces.',
  params: FactsParams,
  result: HostFactsSchema,
  idempotent: true,
  defaultTimeoutMs: 60_000,
});
