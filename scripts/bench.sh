#!/usr/bin/env bash
# Every benchmark, printing its figures.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bench-transport.sh
./scripts/bench-sla.sh
./scripts/bench-codec.sh
./scripts/bench-intake.sh
./scripts/bench-classify.sh
./scripts/bench-sla-timer.sh
./scripts/bench-status.sh
./scripts/bench-notifier.sh
./scripts/bench-pipeline.sh
./scripts/bench-history.sh
./scripts/bench-console.sh
./scripts/bench-forecast.sh
