#!/usr/bin/env bash
# The sla-timer: bytes per open clock at 1,000,000 clocks, changelog restore rate from the
# embedded broker (in-process mock cluster), and timer firing lag under load.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_system_packages
swift build -c release --product helpdesk >&2
out=$("$(swift build -c release --show-bin-path)/helpdesk" bench sla-timer --clocks "${CLOCKS:-1000000}" \
    --restore-records "${RESTORE_RECORDS:-72000}" --timer-tickets "${TIMER_TICKETS:-6000}")
value() { awk -v k="$1" '$1==k{print $2}' <<<"$out"; }
echo
echo "sla-timer"
printf '%-40s %12s   %s\n' "bytes per open clock" "$(value memory_bytes_per_open_clock)" "at $(value memory_open_clocks) clocks (target ≤ 300)"
printf '%-40s %12s   %s\n' "changelog restore (records/s)" "$(value restore_records_per_s)" "$(value restore_records) records (target ≥ 100,000)"
printf '%-40s %12s   %s\n' "  reading alone (records/s)" "$(value restore_read_only_records_per_s)" ""
printf '%-40s %12s   %s\n' "timer firing lag p50 (ms)" "$(value lag_p50_ms)" "$(value lag_timer_events) warnings and breaches"
printf '%-40s %12s   %s\n' "timer firing lag p99 (ms)" "$(value lag_p99_ms)" "(target ≤ 50)"
