#!/usr/bin/env bash
# Benchmark (not a test) for issue 12, item 8: a thundering herd of catch-up syncs. USERS clients (2,000)
# in ROOMS rooms (1) each take a sync token, EVENTS messages (500) go into every room, then every client's
# /sync?since=...&timeout=0 arrives at once, each on its own connection (spread over 127.0.0.2 and on, as
# the server caps connections per address), while another member's /messages?dir=b&limit=20 and
# GET state/m.room.name are timed; the same reads with no herd first. Rate limits off, durable SQLite.
# usage: bench/herd.sh [build-dir] [users] [rooms] [events]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
echo "idle RSS: $(rss)"
"$build/load_driver" "$port" herd "${2:-2000}" "${3:-1}" "${4:-500}"
echo "RSS after the herd: $(rss)"
