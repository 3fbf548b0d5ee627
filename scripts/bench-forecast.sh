#!/usr/bin/env bash
# The workload forecast: one recomputation over 10,000 open tickets and 50 agents (target
# ≤ 50 ms), and the backtest on two generated weeks (prediction error, at-risk recall and
# precision; the test command checks the same backtest against its targets).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_system_packages
helpdesk=$(release_helpdesk)
out=$("$helpdesk" bench forecast --tickets "${FORECAST_TICKETS:-10000}" --agents "${FORECAST_AGENTS:-50}")
value() { awk -v k="$2" '$1==k{print $2}' <<<"$1"; }
echo
echo "workload forecast"
printf '%-44s %10s   %s\n' "recomputation (ms), p50 / max of 20" "$(value "$out" forecast_ms_p50) / $(value "$out" forecast_ms_max)" "$(value "$out" forecast_tickets) tickets, $(value "$out" forecast_agents) agents (target ≤ 50)"
printf '%-44s %10s   %s\n' "forecaster round (ms), p50 / max of 20" "$(value "$out" round_ms_p50) / $(value "$out" round_ms_max)" "forecast, ledger step, outlook for 3 policies"
printf '%-44s %10s   %s\n' "backtest prediction error p50 / p90 (min)" "$(value "$out" backtest_error_p50_min) / $(value "$out" backtest_error_p90_min)" "$(value "$out" backtest_tickets) tickets, $(value "$out" backtest_breached) breached"
printf '%-44s %10s   %s\n' "at-risk recall / precision" "$(value "$out" backtest_recall) / $(value "$out" backtest_precision)" "targets ≥ 0.9 (an hour ahead) / ≥ 0.7"
