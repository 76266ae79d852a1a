#!/usr/bin/env bash
# Installs slate's build and test dependencies from Debian 12 packages.
# Idempotent: installs only what is missing, so it is cheap to run every time.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libboost-dev libboost-program-options-dev
  libmsgpack-cxx-dev libspdlog-dev libfmt-dev nlohmann-json3-dev
  libtomlplusplus-dev  # group files may be TOML
  libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-dev pybind11-dev python3-pytest
  libncurses-dev tmux curl
  gdb  # the chaos suite prints the stacks of a stalled group
  parallel  # scripts/measure_agents.py runs the sample agent under GNU parallel too
  chromium  # the dashboard's browser test (tests/tools/dashboard)
)

# --hardening: also what the sanitizer and fuzzing builds need (CI only).
if [ "${1:-}" = "--hardening" ]; then
  PACKAGES+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
