#!/usr/bin/env bash
# Benchmark (not a test): resident memory after 10,000 rooms on a fresh server (createRoom only, 16
# client threads), the figure the rooms target names. usage: bench/rooms_memory.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
echo "idle RSS: $(rss)"
"$build/load_driver" "$port" create 10000 16
echo "RSS after 10,000 rooms on a fresh server: $(rss)"
