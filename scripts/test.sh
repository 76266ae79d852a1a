#!/usr/bin/env bash
# The README's test command: installs what is missing, builds with warnings
# as errors, and runs every ctest label (unit, integration, crash).
# Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLATE_WERROR=ON
cmake --build "$BUILD_DIR" -j2
ctest --test-dir "$BUILD_DIR" -j2 --output-on-failure --timeout 300
