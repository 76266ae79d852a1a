#!/usr/bin/env bash
# Draws docs/bench.png from one slate-bench run: throughput against workers
# (slate, the robust-mutex ring, the per-worker futex rings and, from a run
# with --peers, Python's process pool) and the latency distribution (slate
# and the futex ping-pong).
#
#   scripts/plot-bench.sh                 # runs build/bin/slate-bench --json
#   scripts/plot-bench.sh run.json        # plots a saved run
#   SLATE_BENCH_ARGS="--seconds 60" scripts/plot-bench.sh
#
# Needs gnuplot (Debian: gnuplot-nox) and python3; installs gnuplot-nox
# with apt-get when missing and run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v gnuplot >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get install -y -qq gnuplot-nox >/dev/null
  else
    echo "plot-bench: gnuplot is missing (apt-get install gnuplot-nox)" >&2
    exit 2
  fi
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ $# -ge 1 ]; then
  cp "$1" "$work/run.json"
else
  # shellcheck disable=SC2086
  build/bin/slate-bench --json ${SLATE_BENCH_ARGS:-} > "$work/run.json"
fi

python3 - "$work" <<'PY'
import json, math, sys
work = sys.argv[1]
run = json.load(open(f"{work}/run.json"))
with open(f"{work}/throughput.dat", "w") as f:
    for t in run["throughput"]:
        python = t.get("python_pool_tasks_per_s")
        f.write(f'{t["workers"]} {t["tasks_per_s"] / 1e6} {t["baseline_tasks_per_s"] / 1e6} '
                f'{t["futex_rings_tasks_per_s"] / 1e6} '
                f'{python / 1e6 if python else "NaN"}\n')
with open(f"{work}/has_python.txt", "w") as f:
    f.write("1" if any("python_pool_tasks_per_s" in t for t in run["throughput"]) else "0")
with open(f"{work}/latency.dat", "w") as f:
    for q, ours, floor in run["latency"]["cdf"]:
        # x in "nines": 1 is p90, 2 is p99, 3 is p99.9, so the tail shows.
        f.write(f"{-math.log10(1 - q)} {ours} {floor}\n")
with open(f"{work}/title.txt", "w") as f:
    f.write(f'seed {run["seed"]}, {run["seconds_used"]:.0f} s run')
PY

gnuplot <<EOF
set terminal pngcairo size 1200,480 font "sans,11"
set output "docs/bench.png"
set multiplot layout 1,2 title "slate-bench: $(cat "$work/title.txt")"
set title "Throughput, end to end (64-byte tasks and results)"
set xlabel "workers"
set ylabel "million tasks / s (log)"
set logscale y
set xtics 1
set key bottom right
set style data linespoints
python_line=""
if ($(cat "$work/has_python.txt")) python_line=", \"$work/throughput.dat\" using 1:5 title \"Python multiprocessing.Pool, chunks of 100\" lw 2 pt 9"
eval "plot \"$work/throughput.dat\" using 1:2 title \"slate\" lw 2 pt 7, \
     \"$work/throughput.dat\" using 1:3 title \"robust-mutex ring (no task semantics)\" lw 2 pt 5, \
     \"$work/throughput.dat\" using 1:4 title \"per-worker futex rings (no task semantics)\" lw 2 pt 11" . python_line
set title "Round trip, one worker, one task in flight"
set xlabel "percentile"
set xtics ("p50" 0.301, "p90" 1, "p99" 2, "p99.9" 3, "p99.99" 4)
set ylabel "microseconds (log)"
set yrange [*:*]
set key top left
plot "$work/latency.dat" using 1:2 title "slate" lw 2 pt 7, \
     "$work/latency.dat" using 1:3 title "futex ping-pong" lw 2 pt 5
unset multiplot
EOF
echo "plot-bench: wrote docs/bench.png" >&2
