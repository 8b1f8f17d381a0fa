// `kafka.broker-configure`: renders this node's server.properties from its cluster's central profile
// (KV drover-profiles: listener map, inter-broker listener, ZooKeeper connect and chroot, overrides)
// plus the node's own facts from the agent's local config (broker id, rack, host, log dirs), and
// writes it where the local config says, atomically. Nothing about the file travels in the order.
import { z } from 'zod';
import { defineStep } from './step.ts';

export const KafkaBrokerConfigureParams = z
  .object({
    /** Only report what would change (the rendered text's digest and the lines that differ). */
    dryRun: z.boolean().default(false),
  })
  .strict();

export const KafkaBrokerConfigureResult = z.object({
  cluster: z.string(),
  brokerId: z.number(),
  /** Whether the file was (or, on a dry run, would be) written. */
  changed: z.boolean(),
  dryRun: z.boolean(),
  sha256: z.string(),
  /** Lines added (+) and removed (-) compared with the file that was there. */
  diff: z.array(z.string()),
});

export const kafkaBrokerConfigureStep = defineStep({
  name: 'kafka.broker-configure',
  summary: "Renders the broker's server.properties from the cluster profile and the node's own facts.",
  params: KafkaBrokerConfigureParams,
  result: KafkaBrokerConfigureResult,
  idempotent: true,
  defaultTimeoutMs: 120_000,
});
