#!/usr/bin/env bash
# The one demo command: installs what is missing, then runs the embedded local fleet demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run --silent demo -- "$@"
