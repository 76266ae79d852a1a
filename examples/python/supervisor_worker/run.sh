#!/usr/bin/env bash
# Kaizen's supervisor-worker example as separate processes over one slate
# pool: a coordinator, WORKERS workers and a supervisor, each its own
# Python process attached to the pool by name (slate.kaizen). Prints the
# supervisor's aggregated result; the coordinator's progress lines go to
# stderr. Offline: a deterministic stand-in answers for the model.
#   examples/python/supervisor_worker/run.sh [REQUEST [WORKERS [TASKS]]]
set -euo pipefail
cd "$(dirname "$0")"
request=${1:-"Process 6 customer support tickets"}
workers=${2:-3}
tasks=${3:-6}
pool="kaizen-example-$$"
python=${SLATE_PYTHON:-python3}
ids=$(seq -f "worker_%g" 1 "$workers" | paste -sd, -)
cleanup() { $python -c "import sys; sys.path.insert(0, '.'); import common, slate; slate.Pool.remove('$pool')" 2>/dev/null || true; }
trap cleanup EXIT
$python -c "import sys; sys.path.insert(0, '.'); import common; common.pool('$pool')"
$python coordinator.py --pool "$pool" >&2 &
coordinator=$!
pids=()
for id in ${ids//,/ }; do
  $python worker.py --pool "$pool" --id "$id" &
  pids+=($!)
done
$python supervisor.py --pool "$pool" --workers "$ids" --tasks "$tasks" "$request"
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
wait "$coordinator" || status=1
exit $status
