// `service`: start, stop, restart or report one service the agent's LOCAL config declares (kafka,
// zookeeper, cassandra…), by name. How it is run (systemd unit or supervised process, argv, paths)
// is the agent's own configuration; the order carries only the name and the action.
import { z } from 'zod';
import { defineStep } from './step.ts';

export const SERVICE_ACTIONS = ['start', 'stop', 'restart', 'status'] as const;

export const ServiceParams = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'a service name from the agent config (e.g. kafka, zookeeper)'),
    action: z.enum(SERVICE_ACTIONS),
  })
  .strict();

export const ServiceResult = z.object({
  name: z.string(),
  action: z.enum(SERVICE_ACTIONS),
  /** Whether the action changed anything (a start of a running service does not). */
  changed: z.boolean(),
  state: z.string(),
  pid: z.number().optional(),
});

export const serviceStep = defineStep({
  name: 'service',
  summary: 'Starts, stops, restarts or reports a service named in the agent config.',
  params: ServiceParams,
  result: ServiceResult,
  idempotent: true,
  defaultTimeoutMs: 600_000,
});
