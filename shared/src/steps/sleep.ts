// `sleep`: waits, reporting progress every second; cancellable. For tests, demos and pacing a plan.
import { z } from 'zod';
import { defineStep } from './step.ts';

export const SleepParams = z
  .object({
    seconds: z.number().min(0).max(86_400),
  })
  .strict();
export const SleepResult = z.object({ sleptMs: z.number() });

export const sleepStep = defineStep({
  name: 'sleep',
  summary: 'Sleeps for the given seconds with progress events; stops early when cancelled.',
  params: SleepParams,
  result: SleepResult,
  idempotent: true,
  defaultTimeoutMs: 86_400_000,
});
