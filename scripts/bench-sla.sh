#!/usr/bin/env bash
# SLA engine: first-response deadlines per second on one core, and the same 100,000 inputs
# through pandas' CustomBusinessHour (installed in a throw-away virtualenv for this benchmark
# only), with both results compared. pandas has no time zones, so the comparison uses
# America/Denver wall-clock times of inputs whose span has no DST change.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_system_packages
HELPDESK=$(release_helpdesk)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ours=$("$HELPDESK" bench sla --count 100000 --passes 20 --out "$work/inputs.tsv")

venv=.build/bench-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import pandas' 2>/dev/null; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet pandas >&2
fi
theirs=$("$venv/bin/python" scripts/sla_pandas.py "$work/inputs.tsv")

rate() { awk -v k="$1" '$1==k{print $2}'; }
ours_rate=$(rate due_per_second <<<"$ours")
pandas_rate=$(rate due_per_second <<<"$theirs")
echo
echo "First-response deadlines — 100,000 random instants in 2026–2027, severities 1/4/8 business hours,"
echo "09:00–17:00 America/Denver Mon–Fri; one core; $(nproc) cores on the machine"
printf '%-38s %15s\n' "implementation" "deadlines/s"
printf '%-38s %15s\n' "HelpdeskSLA BusinessCalendar (Swift)" "$ours_rate"
printf '%-38s %15s\n' "pandas CustomBusinessHour $(rate pandas_version <<<"$theirs")" "$pandas_rate"
echo "speed-up: $(python3 -c "print(f'{$ours_rate/$pandas_rate:.0f}x')")"
echo "agreement: $(rate agree <<<"$theirs") of $(rate compared <<<"$theirs") comparable inputs (no DST change in the span);"
echo "  $(rate exact <<<"$theirs") to the second, the rest due exactly at closing time, which pandas names as the next opening"
rate mismatch_examples <<<"$theirs" | head -5
[ "$(rate agree <<<"$theirs")" = "$(rate compared <<<"$theirs")" ] || { echo "results differ" >&2; exit 1; }
