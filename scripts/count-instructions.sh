#!/usr/bin/env bash
# Instructions per task of slate's task protocol, counted by callgrind: a
# figure that does not move with the machine's load, unlike slate-bench's
# timings. Runs slate-bench's throughput workload (one worker) under
# callgrind at N and 2N tasks and prints, per task, the instructions of the
# producer (SlateThroughput: post, then read each result back) and of the
# worker (WorkerLoop: claim, complete with a result), fixed costs cancelled.
# Then, per task, the parts each role runs under the pool lock (post, read;
# claim, complete) and the rest: where a missed throughput target's time
# goes (docs/PERFORMANCE.md, "What limits each figure").
#
#   scripts/count-instructions.sh [N]     (default 10000; build/ must be built)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
[[ "$n" =~ ^[0-9]+$ ]] || { echo "count-instructions.sh: N must be a number" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "count-instructions.sh: needs valgrind" >&2; exit 2; }
bench=${BUILD_DIR:-build}/bin/slate-bench
[ -x "$bench" ] || { echo "count-instructions.sh: build $bench first" >&2; exit 2; }
out=$(mktemp -d /tmp/slate-instructions-XXXXXX)
trap 'rm -rf "$out"' EXIT

# Inclusive instructions of function $2 in callgrind file $1. A forked
# child's file starts from its parent's counts, so each role is read from
# the process that ran it: the producer from the first (the bench itself),
# the worker's loop from whichever child ran it.
inclusive() {
  callgrind_annotate --inclusive=yes "$1" 2>/dev/null |
    awk -v fn="$2" 'index($0, fn "(") && $2 ~ /^\(/ && !found { gsub(",", "", $1); found = $1 }
                    END { print found + 0 }'
}
# The instructions of role $2 ("producer" or "worker") in run $1, or of
# function $3 within that role's process.
count() {
  local files=("$out/cg-$1".*) best=0 best_fn=0 f c
  if [ "$2" = producer ]; then
    inclusive "$out/cg-$1.$(ls "$out" | sed -n "s/^cg-$1\.//p" | sort -n | head -1)" \
      "${3:-slate::bench::SlateThroughput}"
    return
  fi
  for f in "${files[@]}"; do
    c=$(inclusive "$f" "slate::bench::(anonymous namespace)::WorkerLoop")
    if [ "$c" -gt "$best" ]; then
      best=$c
      [ -n "${3:-}" ] && best_fn=$(inclusive "$f" "$3")
    fi
  done
  if [ -n "${3:-}" ]; then echo "$best_fn"; else echo "$best"; fi
}
# Per task: run 2N minus run N, over N.
per_task() { echo $(( ($(count $((2 * n)) "$@") - $(count "$n" "$@")) / n )); }

for tasks in "$n" $((2 * n)); do
  valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$out/cg-$tasks.%p" \
    "$bench" --only throughput --workers 1 --tasks "$tasks" --seconds 1 >/dev/null 2>"$out/log"
done
total=0
for role in producer worker; do
  per=$(per_task $role)
  total=$((total + per))
  printf "%-9s %6d instructions/task\n" "$role" "$per"
done
printf "%-9s %6d instructions/task\n" total "$total"

# The locked parts. Each is the inclusive count of the function that runs
# one operation's work under the Guard, per task.
echo
echo "under the pool lock, per task:"
locked=0
while IFS='|' read -r label role fn; do
  per=$(per_task "$role" "$fn")
  locked=$((locked + per))
  printf "  %-48s %6d\n" "$label" "$per"
done <<'PARTS'
post (PostLocked)|producer|slate::(anonymous namespace)::PostLocked
read (StageMatches)|producer|slate::internal::StageMatches
claim: pick (PickLocked)|worker|slate::Pool::Impl::PickLocked
claim: state (ClaimSlotLocked)|worker|slate::(anonymous namespace)::ClaimSlotLocked
claim: note for the copy after (StagedEntries::Note)|worker|slate::internal::StagedEntries::Note
claim: fields (TaskFieldsAt)|worker|slate::internal::TaskFieldsAt
complete (CompleteLocked)|worker|slate::(anonymous namespace)::CompleteLocked
PARTS
printf "  %-48s %6d (outside the lock: %d)\n" "locked in all" "$locked" $((total - locked))
