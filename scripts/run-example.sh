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
# Defaults the caller's own --pool, --workers or --serve replace.
defaults=()
given() { local a; for a in "${@:2}"; do [[ "$a" == "$1" || "$a" == "$1="* ]] && return 0; done; return 1; }
given --pool "$@" || defaults+=(--pool "example-$$")
given --workers "$@" || given -w "$@" || defaults+=(--workers 4)
given --serve "$@" || given --exec "$@" || given --python-worker "$@" ||
  defaults+=(--serve "python3 examples/agents/keywords.py --serve")
exec build/bin/slate-launch run --split files "${defaults[@]}" "$@" examples/docs
