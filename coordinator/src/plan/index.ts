// Plans: load and validate plan files, show them against the registry (dry run), and run them phase
// by phase with gates, approvals and rollback. Uses the engine; never the planners.
export * from './errors.ts';
export * from './events.ts';
export * from './lease.ts';
export * from './load.ts';
export * from './runner.ts';
export * from './show.ts';
export * from './store.ts';
export * from './types.ts';
