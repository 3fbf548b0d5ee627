#!/usr/bin/env bash
# Fits the classifier's model to the development set and writes the built-in model file.
# The held-out validation set is never read here: `helpdesk classify --evaluate` measures it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_system_packages
swift build --product helpdesk >/dev/null
model=Shared/HelpdeskModel/Classification/classifier-model.yaml
.build/debug/helpdesk classify --fit Tests/Fixtures/classifier-dev.jsonl >"$model.new"
mv "$model.new" "$model"
echo "wrote $model; rebuild, then: .build/debug/helpdesk classify --evaluate Tests/Fixtures/classifier-dev.jsonl"
