#!/usr/bin/env bash
# The one demo command: installs what is missing (Debian packages, npm packages, ZooKeeper and Kafka
# jars cached in the home folder), then migrates a live local Kafka cluster with Drover.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash test/harness/setup.sh
npm run --silent demo -- "$@"
