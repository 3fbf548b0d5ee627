#!/usr/bin/env bash
# Classifier throughput on one core: the labelled corpus's tickets with descriptions padded to 2 KB.
#
# Runs ROUNDS rounds (default 5) of COUNT classifications (default 100,000), pinned with taskset
# to core CORE (default: the first this process may use), and prints the median and the range:
# this machine's runs spread by ±15 % within minutes, so one run says little. With
# BASELINE=/path/to/an/older/helpdesk each round also runs that build (first in odd rounds, second
# in even ones), and the paired differences say whether a change is faster
# (docs/benchmarks.md#classifier).
set -euo pipefail
[ -n "${BASELINE:-}" ] && BASELINE=$(realpath "$BASELINE")
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-5}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS must be a positive integer" >&2; exit 1; }
source scripts/lib.sh
ensure_system_packages
binary=$(release_helpdesk)
count=${COUNT:-100000}
size=${SIZE:-2048}
core=${CORE:-$(taskset -pc $$ | sed 's/.*: //; s/[-,].*//')}
pin=(taskset -c "$core")

rate() {
    local rate
    rate=$("${pin[@]}" "$1" bench classify --count "$count" --size "$size" | awk '$1=="classifications_per_second"{print $2}')
    [[ $rate =~ ^[0-9]+$ ]] || { echo "$1 printed no classifications_per_second" >&2; return 1; }
    echo "$rate"
}
median() { sort -n | awk '{v[NR]=$1} END{print (NR%2 ? v[(NR+1)/2] : int((v[NR/2]+v[NR/2+1])/2))}'; }
range() { sort -n | awk 'NR==1{lo=$1} {hi=$1} END{print lo "–" hi}'; }
# One line: a label, then the median and the range of the numbers after it.
report() {
    local label=$1
    shift
    printf '%-28s %12s   (%s)\n' "$label" "$(printf '%s\n' "$@" | median)" "$(printf '%s\n' "$@" | range)"
}

this=() before=()
for round in $(seq 1 "$rounds"); do
    if [ -n "${BASELINE:-}" ] && [ $((round % 2)) -eq 1 ]; then before+=("$(rate "$BASELINE")"); fi
    this+=("$(rate "$binary")")
    if [ -n "${BASELINE:-}" ] && [ $((round % 2)) -eq 0 ]; then before+=("$(rate "$BASELINE")"); fi
done

echo
echo "classifier: $rounds rounds of $count classifications of tickets with $size-byte descriptions, core $core"
report "classifications/s, median" "${this[@]}"
if [ -n "${BASELINE:-}" ]; then
    report "baseline, median" "${before[@]}"
    differences=$(for i in "${!this[@]}"; do echo $((this[i] - before[i])); done)
    faster=$(awk '$1>0' <<<"$differences" | wc -l)
    printf '%-28s %12s   (this build faster in %d of %d rounds)\n' "paired difference, median" "$(median <<<"$differences")" "$faster" "$rounds"
fi
