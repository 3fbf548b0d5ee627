#!/usr/bin/env bash
# Kafka transport throughput: the project's producer and consumer against kcat (librdkafka's
# own CLI) on the same embedded broker, with the same record count, keys and value size.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_system_packages

# The dev broker keeps ~5 MB per partition (auto-created topics get 4): stay below that.
MESSAGES=${MESSAGES:-50000}
SIZE=${SIZE:-200}
ROUNDS=${ROUNDS:-3}
HELPDESK=$(release_helpdesk)

start_broker "$HELPDESK"
trap stop_broker EXIT

input=$(mktemp)
python3 - "$MESSAGES" "$SIZE" > "$input" <<'PY'
import sys
n, size = int(sys.argv[1]), int(sys.argv[2])
value = "a" * size
sys.stdout.write("".join("key-%d:%s\n" % (i % 1000, value) for i in range(n)))
PY

now() { date +%s.%N; }
rate() { python3 -c "print(int($1 / ($3 - $2)))"; }

best() { sort -n | tail -1; }
ours_p=(); ours_c=(); kcat_p=(); kcat_c=()
for round in $(seq 1 "$ROUNDS"); do
    out=$("$HELPDESK" bench transport --bootstrap-servers "$BOOTSTRAP" --topic "bench.ours.$round" \
        --messages "$MESSAGES" --size "$SIZE")
    ours_p+=("$(awk '$1=="produce_msgs_per_s"{print $2}' <<<"$out")")
    ours_c+=("$(awk '$1=="consume_msgs_per_s"{print $2}' <<<"$out")")

    start=$(now)
    kcat -P -b "$BOOTSTRAP" -t "bench.kcat.$round" -K: -X partitioner=murmur2_random -X enable.idempotence=true \
        -X linger.ms=2 -l "$input"
    end=$(now)
    kcat_p+=("$(rate "$MESSAGES" "$start" "$end")")

    start=$(now)
    count=$(kcat -C -b "$BOOTSTRAP" -t "bench.kcat.$round" -o beginning -e -q -f '%k\n' | wc -l)
    end=$(now)
    [ "$count" -eq "$MESSAGES" ] || { echo "kcat consumed $count of $MESSAGES" >&2; exit 1; }
    kcat_c+=("$(rate "$MESSAGES" "$start" "$end")")
done

op=$(printf '%s\n' "${ours_p[@]}" | best); oc=$(printf '%s\n' "${ours_c[@]}" | best)
kp=$(printf '%s\n' "${kcat_p[@]}" | best); kc=$(printf '%s\n' "${kcat_c[@]}" | best)
echo
echo "Kafka transport vs kcat — $MESSAGES records of $SIZE bytes, best of $ROUNDS rounds, $(nproc) cores"
printf '%-10s %18s %18s %8s\n' "direction" "helpdesk (msg/s)" "kcat (msg/s)" "ratio"
printf '%-10s %18s %18s %8s\n' "produce" "$op" "$kp" "$(python3 -c "print(f'{$op/$kp:.2f}')")"
printf '%-10s %18s %18s %8s\n' "consume" "$oc" "$kc" "$(python3 -c "print(f'{$oc/$kc:.2f}')")"
echo "(kcat's consume time includes its start-up and group-less fetch; its produce time its start-up and file read)"
rm -f "$input"
