#!/usr/bin/env bash
# Plans at scale: a chain, a fan-in and an independent request of the same
# size, each run end to end by slate-launch with --handler echo, in one run
# so their ratios compare like with like. Prints, per shape, the wall time
# per task the supervisor reports, its ratio to the independent request, and
# the peak RSS of the supervisor.
#
#   scripts/measure-plans.sh [--tasks N] [--workers W]   (default 100000, 2)
# Needs a build in $BUILD_DIR (default build).
set -euo pipefail
cd "$(dirname "$0")/.."
tasks=100000
workers=2
while [ $# -gt 0 ]; do
  case "$1" in
    --tasks) tasks=${2:?}; shift 2 ;;
    --workers) workers=${2:?}; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "measure-plans.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
BIN=${BUILD_DIR:-build}/bin
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$tasks" "$work" <<'PY'
import json, sys
n, out = int(sys.argv[1]), sys.argv[2]
with open(f"{out}/independent.jsonl", "w") as f:
    for i in range(n):
        f.write(json.dumps({"id": f"s{i}", "payload": i}) + "\n")
with open(f"{out}/chain.jsonl", "w") as f:
    for i in range(n):
        d = {"id": f"s{i}", "payload": i}
        if i:
            d["depends_on"] = [f"s{i-1}"]
        f.write(json.dumps(d) + "\n")
with open(f"{out}/fan-in.jsonl", "w") as f:
    for i in range(n - 1):
        f.write(json.dumps({"id": f"s{i}", "payload": i}) + "\n")
    f.write(json.dumps({"id": "sink", "payload": 0,
                        "depends_on": [f"s{i}" for i in range(n - 1)]}) + "\n")
PY
printf '%-12s %10s %12s %8s %14s\n' shape tasks "us/task" ratio "supervisor RSS"
base=""
for shape in independent chain fan-in; do
  pool="measure-plans-$$"
  "$BIN/slate-launch" run --pool "$pool" --workers "$workers" --handler echo \
    "$work/$shape.jsonl" >"$work/$shape.out" 2>"$work/$shape.err" || {
    echo "measure-plans.sh: the $shape run failed:" >&2; tail -5 "$work/$shape.err" >&2; exit 1; }
  wall_ms=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['summary']['wall_ms'])" "$work/$shape.out")
  rss=$(sed -n 's/.*supervisor peak RSS \([0-9.]* MiB\).*/\1/p' "$work/$shape.err" | tail -1)
  us=$(python3 -c "print(f'{$wall_ms * 1000 / $tasks:.2f}')")
  [ -n "$base" ] || base=$us
  ratio=$(python3 -c "print(f'{$us / $base:.2f}')")
  printf '%-12s %10s %12s %8s %14s\n' "$shape" "$tasks" "$us" "$ratio" "${rss:-?}"
done
