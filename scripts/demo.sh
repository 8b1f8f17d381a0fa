#!/usr/bin/env bash
# The one demo command: installs what is missing (Debian packages, npm packages, ZooKeeper, Kafka and
# Cassandra jars cached in the home folder), then migrates a live local Kafka cluster and a live local
# Cassandra cluster with Drover (demo/run.ts).
#   bash scripts/demo.sh                    # the Kafka demo, then the Cassandra demo
#   bash scripts/demo.sh kafka [--keep]     # one of them (--keep: leave the Kafka demo running)
#   bash scripts/demo.sh cassandra
set -euo pipefail
case "${1:-}" in
  '' | all | kafka | cassandra | -*) ;;
  *)
    echo "usage: bash scripts/demo.sh [kafka|cassandra|all] [options]" >&2
    exit 2
    ;;
esac
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash test/harness/setup.sh
npm run --silent demo -- "$@"
