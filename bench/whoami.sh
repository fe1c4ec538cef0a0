#!/usr/bin/env bash
# Benchmark (not a test): authenticated GET /account/whoami with wrk, 64 connections for 10 s, and the
# server's resident memory idle and under that load.  usage: bench/whoami.sh [build-dir]
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
base=http://127.0.0.1:$port/_matrix/client/v3
token=$(curl -s -X POST "$base/register" \
  -d '{"username":"bench","password":"benchpw","auth":{"type":"m.login.dummy"}}' |
  python3 -c 'import sys, json; print(json.load(sys.stdin)["access_token"])')
rss() { awk '/VmRSS/ {print $2/1024 " MB"}' "/proc/$pid/status"; }
echo "idle RSS: $(rss)"
( sleep 5; echo "RSS under load: $(rss)" ) &
sampler=$!
wrk -t2 -c64 -d10s --latency -H "Authorization: Bearer $token" "$base/account/whoami"
wait "$sampler"
echo "RSS after load: $(rss)"
