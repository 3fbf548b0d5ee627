#!/usr/bin/env bash
# The web console in headless Chromium: the board's first paint with 10,000 open tickets, and
# event to screen at 100 events a second (targets: 1 s each). Prints the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_system_packages chromium chromium-driver
swift build --build-tests >&2
CONSOLE_BENCH=1 "$(swift build --show-bin-path)/HelpdeskSLAPackageTests.xctest" --testing-library swift-testing \
    --filter ConsoleBenchmark 2>&1 | grep -E "console bench|✘|Issue|error" || true
