// Public entry of @drover/coordinator (for tests, benchmarks and the demo): the engine.
export * from './engine/index.ts';
