#!/usr/bin/env bash
# The test command: installs what is missing, builds everything, runs every test suite
# (unit, broker contract against the in-memory double and librdkafka's mock cluster, and
# the cross-process tests with kcat), then schemathesis against each service with an OpenAPI
# document (scripts/schemathesis.sh). The end-to-end run without faults times every breach
# against its deadline (within 1 s), so it runs last, with the machine to itself.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_system_packages chromium chromium-driver
swift build --build-tests
timed='EndToEndTests/withoutFaults'
swift test --skip-build --skip "$timed"
swift test --skip-build --filter "$timed"
./scripts/schemathesis.sh
