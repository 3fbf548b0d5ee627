#!/usr/bin/env bash
# The sla-timer: bytes per open clock at 1,000,000 clocks, changelog restore rate from the
# embedded broker (in-process mock cluster), and timer firing lag at two loads.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_system_packages
helpdesk=$(release_helpdesk)
out=$("$helpdesk" bench sla-timer --only memory,fire,restore --clocks "${CLOCKS:-1000000}" --restore-records "${RESTORE_RECORDS:-72000}")
light=$("$helpdesk" bench sla-timer --only lag --timer-tickets "${LIGHT_TICKETS:-1000}")
heavy=$("$helpdesk" bench sla-timer --only lag --timer-tickets "${HEAVY_TICKETS:-6000}")
value() { awk -v k="$2" '$1==k{print $2}' <<<"$1"; }
echo
echo "sla-timer"
printf '%-44s %10s   %s\n' "bytes per open clock" "$(value "$out" memory_bytes_per_open_clock)" "at $(value "$out" memory_open_clocks) clocks (target ≤ 300)"
printf '%-44s %10s   %s\n' "CPU per fired timer (µs)" "$(value "$out" fire_us_per_ticket)" "clock, event and notifications encoded, ids derived; no broker"
printf '%-44s %10s   %s\n' "changelog restore (records/s)" "$(value "$out" restore_records_per_s)" "$(value "$out" restore_records) records (target ≥ 100,000)"
printf '%-44s %10s   %s\n' "  reading alone (records/s)" "$(value "$out" restore_read_only_records_per_s)" ""
for load in light heavy; do
    figures=${!load}
    events=$(value "$figures" lag_timer_events)
    printf '%-44s %10s   %s\n' "timer lag p50 / p99 (ms), $events events" "$(value "$figures" lag_fired_p50_ms) / $(value "$figures" lag_fired_p99_ms)" "due → handed to Kafka; about $((events / 20)) per second in bursts on whole seconds (target p99 ≤ 50)"
    printf '%-44s %10s   %s\n' "  due → stored by the broker (ms)" "$(value "$figures" lag_p50_ms) / $(value "$figures" lag_p99_ms)" "the in-process development broker shares the 2 cores"
done
