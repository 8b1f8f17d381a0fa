// The agent's configuration file (JSON), defined here because both sides use it: the agent reads it,
// `drover agent init` writes a template. Secrets (NATS password, token, creds) stay in this file and
// never reach logs or the registry.
import { z } from 'zod';
import { TokenSchema } from './envelopes.ts';

const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;
const LABEL_VALUE = /^[A-Za-z0-9._-]{0,63}$/;

export const AllowedCommandSchema = z
  .object({
    /** The argv to run, no shell. `{name}` in an element is replaced by the declared parameter's value. */
    argv: z.array(z.string().min(1)).min(1),
    /** Parameters an order may set, each with a regex its value must match in full. */
    params: z.record(z.string(), z.object({ pattern: z.string(), description: z.string().optional() })).default({}),
    timeoutMs: z.number().int().positive().optional(),
    cwd: z.string().optional(),
  })
  .strict();
export type AllowedCommand = z.infer<typeof AllowedCommandSchema>;

export const AgentConfigSchema = z
  .object({
    id: TokenSchema,
    labels: z.record(z.string().regex(LABEL_KEY), z.string().regex(LABEL_VALUE)).default({}),
    nats: z
      .object({
        servers: z.array(z.string().min(1)).min(1),
        user: z.string().optional(),
        pass: z.string().optional(),
        token: z.string().optional(),
        credsFile: z.string().optional(),
        tlsCaFile: z.string().optional(),
      })
      .strict(),
    /** Coordinator public keys (ed25519 SPKI PEM text or a path to a .pem file) whose orders are obeyed. */
    trustedKeys: z.array(z.string().min(1)).min(1),
    stateDir: z.string().min(1),
    commands: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/), AllowedCommandSchema).default({}),
    heartbeatMs: z.number().int().min(100).default(10_000),
    /** How many orders may run at the same time. */
    maxConcurrentOrders: z.number().int().min(1).max(64).default(4),
    /** How long NATS waits for an order's ack before redelivering it (the agent extends it while a step runs). */
    ackWaitMs: z.number().int().min(1000).default(30_000),
    /** Tolerated clock difference with the coordinator when checking issue/expiry times. */
    clockSkewMs: z.number().int().min(0).default(30_000),
    /** Collect full host facts at registration (slow on some hosts); the summary is always sent. */
    registerFullFacts: z.boolean().default(true),
  })
  .strict();
export type AgentConfig = z.infer<typeof AgentConfigSchema>;
export type AgentConfigInput = z.input<typeof AgentConfigSchema>;

/** What an agent writes about itself into KV drover-agents (no secrets). */
export const AgentRecordSchema = z.object({
  id: z.string(),
  labels: z.record(z.string(), z.string()),
  version: z.string(),
  startedAt: z.number(),
  lastSeen: z.number(),
  heartbeatMs: z.number(),
  status: z.enum(['online', 'offline']),
  steps: z.array(z.string()),
  facts: z.record(z.string(), z.unknown()),
});
export type AgentRecord = z.infer<typeof AgentRecordSchema>;
