// The coordinator engine's public surface (commands import from here).
export * from './agent-keys.ts';
export * from './agents.ts';
export * from './cas.ts';
export * from './driver.ts';
export * from './errors.ts';
export * from './jobs.ts';
export * from './keys.ts';
export * from './nats.ts';
export * from './one-job.ts';
export * from './options.ts';
export * from './reconcile.ts';
export * from './records.ts';
export * from './redact.ts';
export { isTransientNatsError, retryAfterSetup, retryTransient } from './retry.ts';
export * from './tail.ts';
