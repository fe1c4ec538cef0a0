#!/usr/bin/env bash
# Benchmark (not a test): authenticated GET /account/whoami with wrk, 64 connections for 10 s, and the
# server's resident memory idle and under that load.  usage: bench/whoami.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
base=http://127.0.0.1:$port/_matrix/client/v3
token=$(curl -s -X POST "$base/register" \
  -d '{"username":"bench","password":"benchpw","auth":{"type":"m.login.dummy"}}' |
  python3 -c 'import sys, json; print(json.load(sys.stdin)["access_token"])')
echo "idle RSS: $(rss)"
( sleep 5; echo "RSS under load: $(rss)" ) &
sampler=$!
wrk -t2 -c64 -d10s --latency -H "Authorization: Bearer $token" "$base/account/whoami"
wait "$sampler"
echo "RSS after load: $(rss)"
