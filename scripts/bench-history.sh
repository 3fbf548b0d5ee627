#!/usr/bin/env bash
# The history store (release build): the projector's events/s (polls of 2,000, the history's
# PROCESSING_MAX_BATCH) into SQLite and into PostgreSQL
# (a server from Debian's package, fsync on, started by scripts/postgres-server.sh), then reads
# with HISTORY_BENCH_TICKETS tickets (default 1,000,000) in each store: a ticket with its timeline,
# an open-ticket page, a month's attainment report. Timed as the API's handlers do the work
# (query and JSON), without HTTP.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_system_packages
helpdesk=$(release_helpdesk)
tickets=${HISTORY_BENCH_TICKETS:-1000000}
folder=$(mktemp -d)
postgres=""
trap 'rm -rf "$folder"; [ -n "$postgres" ] && ./scripts/postgres-server.sh stop "$postgres"' EXIT

report() {
    local name=$1 out=$2
    value() { awk -v k="$1" '$1==k{print $2}' <<<"$out"; }
    echo
    echo "history store on $name: $(value history_tickets) tickets, $(value history_events) events"
    printf '%-44s %12s   %s\n' "projector (events/s)" "$(value history_projector_events_per_second)" "$(value history_projector_events) events decoded and kept, $(value history_projector_batch) a transaction (target ≥ 20,000 on SQLite)"
    printf '%-44s %12s   %s\n' "  share of it decoding records (%)" "$(value history_decode_share_percent)" "the rest is the database"
    printf '%-44s %12s   %s\n' "filling the rest (s)" "$(value history_fill_seconds)" "$((tickets)) tickets"
    printf '%-44s %12s   %s\n' "ticket with timeline p50 / p99 (ms)" "$(value history_ticket_read_p50_ms) / $(value history_ticket_read_p99_ms)" "2,000 random tickets (target p99 ≤ 5)"
    printf '%-44s %12s   %s\n' "open-ticket page p50 / p99 (ms)" "$(value history_open_page_p50_ms) / $(value history_open_page_p99_ms)" "1,000 pages of 50, filtered and from anywhere (target p99 ≤ 20)"
    printf '%-44s %12s   %s\n' "attainment, one month (ms, worst of 5)" "$(value history_attainment_month_ms_max)" "$(value history_attainment_month_tickets) tickets (target ≤ 1,000)"
}

out=$("$helpdesk" bench history --store "sqlite:$folder/history.sqlite" --tickets "$tickets")
report SQLite "$out"
line=$(./scripts/postgres-server.sh start)
postgres=$(awk '{print $3}' <<<"$line")
out=$("$helpdesk" bench history --store "$(awk '{print $2}' <<<"$line")" --tickets "$tickets")
report PostgreSQL "$out"
