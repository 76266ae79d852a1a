#!/usr/bin/env bash
# The chaos suite at a chosen size:
#   ./scripts/chaos.sh [TASKS [PLAN_LINES [PREEMPT_LINES [REQUEST_LINES [LEADER_TASKS [TREE_TASKS]]]]]]
# (default 200,000 tasks, a 20,000-line plan, 4,000 lines of priorities
# that preempt, 7,000 lines over three requests side by side, 50,000
# tasks under three supervisors whose leader is killed and stopped, and
# 12,000 subtasks of a three-level tree whose sub-supervisors are killed, a
# few minutes). CI runs them at 20,000, 2,000, 400, 700, 5,000 and 1,200 as
# part of ./scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
TASKS=${1:-200000}
PLAN_LINES=${2:-20000}
PREEMPT_LINES=${3:-4000}
REQUEST_LINES=${4:-7000}
LEADER_TASKS=${5:-50000}
TREE_TASKS=${6:-12000}
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target chaos_tests slate-launch slate-supervisor slate-worker \
  slate-coordinator >/dev/null
SLATE_CHAOS_TASKS=$TASKS SLATE_CHAOS_PLAN_LINES=$PLAN_LINES \
  SLATE_CHAOS_PREEMPT_LINES=$PREEMPT_LINES SLATE_CHAOS_REQUEST_LINES=$REQUEST_LINES \
  SLATE_CHAOS_LEADER_TASKS=$LEADER_TASKS SLATE_CHAOS_TREE_TASKS=$TREE_TASKS \
  build/bin/chaos_tests
