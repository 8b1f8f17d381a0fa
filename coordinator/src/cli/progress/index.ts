// Live progress on a terminal (listr2 bars per phase, step and target) for apply, run describe --watch and tail.
export * from './display.ts';
export * from './follow.ts';
export * from './model.ts';
export * from './run-progress.ts';
export * from './text.ts';
export * from './watch-run.ts';
