#!/usr/bin/env bash
# Schemathesis (PyPI) against each running service with an HTTP API, from its OpenAPI document:
# intake (docs/openapi.yaml), the sla-timer (docs/sla-timer.openapi.yaml), escalation
# (docs/escalation.openapi.yaml) and the notifier's operational endpoints
# (docs/notifier.openapi.yaml), the history (docs/history.openapi.yaml, on a SQLite store) and the
# forecaster's operational endpoints (docs/forecaster.openapi.yaml),
# on the development broker, with the debug build. Part of the
# test command.
#
# Two runs, because one constraint cannot be written in JSON Schema: an instant more than
# INTAKE_MAX_PAST_HOURS (7 days) before receipt is refused with 422, so "any date-time" is not
# all valid. The fuzzing run sets generated instants to now (scripts/schemathesis/hooks.py) and
# runs every check; the coverage run, whose boundary values ignore hooks (it sends 2000-01-01),
# runs every check but the acceptance of schema-valid bodies.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_system_packages
SCHEMATHESIS_VERSION=4.32.5
venv=.build/schemathesis-venv
if [ ! -x "$venv/bin/st" ]; then
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
        # Debian's own python3 needs python3-venv for this.
        sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get install -y -qq python3-venv >/dev/null
        rm -rf "$venv"
        python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi
for product in intake sla-timer escalation notifier history forecaster helpdesk; do [ -x ".build/debug/$product" ] || swift build --product "$product"; done

start_broker .build/debug/helpdesk --partitions 3
intake_port=${SCHEMATHESIS_INTAKE_PORT:-18081}
sla_port=${SCHEMATHESIS_SLA_PORT:-18083}
escalation_port=${SCHEMATHESIS_ESCALATION_PORT:-18084}
notifier_port=${SCHEMATHESIS_NOTIFIER_PORT:-18085}
history_port=${SCHEMATHESIS_HISTORY_PORT:-18086}
forecaster_port=${SCHEMATHESIS_FORECASTER_PORT:-18087}
history_store=$(mktemp -d)
secret=schemathesis-secret-0123456789
export KAFKA_BOOTSTRAP_SERVERS=$BOOTSTRAP LOG_LEVEL=error
HTTP_PORT=$intake_port INTAKE_API_KEYS="crm=$secret" .build/debug/intake >/dev/null 2>&1 &
intake=$!
HTTP_PORT=$sla_port SLA_API_TOKENS="schemathesis=$secret" .build/debug/sla-timer >/dev/null 2>&1 &
sla=$!
HTTP_PORT=$escalation_port ESCALATION_TOKENS="$secret=engineer:schemathesis" .build/debug/escalation >/dev/null 2>&1 &
escalation=$!
HTTP_PORT=$notifier_port .build/debug/notifier >/dev/null 2>&1 &
notifier=$!
HTTP_PORT=$history_port HISTORY_API_TOKENS="schemathesis=$secret" HISTORY_DATABASE_URL="sqlite:$history_store/history.sqlite" \
    .build/debug/history >/dev/null 2>&1 &
history=$!
HTTP_PORT=$forecaster_port .build/debug/forecaster >/dev/null 2>&1 &
forecaster=$!
trap 'kill $intake $sla $escalation $notifier $history $forecaster 2>/dev/null; wait $intake $sla $escalation $notifier $history $forecaster 2>/dev/null; rm -rf "$history_store"; stop_broker' EXIT
for port in "$intake_port" "$sla_port" "$escalation_port" "$notifier_port" "$history_port" "$forecaster_port"; do
    for _ in $(seq 1 150); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 200 ] && break
        sleep 0.2
    done
done

run() {
    local document=$1 port=$2; shift 2
    SCHEMATHESIS_HOOKS=hooks PYTHONPATH=scripts/schemathesis \
        "$venv/bin/st" --config-file scripts/schemathesis/schemathesis.toml run "$document" \
        --url "http://127.0.0.1:$port" -H "Authorization: Bearer $secret" --checks all --max-examples 100 \
        --seed 1 --no-color "$@"
}
echo "schemathesis against intake: fuzzing, every check"
run docs/openapi.yaml "$intake_port" --phases examples,fuzzing
echo "schemathesis against intake: coverage, every check but the acceptance of schema-valid bodies"
run docs/openapi.yaml "$intake_port" --phases coverage --exclude-checks positive_data_acceptance
echo "schemathesis against the sla-timer: every phase, every check"
run docs/sla-timer.openapi.yaml "$sla_port"
echo "schemathesis against escalation: every phase, every check"
run docs/escalation.openapi.yaml "$escalation_port"
echo "schemathesis against the notifier: every phase, every check"
run docs/notifier.openapi.yaml "$notifier_port"
echo "schemathesis against the history: every phase, every check"
run docs/history.openapi.yaml "$history_port"
echo "schemathesis against the forecaster: every phase, every check"
run docs/forecaster.openapi.yaml "$forecaster_port"
