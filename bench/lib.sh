# Shared by the benchmark scripts: builds Release and starts herald with rate limits off on a free port.
# Sets $dir, $pid, $port and defines rss(). Source it from a script that has cd'ed to the repository.
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
