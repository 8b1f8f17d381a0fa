// Public entry of @drover/shared: the protocol defined once for agent and coordinator.
export * from './agent-config.ts';
export * from './backoff.ts';
export * from './canonical.ts';
export * from './envelopes.ts';
export * from './errors.ts';
export * from './kafka/shapes.ts';
export * from './plan/schema.ts';
export * from './selector.ts';
export * from './signing.ts';
export * from './steps/catalog.ts';
export * from './steps/command.ts';
export * from './steps/facts.ts';
export * from './steps/ping.ts';
export * from './steps/sleep.ts';
export * from './steps/step.ts';
export * from './subjects.ts';
