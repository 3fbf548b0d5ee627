#!/usr/bin/env bash
# The notifier (release build) on the embedded broker, delivering to a local webhook receiver
# (`helpdesk bench receiver`) and, in a second run, to a real SMTP server (scripts/smtp-sink.py):
# notifications delivered per second, then latency from the `notifications` record to its
# delivery at half of that rate (target p99 ≤ 1 s).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_system_packages
swift build -c release --product helpdesk >&2
swift build -c release --product notifier >&2
BIN=$(swift build -c release --show-bin-path)
NOTIFICATIONS=${NOTIFICATIONS:-5000}
export LOG_LEVEL=warning
export KAFKA_FETCH_WAIT_MAX_MS=${KAFKA_FETCH_WAIT_MAX_MS:-2}
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; stop_broker; rm -rf "$work"' EXIT
start_broker "$BIN/helpdesk"

"$BIN/helpdesk" bench receiver >"$work/receiver" &
pids+=($!)
/usr/bin/python3 scripts/smtp-sink.py --dir "$work/mail" >"$work/sink" &
pids+=($!)
for _ in $(seq 1 100); do grep -q READY "$work/receiver" && grep -q READY "$work/sink" && break; sleep 0.1; done
receiver=$(awk '{print $2}' "$work/receiver")
sink=$(awk '{print $2}' "$work/sink")

cat >"$work/webhook.yaml" <<YAML
webhooks:
  bench: { url: "http://127.0.0.1:$receiver/hook" }
routes:
  - { name: bench, audiences: [supportLead], webhooks: [bench] }
YAML
cat >"$work/email.yaml" <<YAML
routes:
  - { name: bench, audiences: [supportLead], email: [lead@support.example] }
YAML

run() {
    local channel=$1 port=$((18085 + RANDOM % 1000))
    NOTIFIER_ROUTES_FILE="$work/$channel.yaml" NOTIFIER_SMTP_URL="smtp://127.0.0.1:$sink" \
        NOTIFIER_WEBHOOK_BENCH_SECRET="whsec_$(head -c 32 /dev/urandom | base64)" \
        KAFKA_BOOTSTRAP_SERVERS="$BOOTSTRAP" HTTP_PORT=$port "$BIN/notifier" 2>"$work/notifier-$channel.log" &
    local notifier=$!
    for _ in $(seq 1 200); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
    local out
    out=$("$BIN/helpdesk" bench pipeline --until delivered --bootstrap-servers "$BOOTSTRAP" --tickets "$NOTIFICATIONS" \
        --warmup 500 --seconds 10 --cpu-of notifier=$notifier)
    kill -TERM $notifier; wait $notifier 2>/dev/null || true
    value() { awk -v k="$1" '$1==k{print $2}' <<<"$out"; }
    printf '%-8s %14s %12s %18s %18s\n' "$channel" "$(value throughput_per_s)" "$(value latency_rate_per_s)" \
        "$(value latency_p50_ms) / $(value latency_p99_ms)" \
        "$(awk '$1=="cpu_us_per_ticket" && $2=="notifier"{print $3 " / " $4}' <<<"$out")"
}
echo
echo "notifier: $NOTIFICATIONS notifications, one channel per run (target p99 ≤ 1000 ms at half of peak)"
printf '%-8s %14s %12s %18s %18s\n' channel "delivered/s" "at rate/s" "p50 / p99 (ms)" "CPU µs/notif."
run webhook
run email
