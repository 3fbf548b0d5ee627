#!/usr/bin/env bash
# The end-to-end suite at full size (10,000 tickets unless E2E_TICKETS says otherwise): the whole
# stack under `helpdesk dev`: without faults, with instances killed, through a broker outage, after a
# malformed burst (E2E_MALFORMED_BURST, 20,000 unless set), and scaled 1 → 3 → 1.
# The test command runs the same suite at 400 tickets.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_system_packages
swift build --build-tests >&2
E2E_TICKETS=${E2E_TICKETS:-10000} swift test --skip-build --filter EndToEndTests
