#!/usr/bin/env bash
# Configures and builds Herald into a build directory.  usage: scripts/build.sh <dir> <cmake options...>
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1
shift
export CCACHE_SLOPPINESS=pch_defines,time_macros
if [[ ! -f "$dir/build.ninja" ]]; then
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
fi
cmake --build "$dir" -j "$(nproc)"
