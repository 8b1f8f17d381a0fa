// `command`: runs ONE command named in the agent's local allow-list. The wire carries only the entry's
// name and values for the parameters that entry declares; the argv comes from the agent's own config
// and runs without a shell. The agent checks each value against the entry's pattern.
import { z } from 'zod';
import { defineStep } from './step.ts';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export const CommandParams = z
  .object({
    name: z.string().regex(NAME, 'expected an allow-list entry name (letters, digits, "_", ".", "-")'),
    args: z.record(z.string().regex(NAME), z.string().max(4096)).default({}),
  })
  .strict();
export type CommandParamsType = z.infer<typeof CommandParams>;

export const CommandResult = z.object({
  exitCode: z.number().nullable(),
  signal: z.string().nullable(),
  stdout: z.string(),
  stderr: z.string(),
  truncated: z.boolean(),
  durationMs: z.number(),
});

export const commandStep = defineStep({
  name: 'command',
  summary: "Runs one command from the agent's local allow-list with an argv array (never a shell).",
  params: CommandParams,
  result: CommandResult,
  idempotent: false,
  defaultTimeoutMs: 600_000,
});
