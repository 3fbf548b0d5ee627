#!/usr/bin/env bash
# The end-to-end suite at full size (10,000 tickets unless E2E_TICKETS says otherwise): the whole
# stack under `helpdesk dev`, once without faults and once with service instances killed.
# The test command runs the same suite at 400 tickets.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_system_packages
swift build --build-tests >&2
E2E_TICKETS=${E2E_TICKETS:-10000} swift test --skip-build --filter EndToEndTests
