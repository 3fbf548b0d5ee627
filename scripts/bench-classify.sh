#!/usr/bin/env bash
# Classifier throughput on one core: the labelled corpus's tickets with descriptions padded to 2 KB.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_system_packages
out=$("$(release_helpdesk)" bench classify --count "${COUNT:-200000}" --size "${SIZE:-2048}")
value() { awk -v k="$1" '$1==k{print $2}' <<<"$out"; }
echo
echo "classifier: $(value classifications) classifications of tickets with $(value description_bytes)-byte descriptions, one core"
printf '%-28s %12s\n' "classifications/s" "$(value classifications_per_second)"
