#!/usr/bin/env bash
# Installs Herald's build and test dependencies from Debian 12 packages.
# Idempotent: does nothing (and prints nothing) when everything is already there.
set -euo pipefail

# openssl: the command line the integration tests make their test CA with.
packages=(
  build-essential cmake ninja-build lld ccache pkg-config
  libboost1.81-dev nlohmann-json3-dev libsodium-dev libsqlite3-dev libpq-dev
  libcurl4-openssl-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  wrk curl python3 openssl
)
# What only the tests need: the nio client, an SMTP receiver, ed25519 signing, a test CA (openssl), a browser
# for the emailed pages.
test_packages=(python3-matrix-nio python3-aiosmtpd python3-nacl openssl chromium)
if [[ "${HERALD_SKIP_CLIENT_DEPS:-}" != 1 ]]; then
  packages+=("${test_packages[@]}")
  # Node and npm for the matrix-js-sdk stories: Debian's (Node 18) unless some Node is already installed
  # (a nodesource nodejs bundles its own npm and conflicts with Debian's npm package).
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then packages+=(nodejs npm); fi
fi

missing=()
for p in "${packages[@]}"; do
  [[ -z "$p" ]] && continue
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
