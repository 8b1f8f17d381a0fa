#!/usr/bin/env node
// The drover CLI entry: oclif discovers commands under src/commands (TypeScript run by Node 24's type stripping).
// Errors name files, lines, columns and values: when stderr is not a terminal (pipes, CI, tests) they
// are printed unwrapped instead of cut at 80 columns (oclif reads OCLIF_COLUMNS when it loads).
if (!process.stderr.isTTY) process.env.OCLIF_COLUMNS ??= '100000';
const { execute } = await import('@oclif/core');

await execute({ dir: import.meta.url });
