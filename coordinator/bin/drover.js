#!/usr/bin/env node
// The drover CLI entry: oclif discovers commands under src/commands (TypeScript run by Node 24's type stripping).
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });
