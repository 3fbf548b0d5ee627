#!/usr/bin/env bash
# A status read (GET /v1/sla/{id}) with 100,000 tickets in sla-timer.changelog, over HTTP on
# loopback, beside the per-request path of earlier releases (a client and a partition scan per read).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_system_packages
helpdesk=$(release_helpdesk)
out=$("$helpdesk" bench status --tickets "${STATUS_TICKETS:-100000}" --reads "${STATUS_READS:-2000}")
value() { awk -v k="$1" '$1==k{print $2}' <<<"$out"; }
echo
echo "status reads, $(value status_tickets) tickets in the changelog"
printf '%-44s %10s   %s\n' "GET /v1/sla/{id} p50 / p99 (ms)" "$(value status_http_p50_ms) / $(value status_http_p99_ms)" "$(value status_http_reads) reads over HTTP (target p99 ≤ 5)"
printf '%-44s %10s   %s\n' "  Kafka clients made by those reads" "$(value status_http_clients_made)" "the service's long-lived clients answer them"
printf '%-44s %10s   %s\n' "per-request path of earlier releases (ms)" "$(value status_scan_p50_ms) / $(value status_scan_p99_ms)" "$(value status_scan_reads) reads: a client and a partition scan each"
printf '%-44s %10s   %s\n' "sla-timer ready after (s)" "$(value status_ready_s)" "joins, restores every clock, follows the changelog"
