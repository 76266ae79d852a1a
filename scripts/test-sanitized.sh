#!/usr/bin/env bash
# Builds slate with sanitizers and runs tests under them; CI runs both kinds.
#   scripts/test-sanitized.sh asan   AddressSanitizer + UndefinedBehaviorSanitizer,
#                                    the whole suite (every ctest label)
#   scripts/test-sanitized.sh tsan   ThreadSanitizer, the concurrency and
#                                    multi-process tests (labels unit, integration)
# Any sanitizer report fails the test that triggered it (halt_on_error), and
# so the script. Builds go to build-asan/ and build-tsan/ ($BUILD_DIR overrides).
set -euo pipefail
cd "$(dirname "$0")/.."

kind=${1:-}
case "$kind" in
  asan)
    sanitize=address,undefined
    labels=""
    # Programs killed with SIGKILL on purpose never reach the leak check;
    # everything that exits normally does.
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86:strict_string_checks=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=86
    export SLATE_BIG_REQUEST_LINES=100000
    ;;
  tsan)
    sanitize=thread
    labels="unit|integration"
    export TSAN_OPTIONS=halt_on_error=1:exitcode=86:second_deadlock_stack=1
    export SLATE_BIG_REQUEST_LINES=20000
    ;;
  *) echo "usage: scripts/test-sanitized.sh asan|tsan" >&2; exit 2 ;;
esac

./scripts/install-deps.sh --hardening
BUILD_DIR=${BUILD_DIR:-build-$kind}
# -O1 with line tables only: reports still name each frame's file and line,
# and the build takes about half the time of -O2 -g (CI builds both kinds).
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLATE_WERROR=ON \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" \
  -DSLATE_SANITIZE="$sanitize" >/dev/null
cmake --build "$BUILD_DIR" -j2
args=(--test-dir "$BUILD_DIR" -j2 --output-on-failure --timeout 600)
[ -z "$labels" ] || args+=(-L "$labels")
ctest "${args[@]}"
