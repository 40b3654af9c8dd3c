#!/usr/bin/env bash
# The whole test suite: installs what it needs, lints the protos, builds,
# runs the cmocka unit and contract tests and the end-to-end tests through
# Debian's python3-grpcio; then the same again under ASan+UBSan (skip that
# with SUPPLYSEC_SANITIZE=0). The last line says `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh || { echo "0 passed, 1 failed"; exit 1; }
exec /usr/bin/python3 scripts/run_tests.py "$@"
