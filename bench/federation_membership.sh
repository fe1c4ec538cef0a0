#!/usr/bin/env bash
# Benchmark (not a test) for membership across two Herald homeservers on this machine, over TLS with a test
# CA (durable SQLite, Release build, rate limits off): federated invite -> remote /sync p50/p99, remote
# joins per second into one room, and the time to join a room of 10,000 members (BENCH_MEMBERS) through
# another server.  usage: bench/federation_membership.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
scripts/build.sh "$build" -DCMAKE_BUILD_TYPE=Release -DHERALD_TESTS=OFF
HERALD_BIN="$PWD/$build/herald" LOAD_DRIVER="$PWD/$build/load_driver" /usr/bin/python3 bench/federation_membership.py
