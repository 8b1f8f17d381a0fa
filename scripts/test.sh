#!/usr/bin/env bash
# The one test command: installs what is missing (Debian packages, npm packages, engine jars and
# binaries), then runs every suite: typecheck, lint, unit, integration (real NATS) and engines.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -f test/harness/setup.sh ]; then bash test/harness/setup.sh; fi
# The single-binary test builds the agent with esbuild + Node SEA (~6 s): run it, never skip it here.
export DROVER_TEST_SEA=1
npm run --silent test:all
