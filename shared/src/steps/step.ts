// What every step declares in the shared catalog: its name, parameter and result schemas, whether
// running it twice is harmless, and its default timeout. The agent holds the implementations.
import type { z } from 'zod';

export interface StepDefinition<Params extends z.ZodType = z.ZodType, Result extends z.ZodType = z.ZodType> {
  name: string;
  summary: string;
  params: Params;
  result: Result;
  /** Running it twice has the same effect as once (the agent still never runs an order twice). */
  idempotent: boolean;
  defaultTimeoutMs: number;
}

export function defineStep<P extends z.ZodType, R extends z.ZodType>(def: StepDefinition<P, R>): StepDefinition<P, R> {
  return def;
}
