#!/usr/bin/env bash
# The sla-timer: bytes per open clock at 1,000,000 tickets, changelog restore rate from the
# embedded broker (in-process mock cluster), and timer firing lag at two loads; first with the
# first response alone (the built-in policy), then with every metric (each ticket answered
# once and written back to: resolution, periodic update and next reply running).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_system_packages
helpdesk=$(release_helpdesk)
value() { awk -v k="$2" '$1==k{print $2}' <<<"$1"; }
out=$("$helpdesk" bench sla-timer --only memory,fire,restore --clocks "${CLOCKS:-1000000}" --restore-records "${RESTORE_RECORDS:-72000}")
all=$("$helpdesk" bench sla-timer --only memory --all-metrics --clocks "${CLOCKS:-1000000}")
light=$("$helpdesk" bench sla-timer --only lag --timer-tickets "${LIGHT_TICKETS:-1000}")
heavy=$("$helpdesk" bench sla-timer --only lag --timer-tickets "${HEAVY_TICKETS:-6000}")
light_all=$("$helpdesk" bench sla-timer --only lag --all-metrics --timer-tickets "${LIGHT_TICKETS:-1000}")
heavy_all=$("$helpdesk" bench sla-timer --only lag --all-metrics --timer-tickets "$(( ${HEAVY_TICKETS:-6000} / 3 ))")
echo
echo "sla-timer"
printf '%-50s %10s   %s\n' "bytes per open clock, first response only" "$(value "$out" memory_bytes_per_open_clock)" "at $(value "$out" memory_open_clocks) clocks (target ≤ 300)"
printf '%-50s %10s   %s\n' "bytes per open clock, every metric" "$(value "$all" memory_bytes_per_open_clock)" "$(value "$all" memory_open_clocks) clocks, $(value "$all" memory_bytes_per_ticket) bytes per ticket (target ≤ 300)"
printf '%-50s %10s   %s\n' "CPU per fired timer (µs)" "$(value "$out" fire_us_per_ticket)" "clock, event and notifications encoded, ids derived; no broker"
printf '%-50s %10s   %s\n' "changelog restore (records/s)" "$(value "$out" restore_records_per_s)" "$(value "$out" restore_records) records (target ≥ 100,000)"
printf '%-50s %10s   %s\n' "  reading alone (records/s)" "$(value "$out" restore_read_only_records_per_s)" ""
for load in light heavy light_all heavy_all; do
    figures=${!load}
    events=$(value "$figures" lag_timer_events)
    case $load in *_all) what="every metric" ;; *) what="first response" ;; esac
    printf '%-50s %10s   %s\n' "timer lag p50 / p99 (ms), $events events, $what" "$(value "$figures" lag_fired_p50_ms) / $(value "$figures" lag_fired_p99_ms)" "due → handed to Kafka, in bursts on whole seconds (target p99 ≤ 50)"
    printf '%-50s %10s   %s\n' "  due → stored by the broker (ms)" "$(value "$figures" lag_p50_ms) / $(value "$figures" lag_p99_ms)" "the in-process development broker shares the 2 cores"
done
