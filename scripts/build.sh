#!/usr/bin/env bash
# Configures and builds supplysec into build/ (or $1), passing further
# arguments to cmake: scripts/build.sh build-asan -DSUPPLYSEC_SANITIZE=ON
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
