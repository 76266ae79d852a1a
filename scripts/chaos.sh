#!/usr/bin/env bash
# The chaos suite at a chosen size: ./scripts/chaos.sh [TASKS] (default
# 200,000, a few minutes). CI runs it at 20,000 as part of ./scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
TASKS=${1:-200000}
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target chaos_tests slate-launch slate-supervisor slate-worker \
  slate-coordinator >/dev/null
SLATE_CHAOS_TASKS=$TASKS build/bin/chaos_tests
