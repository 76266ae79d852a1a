#!/usr/bin/env bash
# Compares two builds' throughput the way this noisy machine allows: runs
# their slate-bench alternately, A then B, PAIRS times, and prints the
# ratio B/A within each pair and the median of those ratios, for the pool
# lock's hold time per task (the figure that bounds throughput) and for
# tasks/s. Drift on a shared machine comes in bursts that last longer than
# one pair, so pairwise ratios are steadier than two groups' medians.
#
#   scripts/compare-builds.sh A/bin/slate-bench B/bin/slate-bench [PAIRS]
#     PAIRS   alternating pairs (default 7)
#   WORKERS=4 scripts/compare-builds.sh ...     (default 2)
#
# A hold ratio below 1 means B holds the lock for less time per task.
set -euo pipefail

a=${1:-}
b=${2:-}
pairs=${3:-7}
workers=${WORKERS:-2}
if [ -z "$a" ] || [ -z "$b" ] || [ "$a" = -h ] || [ "$a" = --help ]; then
  sed -n '2,13p' "$0"
  [ "$a" = -h ] || [ "$a" = --help ] && exit 0
  exit 2
fi
for bench in "$a" "$b"; do
  [ -x "$bench" ] || { echo "compare-builds: $bench is not an executable slate-bench" >&2; exit 2; }
done
[[ "$pairs" =~ ^[1-9][0-9]*$ ]] || { echo "compare-builds: PAIRS must be a positive number" >&2; exit 2; }
[[ "$workers" =~ ^[1-9][0-9]*$ ]] || { echo "compare-builds: WORKERS must be a positive number" >&2; exit 2; }

out=$(mktemp /tmp/slate-compare-XXXXXX)
trap 'rm -f "$out"' EXIT
for ((i = 1; i <= pairs; i++)); do
  for side in A B; do
    bench=$a
    [ "$side" = B ] && bench=$b
    if ! "$bench" --only throughput --workers "$workers" --lock-profile --json >"$out.run" 2>"$out.err"; then
      echo "compare-builds: $bench failed:" >&2
      tail -5 "$out.err" >&2
      exit 1
    fi
    printf '%s ' "$side" >>"$out"
    tr -d '\n' <"$out.run" >>"$out"
    echo >>"$out"
  done
  echo "compare-builds: pair $i of $pairs done" >&2
done
rm -f "$out.run" "$out.err"

python3 - "$out" <<'EOF'
import json, statistics, sys

runs = {"A": [], "B": []}
for line in open(sys.argv[1]):
    side, text = line.split(" ", 1)
    row = json.loads(text)["throughput"][0]
    runs[side].append((row["tasks_per_s"], sum(row["lock"]["hold_us_per_task"].values())))
hold = [b[1] / a[1] for a, b in zip(runs["A"], runs["B"])]
rate = [b[0] / a[0] for a, b in zip(runs["A"], runs["B"])]
print("pair   hold A us  hold B us  B/A   tasks/s A  tasks/s B  B/A")
for i, (a, b) in enumerate(zip(runs["A"], runs["B"]), 1):
    print(f"{i:4d}   {a[1]:9.3f}  {b[1]:9.3f}  {hold[i-1]:4.2f}  {a[0]/1e6:8.3f}M  {b[0]/1e6:8.3f}M  {rate[i-1]:4.2f}")
print(f"median B/A: hold {statistics.median(hold):.3f}, tasks/s {statistics.median(rate):.3f}")
EOF
