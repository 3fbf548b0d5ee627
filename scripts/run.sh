#!/usr/bin/env bash
# The main job: builds what is needed and runs HelpdeskSLA locally on the embedded broker.
# Today that is the development broker with every topic of the contract; the services join
# it as they land (see README). Stop with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_system_packages
swift build --product helpdesk >&2
exec "$(swift build --show-bin-path)/helpdesk" broker "$@"
