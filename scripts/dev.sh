#!/usr/bin/env bash
# Installs what is missing, builds an optimised herald, and runs it on its embedded defaults:
# homeserver on http://127.0.0.1:8008 (server name localhost:8008), SQLite under ./herald-data/.
set -euo pipefail
cd "$(dirname "$0")/.."
HERALD_SKIP_CLIENT_DEPS=1 scripts/install-deps.sh
scripts/build.sh build -DCMAKE_BUILD_TYPE=Release -DHERALD_TESTS=OFF
exec build/herald dev --data ./herald-data "$@"
