// The agent's step implementations by name: the only steps an order can run on this agent.
import { commandImplementation } from './command.ts';
import type { StepImplementation } from './context.ts';
import { factsImplementation } from './facts.ts';
import { pingImplementation } from './ping.ts';
import { serviceImplementation } from './service.ts';
import { sleepImplementation } from './sleep.ts';

export const STEP_IMPLEMENTATIONS: ReadonlyMap<string, StepImplementation> = new Map(
  [pingImplementation, factsImplementation, sleepImplementation, commandImplementation, serviceImplementation].map(
    (impl) => [impl.definition.name, impl as unknown as StepImplementation],
  ),
);
