#!/usr/bin/env bash
# Benchmark (not a test) for rooms, with rate limits off and durable SQLite (synchronous=FULL):
# invite+join pairs/s (many users into one room; many rooms), createRoom/s, /sync wake latency, and
# resident memory after 10,000 rooms.  usage: bench/rooms.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
scripts/install-deps.sh
scripts/build.sh "$build" -DCMAKE_BUILD_TYPE=Release -DHERALD_TESTS=OFF
dir=$(mktemp -d /tmp/herald-bench.XXXXXX)
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
cat > "$dir/hs.yaml" <<YAML
server_name: "localhost"
listeners: [{bind_address: 127.0.0.1, port: 0, resources: [client]}]
database: {backend: sqlite, path: $dir/hs.db}
signing_key_path: $dir/signing.key
rate_limits: {enabled: false}
log_level: ${HERALD_BENCH_LOG_LEVEL:-info}
YAML
"$build/herald" homeserver --config "$dir/hs.yaml" --port-file "$dir/port" 2>"$dir/herald.log" &
pid=$!
for _ in $(seq 100); do [[ -f "$dir/port" ]] && break; sleep 0.05; done
port=$(head -1 "$dir/port")
rss() { awk '/VmRSS/ {printf "%.1f MB", $2/1024}' "/proc/$pid/status"; }
echo "idle RSS: $(rss)"
"$build/load_driver" "$port" pairs 4000 1 16
"$build/load_driver" "$port" pairs 4000 400 16
"$build/load_driver" "$port" wake 200
"$build/load_driver" "$port" create 10000 16
echo "RSS after 10,000+ rooms: $(rss)"
echo "database size: $(du -sh "$dir" | cut -f1)"
