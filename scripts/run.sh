#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs HelpdeskSLA locally with
# `helpdesk dev`: the embedded broker and the six services (intake, classifier, sla-timer,
# escalation, notifier, history on SQLite), each its own process with the environment compose
# gives it. It prints the URLs, API keys and tokens once every service is ready; Ctrl-C stops
# everything gracefully.
#   --demo                 also sends demo/tickets.jsonl (all severities, a docs error, an
#                          ineligible organization, a CC escalation) once everything is ready
#   --scale sla-timer=2    more instances of a service (any of the six; repeatable)
#   --bootstrap-file FILE  writes the embedded broker's address for other tools
# Any other `helpdesk dev` option works too (`helpdesk dev --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_system_packages
swift build >&2
exec "$(swift build --show-bin-path)/helpdesk" dev "$@"
