#!/usr/bin/env bash
# Benchmark (not a test) for federation between two Herald homeservers on this machine, over TLS with a
# test CA (durable SQLite, Release build): PDUs per second received over PUT /send (a 1,000-event backlog
# caught up, and 1,000 events sent live by 8 clients), and the delay from a message sent on A to a waiting
# /sync on B (p50/p99 over 200 messages).  usage: bench/federation.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
scripts/build.sh "$build" -DCMAKE_BUILD_TYPE=Release -DHERALD_TESTS=OFF
HERALD_BIN="$PWD/$build/herald" /usr/bin/python3 bench/federation.py
