#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan, coverage) and runs each
# one for a bounded time over its seed corpus in tests/fuzz/corpus/<target>.
# Fails on any crash, leak, hang (-timeout) or sanitizer report; the input
# that caused it is left in $BUILD_DIR/artifacts/.
#
#   scripts/fuzz.sh [--seconds N] [TARGET...]
#     --seconds N   run time per target (default 60; CI uses the default)
#     TARGET        request_fuzz, payload_fuzz, region_fuzz (default: all)
# For a longer hunt: scripts/fuzz.sh --seconds 3600 region_fuzz
# New interesting inputs go to $BUILD_DIR/corpus/<target>, not to the repo;
# copy a useful one into tests/fuzz/corpus/<target> by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=${2:?--seconds needs a value}; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(request_fuzz payload_fuzz region_fuzz)
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --seconds must be a number" >&2; exit 2; }

./scripts/install-deps.sh --hardening
BUILD_DIR=${BUILD_DIR:-build-fuzz}
CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSLATE_FUZZ=ON -DSLATE_SANITIZE=address,undefined -DBUILD_TESTING=OFF >/dev/null
cmake --build "$BUILD_DIR" -j2 --target "${targets[@]}"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
mkdir -p "$BUILD_DIR/artifacts"
status=0
for t in "${targets[@]}"; do
  seeds=tests/fuzz/corpus/${t%_fuzz}
  work=$BUILD_DIR/corpus/$t
  mkdir -p "$work"
  log=$BUILD_DIR/$t.log
  echo "fuzz.sh: $t for ${seconds}s over $seeds" >&2
  if ! "$BUILD_DIR/bin/$t" "$work" "$seeds" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$BUILD_DIR/artifacts/$t-" >"$log" 2>&1; then
    echo "fuzz.sh: $t FAILED; the end of $log:" >&2
    tail -n 60 "$log" >&2
    status=1
    continue
  fi
  runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
  echo "fuzz.sh: $t ok: $runs executions, corpus $(ls "$work" | wc -l) inputs" >&2
done
exit $status
