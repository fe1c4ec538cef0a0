#!/usr/bin/env bash
# Installs what is missing, builds herald and its tests with AddressSanitizer + UBSan, and runs every
# test (unit, integration against the real binary, real clients) with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
if [[ -f tests/clients/package-lock.json ]]; then
  (cd tests/clients && npm ci --no-audit --no-fund --loglevel=error)
fi
scripts/build.sh build-test -DCMAKE_BUILD_TYPE=Debug -DHERALD_ASAN=ON
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
cd build-test
ctest -j "$(nproc)" --output-on-failure "$@"
