#!/usr/bin/env node
// Entry point of the drover-agent daemon (also the single-binary build's entry).
import { main } from '../src/main.ts';

process.exitCode = await main(process.argv.slice(2));
