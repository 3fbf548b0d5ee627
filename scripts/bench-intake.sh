#!/usr/bin/env bash
# intake: tickets.inbound → tickets.received throughput with one intake instance, then
# p50/p99 latency at half of that rate, on the embedded broker.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_system_packages
swift build -c release --product helpdesk >&2
swift build -c release --product intake >&2
BIN=$(swift build -c release --show-bin-path)

# The development broker holds every fetch for the full fetch.wait.max.ms (Kafka answers as
# soon as data arrives), so latency here is measured with a short wait, as a Kafka cluster
# would behave; override to see the effect.
export KAFKA_FETCH_WAIT_MAX_MS=${KAFKA_FETCH_WAIT_MAX_MS:-2}
start_broker "$BIN/helpdesk"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
KAFKA_BOOTSTRAP_SERVERS=$BOOTSTRAP HTTP_PORT=$port LOG_LEVEL=warning "$BIN/intake" &
INTAKE_PID=$!
trap 'kill $INTAKE_PID 2>/dev/null; wait $INTAKE_PID 2>/dev/null; stop_broker' EXIT
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
    sleep 0.1
done

out=$("$BIN/helpdesk" bench pipeline --until received --bootstrap-servers "$BOOTSTRAP" --tickets "${TICKETS:-20000}")
value() { awk -v k="$1" '$1==k{print $2}' <<<"$out"; }
echo
echo "intake: tickets.inbound → tickets.received, one instance, $(nproc) cores, embedded broker, fetch.wait.max.ms=$KAFKA_FETCH_WAIT_MAX_MS"
printf '%-42s %12s\n' "throughput (tickets/s, $(value tickets) tickets)" "$(value throughput_per_s)"
printf '%-42s %12s\n' "latency p50 at $(value latency_rate_per_s)/s (ms)" "$(value latency_p50_ms)"
printf '%-42s %12s\n' "latency p99 at $(value latency_rate_per_s)/s (ms)" "$(value latency_p99_ms)"
printf '%-42s %12s\n' "latency max (ms, $(value latency_samples) samples)" "$(value latency_max_ms)"
