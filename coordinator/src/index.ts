// Public entry of @drover/coordinator (for tests, benchmarks and the demo): the engine, and the
// Kafka and Cassandra planners under their own names.
export * as cassandra from './cassandra/index.ts';
export * from './engine/index.ts';
export * as kafka from './kafka/index.ts';
export * from './plan/index.ts';
