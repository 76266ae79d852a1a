#!/usr/bin/env bash
# The README's main-job command: installs what is missing, builds, and runs
# one request over the sample documents: a coordinator, 4 workers each keeping
# one Python keyword agent alive (--serve), and a supervisor, over one pool.
# Prints the aggregated result (JSON) on stdout and a summary on stderr.
# Extra arguments go to slate-launch run (e.g. --workers 8, --keep).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target slate-launch slate-supervisor slate-worker slate-coordinator \
  >/dev/null
exec build/bin/slate-launch run --pool "example-$$" --workers 4 --split files \
  --serve "python3 examples/agents/keywords.py --serve" "$@" examples/docs
