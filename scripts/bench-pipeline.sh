#!/usr/bin/env bash
# The whole pipeline: tickets.inbound → sla.started through one instance of each service under
# `helpdesk dev` (release build, embedded broker), against kcat producing and consuming the
# same bytes on the same broker; latency at half of the measured peak; each process's CPU time
# per ticket (in the burst, and at half of peak) and peak resident memory; each service's time
# from start to ready.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_system_packages
swift build -c release >&2
BIN=$(swift build -c release --show-bin-path)
TICKETS=${TICKETS:-20000}
export KAFKA_FETCH_WAIT_MAX_MS=${KAFKA_FETCH_WAIT_MAX_MS:-2}   # close to Kafka, which answers a fetch when data arrives (the embedded broker holds it for the whole wait; helpdesk dev defaults to 10 ms); the bench client reads it too
export LOG_LEVEL=warning

work=$(mktemp -d)
"$BIN/helpdesk" dev --bootstrap-file "$work/bootstrap" --port-offset 30000 >"$work/dev.out" 2>"$work/dev.err" </dev/null &
DEV=$!
trap 'kill -INT $DEV 2>/dev/null; wait $DEV 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do grep -q "HelpdeskSLA is running" "$work/dev.out" 2>/dev/null && break; sleep 0.2; done
grep -q "HelpdeskSLA is running" "$work/dev.out" || { cat "$work/dev.err" >&2; echo "the stack did not start" >&2; exit 1; }
B=$(cat "$work/bootstrap")

# Each process of the stack by name, for the CPU and memory figures: the services, and the broker.
process_name() { tr '\0' ' ' </proc/"$1"/cmdline | awk '{n=$1; sub(".*/","",n); print n ($2=="broker" ? "-broker" : "")}'; }
watched=()
for pid in $(ps -o pid= --ppid "$DEV"); do watched+=("$(process_name "$pid")=$pid"); done

# The stack with nothing to do, for 5 s: what its consumers' empty fetches cost (each one held
# by the development broker for fetch.wait.max.ms, then asked again).
ticks() { local total=0; for w in "${watched[@]}"; do total=$((total + $(awk '{print $14 + $15}' /proc/"${w#*=}"/stat))); done; echo "$total"; }
idle_before=$(ticks); sleep 5; idle_after=$(ticks)
idle=$(python3 -c "print(round(($idle_after - $idle_before) / $(getconf CLK_TCK) / 5, 2))")

# Latency at fixed rates below half of peak (each after a short throughput phase, not reported),
# measured first: the development broker finds a fetch's offset by walking the partition's list
# of message sets, so the many small sets a long run at a steady rate leaves make every later
# fetch slower (Kafka keeps an offset index). With each, the cores the stack keeps busy at that
# rate (CPU per ticket times the rate): broker, the four services, and the benchmark client.
cores_busy() {
    awk '$1=="latency_rate_per_s"{r=$2} $1=="cpu_us_per_ticket"{c=$4*r/1e6; t+=c; if ($2=="helpdesk-broker") b=c; else if ($2=="benchmark-client") k=c; else s+=c}
        END{printf "%.2f (%.2f, %.2f, %.2f)", t, b, s, k}' <<<"$1"
}
curve=()
for rate in ${LATENCY_RATES:-100 400 1000}; do
    at=$("$BIN/helpdesk" bench pipeline --until started --bootstrap-servers "$B" --tickets 2000 --warmup 0 --rate "$rate" --cpu-of "${watched[@]}")
    curve+=("$(awk '$1=="latency_rate_per_s"{r=$2} $1=="latency_p50_ms"{p=$2} $1=="latency_p99_ms"{q=$2} END{print r, p, q}' <<<"$at") $(cores_busy "$at")")
done
out=$("$BIN/helpdesk" bench pipeline --until started --bootstrap-servers "$B" --tickets "$TICKETS" --cpu-of "${watched[@]}")
value() { awk -v k="$1" '$1==k{print $2}' <<<"$out"; }

# kcat on the same broker with records of the same size (a benchmark ticket is about 330 bytes).
line=$(printf '%s' '{"type":"ticket.opened","source":"bench","externalId":"B0000000-00000","organizationId":"acme","subject":"Benchmark ticket 00000","description":"'"$(printf 'd%.0s' $(seq 1 120))"'","impact":{"usersAffected":"few","workaround":"temporary"}}')
for i in $(seq 1 "$TICKETS"); do echo "bench/$i|$line"; done >"$work/raw.txt"
t0=$(date +%s.%N); kcat -P -b "$B" -t bench.raw -K '|' -X partitioner=murmur2_random <"$work/raw.txt"; t1=$(date +%s.%N)
kcat -C -b "$B" -t bench.raw -X fetch.wait.max.ms="$KAFKA_FETCH_WAIT_MAX_MS" -o beginning -c "$TICKETS" -q >/dev/null; t2=$(date +%s.%N)
# The same three hops as the pipeline (inbound → received → classified → sla.events), each a kcat
# consumer piped into a kcat producer, and a fourth kcat counting what reaches the last topic:
# what librdkafka alone moves through this broker when every record is consumed and produced again.
relays=()
for hop in 1 2 3; do
    kcat -C -b "$B" -t "relay.$((hop - 1))" -X fetch.wait.max.ms="$KAFKA_FETCH_WAIT_MAX_MS" -o beginning -c "$TICKETS" -q -f '%k|%s\n' 2>/dev/null |
        kcat -P -b "$B" -t "relay.$hop" -K '|' -X partitioner=murmur2_random &
    relays+=($!)
done
kcat -C -b "$B" -t relay.3 -X fetch.wait.max.ms="$KAFKA_FETCH_WAIT_MAX_MS" -o beginning -c "$TICKETS" -q -f '\n' >"$work/relay.count" 2>/dev/null &
last=$!
sleep 3   # the relays' consumers find their (empty, auto-created) topics
t3=$(date +%s.%N); kcat -P -b "$B" -t relay.0 -K '|' -X partitioner=murmur2_random <"$work/raw.txt"
wait "$last"; t4=$(date +%s.%N)
wait "${relays[@]}"
relay=$(python3 -c "print(int($TICKETS/($t4-$t3)))")

produce=$(python3 -c "print(int($TICKETS/($t1-$t0)))")
consume=$(python3 -c "print(int($TICKETS/($t2-$t1)))")
raw=$(python3 -c "print(int($TICKETS/($t2-$t0)))")
pipeline=$(value throughput_per_s)

echo
echo "pipeline: tickets.inbound → sla.started, one instance of each service, $(nproc) cores, embedded broker"
printf '%-52s %10s\n' "throughput (tickets/s, $TICKETS tickets)" "$pipeline"
printf '%-52s %10s\n' "kcat produce / consume of the same bytes (msg/s)" "$produce / $consume"
printf '%-52s %10s\n' "kcat produce then consume, one pass (msg/s)" "$raw"
printf '%-52s %10s\n' "ratio to one kcat pass (target ≥ 0.5)" "$(python3 -c "print(round($pipeline/$raw, 3))")"
printf '%-52s %10s\n' "kcat relayed through the same 3 hops (msg/s)" "$relay"
printf '%-52s %10s\n' "ratio to the 3-hop kcat relay" "$(python3 -c "print(round($pipeline/$relay, 3))")"
printf '%-52s %10s\n' "latency p50 / p99 at $(value latency_rate_per_s)/s, half of peak (ms)" "$(value latency_p50_ms) / $(value latency_p99_ms)"
printf '%-52s %10s\n' "  cores busy at $(value latency_rate_per_s)/s: all (broker, services, client)" "$(cores_busy "$out")"
for point in "${curve[@]}"; do
    read -r r p q cores <<<"$point"
    printf '%-52s %10s\n' "latency p50 / p99 at $r/s (ms)" "$p / $q"
    printf '%-52s %10s\n' "  cores busy at $r/s: all (broker, services, client)" "$cores"
done
printf '%-52s %10s\n' "cores busy with no tickets (broker and services)" "$idle"
awk '$1=="cpu_us_per_ticket"{printf "%-52s %10s\n", "CPU per ticket, " $2 ", burst / half of peak (µs)", $3 " / " $4}' <<<"$out"
for pid in $(ps -o pid= --ppid "$DEV"); do
    printf '%-52s %10s\n' "peak resident memory, $(process_name "$pid") (MiB)" "$(awk '/VmHWM/{print int($2/1024)}' /proc/"$pid"/status)"
done
grep -o "[a-z-]* ready after [0-9.]* s" "$work/dev.err" | sed 's/^/start to ready: /'
