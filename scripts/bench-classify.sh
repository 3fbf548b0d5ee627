#!/usr/bin/env bash
# Classifier throughput on one core: the labelled corpus's tickets with descriptions padded to 2 KB.
#
# Runs ROUNDS rounds (default 5) of COUNT classifications (default 100,000), pinned to one core
# when taskset is present, and prints the median and the range: this machine's runs spread by
# ±15 % within minutes, so one run says little. With BASELINE=/path/to/an/older/helpdesk the
# rounds alternate between that build and this one, and the paired differences say whether a
# change is faster (docs/benchmarks.md#classifier).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_system_packages
binary=$(release_helpdesk)
rounds=${ROUNDS:-5}
count=${COUNT:-100000}
size=${SIZE:-2048}
pin=()
command -v taskset >/dev/null && pin=(taskset -c "${CORE:-0}")

rate() {
    "${pin[@]}" "$1" bench classify --count "$count" --size "$size" | awk '$1=="classifications_per_second"{print $2}'
}
median() { sort -n | awk '{v[NR]=$1} END{print (NR%2 ? v[(NR+1)/2] : int((v[NR/2]+v[NR/2+1])/2))}'; }
range() { sort -n | awk 'NR==1{lo=$1} {hi=$1} END{print lo "–" hi}'; }

this=() before=()
for _ in $(seq 1 "$rounds"); do
    [ -n "${BASELINE:-}" ] && before+=("$(rate "$BASELINE")")
    this+=("$(rate "$binary")")
done

echo
echo "classifier: $rounds rounds of $count classifications of tickets with $size-byte descriptions, one core"
printf '%-28s %12s   (%s)\n' "classifications/s, median" "$(printf '%s\n' "${this[@]}" | median)" "$(printf '%s\n' "${this[@]}" | range)"
if [ -n "${BASELINE:-}" ]; then
    printf '%-28s %12s   (%s)\n' "baseline, median" "$(printf '%s\n' "${before[@]}" | median)" "$(printf '%s\n' "${before[@]}" | range)"
    differences=$(for i in "${!this[@]}"; do echo $((this[i] - before[i])); done)
    faster=$(awk '$1>0' <<<"$differences" | wc -l)
    printf '%-28s %12s   (this build faster in %d of %d rounds)\n' "paired difference, median" "$(median <<<"$differences")" "$faster" "$rounds"
fi
