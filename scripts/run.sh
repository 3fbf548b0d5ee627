#!/usr/bin/env bash
# The main job: builds what is needed and runs HelpdeskSLA locally on the embedded broker,
# each part as its own process with the environment compose gives it. Today: the development
# broker, intake, the classifier and the sla-timer (escalation joins when it lands). Ctrl-C
# stops everything gracefully.
#   --demo   also sends demo/tickets.jsonl (all severities, a docs error, an ineligible
#            organization, a CC escalation) once everything is ready.
# Other arguments go to `helpdesk broker` (e.g. --partitions 3).
set -euo pipefail
cd "$(dirname "$0")/.."
demo=false
broker_args=()
for argument in "$@"; do
    if [ "$argument" = "--demo" ]; then demo=true; else broker_args+=("$argument"); fi
done
source scripts/lib.sh
ensure_system_packages
swift build --product helpdesk >&2
swift build --product intake >&2
swift build --product classifier >&2
swift build --product sla-timer >&2
BIN=$(swift build --show-bin-path)

BROKER_LOG=$(mktemp)
start_broker "$BIN/helpdesk" ${broker_args[@]+"${broker_args[@]}"}
export KAFKA_BOOTSTRAP_SERVERS=$BOOTSTRAP
export LOG_LEVEL=${LOG_LEVEL:-info}
INTAKE_PORT=${INTAKE_PORT:-8081}
CLASSIFIER_PORT=${CLASSIFIER_PORT:-8082}
SLA_TIMER_PORT=${SLA_TIMER_PORT:-8083}
DEV_KEY=${DEV_KEY:-dev-crm-key-0123456789}

pids=()
stop() {
    trap - INT TERM EXIT
    echo "stopping…" >&2
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    stop_broker
    rm -f "$BROKER_LOG"
}
trap stop INT TERM EXIT

# Each process's log lines are prefixed with its name; the prefixers ignore Ctrl-C so they outlive
# the services and pass on their last words.
HTTP_PORT=$INTAKE_PORT INTAKE_API_KEYS="crm=$DEV_KEY,mail=$DEV_KEY-mail" \
    "$BIN/intake" 2> >(trap '' INT TERM; sed -u 's/^/[intake] /' >&2) &
pids+=($!)
HTTP_PORT=$CLASSIFIER_PORT "$BIN/classifier" 2> >(trap '' INT TERM; sed -u 's/^/[classifier] /' >&2) &
pids+=($!)
HTTP_PORT=$SLA_TIMER_PORT HELPDESK_POLICY_FILE=compose/config/policy.yaml KAFKA_GROUP_INSTANCE_ID=sla-timer-1 \
    "$BIN/sla-timer" 2> >(trap '' INT TERM; sed -u 's/^/[sla-timer] /' >&2) &
pids+=($!)

for port in "$INTAKE_PORT" "$CLASSIFIER_PORT" "$SLA_TIMER_PORT"; do
    for _ in $(seq 1 150); do
        curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
        sleep 0.2
    done
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { echo "the service on port $port did not become ready" >&2; exit 1; }
done

cat <<INFO
HelpdeskSLA is running.
  Kafka (embedded broker):  $BOOTSTRAP
  intake API:               http://127.0.0.1:$INTAKE_PORT  (OpenAPI at /openapi.yaml)
  API keys:                 crm=$DEV_KEY   mail=$DEV_KEY-mail
  metrics:                  http://127.0.0.1:$INTAKE_PORT/metrics (intake), http://127.0.0.1:$CLASSIFIER_PORT/metrics (classifier),
                            http://127.0.0.1:$SLA_TIMER_PORT/metrics (sla-timer)
  clock of a ticket:        http://127.0.0.1:$SLA_TIMER_PORT/v1/sla/{ticketId}  or  $BIN/helpdesk sla status crm/CRM-1
Try:
  curl -X POST http://127.0.0.1:$INTAKE_PORT/v1/tickets -H 'Authorization: Bearer $DEV_KEY' \\
    -d '{"source":"crm","externalId":"CRM-1","organizationId":"acme","subject":"SSO login fails for everyone"}'
  $BIN/helpdesk tail tickets.classified sla.events --bootstrap-servers $BOOTSTRAP
Stop with Ctrl-C.
INFO
if $demo; then
    "$BIN/helpdesk" send demo/tickets.jsonl --bootstrap-servers "$BOOTSTRAP"
    echo "demo tickets sent: watch them with  $BIN/helpdesk tail tickets.classified sla.events docs.feedback tickets.rejected --bootstrap-servers $BOOTSTRAP"
fi
wait "${pids[@]}"
