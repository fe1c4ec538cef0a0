#!/usr/bin/env bash
# Benchmark (not a test) for rooms, with rate limits off and durable SQLite (synchronous=FULL):
# invite+join pairs/s (many users into one room; many rooms), createRoom/s, /sync wake latency, and
# resident memory after 10,000 rooms.  usage: bench/rooms.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
echo "idle RSS: $(rss)"
"$build/load_driver" "$port" pairs 4000 1 16
"$build/load_driver" "$port" pairs 4000 1 64
"$build/load_driver" "$port" pairs 4000 400 16
"$build/load_driver" "$port" pairs 4000 400 64
"$build/load_driver" "$port" wake 200
"$build/load_driver" "$port" create 10000 16
echo "RSS after 10,000+ rooms: $(rss)"
echo "database size: $(du -sh "$dir" | cut -f1)"
