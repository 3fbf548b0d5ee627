#!/usr/bin/env bash
# Schemathesis (PyPI) against each running service that has an OpenAPI document: today intake
# (docs/openapi.yaml), on the development broker, with the debug build. Part of the test command.
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
[ -x .build/debug/intake ] || swift build --product intake
[ -x .build/debug/helpdesk ] || swift build --product helpdesk

start_broker .build/debug/helpdesk --partitions 3
port=${SCHEMATHESIS_INTAKE_PORT:-18081}
key=schemathesis-key-0123456789
KAFKA_BOOTSTRAP_SERVERS=$BOOTSTRAP HTTP_PORT=$port INTAKE_API_KEYS="crm=$key" LOG_LEVEL=error \
    .build/debug/intake >/dev/null 2>&1 &
intake=$!
trap 'kill $intake 2>/dev/null; wait $intake 2>/dev/null; stop_broker' EXIT
for _ in $(seq 1 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 200 ] && break
    sleep 0.2
done

run() {
    SCHEMATHESIS_HOOKS=hooks PYTHONPATH=scripts/schemathesis "$venv/bin/st" run docs/openapi.yaml \
        --url "http://127.0.0.1:$port" -H "Authorization: Bearer $key" --checks all --max-examples 100 \
        --seed 1 --no-color "$@"
}
echo "schemathesis against intake: fuzzing, every check"
run --phases examples,fuzzing
echo "schemathesis against intake: coverage, every check but the acceptance of schema-valid bodies"
run --phases coverage --exclude-checks positive_data_acceptance
