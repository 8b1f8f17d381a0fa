// Public entry of @drover/shared: the protocol defined once for agent and coordinator.
export * from './errors.ts';
