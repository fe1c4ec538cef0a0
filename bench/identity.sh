#!/usr/bin/env bash
# Benchmark (not a test) for the identity server: the reads a homeserver makes on every third-party invite
# and every onbind — hashed /v2/lookup (authenticated), legacy /v1/lookup, and /pubkey/ephemeral/isvalid —
# with wrk, 64 connections for 10 s each, after binding 1,000 addresses.  usage: bench/identity.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
scripts/install-deps.sh
scripts/build.sh "$build" -DCMAKE_BUILD_TYPE=Release -DHERALD_TESTS=OFF
dir=$(mktemp -d /tmp/herald-bench.XXXXXX)
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
cat > "$dir/is.yaml" <<YAML
server_name: "127.0.0.1"
listeners: [{bind_address: 127.0.0.1, port: 0, resources: [identity]}]
database: {backend: sqlite, path: $dir/is.db}
signing_key_path: $dir/is.key
outbox_dir: $dir/outbox
rate_limits: {enabled: false}
log_level: ${HERALD_BENCH_LOG_LEVEL:-warn}
YAML
"$build/herald" identity --config "$dir/is.yaml" --port-file "$dir/port" 2>"$dir/herald.log" &
pid=$!
for _ in $(seq 100); do [[ -f "$dir/port" ]] && break; sleep 0.05; done
port=$(head -1 "$dir/port")
# Bindings and an account straight in the database: the benchmark measures reads, not mail.
pepper=$(python3 - "$dir/is.db" <<'PY'
import base64, hashlib, secrets, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
pepper = db.execute("SELECT value FROM settings WHERE name = 'lookup_pepper'").fetchone()[0]
for i in range(1000):
    address = f"user{i}@example.org"
    h = base64.urlsafe_b64encode(hashlib.sha256(f"{address} email {pepper}".encode()).digest()).decode().rstrip("=")
    db.execute("INSERT INTO associations VALUES ('email', ?, ?, ?, 0, 0, 1)", (address, h, f"@user{i}:hs"))
db.execute("INSERT INTO accounts VALUES ('@bench:hs', 0)")
db.execute("INSERT INTO account_tokens VALUES (?, '@bench:hs', 0)", (hashlib.sha256(b"benchtoken").hexdigest(),))
db.execute("INSERT INTO ephemeral_keys VALUES ('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 0)")
db.commit()
print(pepper)
PY
)
hash=$(python3 -c "import base64,hashlib,sys; print(base64.urlsafe_b64encode(hashlib.sha256(f'user7@example.org email {sys.argv[1]}'.encode()).digest()).decode().rstrip('='))" "$pepper")
cat > "$dir/lookup.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"algorithm":"sha256","pepper":"$pepper","addresses":["$hash"]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer benchtoken"
LUA
base=http://127.0.0.1:$port
curl -s -X POST -H "Authorization: Bearer benchtoken" "$base/_matrix/identity/v2/lookup" \
  -d "{\"algorithm\":\"sha256\",\"pepper\":\"$pepper\",\"addresses\":[\"$hash\"]}"; echo
echo "== v2 hashed lookup (one address)"
wrk -t2 -c64 -d10s --latency -s "$dir/lookup.lua" "$base/_matrix/identity/v2/lookup" | grep -E "Requests/sec|50%|99%"
echo "== v1 lookup"
wrk -t2 -c64 -d10s --latency "$base/_matrix/identity/api/v1/lookup?medium=email&address=user7@example.org" | grep -E "Requests/sec|50%|99%"
echo "== ephemeral key check"
wrk -t2 -c64 -d10s --latency "$base/_matrix/identity/v2/pubkey/ephemeral/isvalid?public_key=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" | grep -E "Requests/sec|50%|99%"
echo "RSS: $(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' "/proc/$pid/status")"
