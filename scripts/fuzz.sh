#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build-fuzz/, ASan + UBSan) and runs each on its seed corpus.
# usage: scripts/fuzz.sh [seconds-per-target] [target...]     (default: 300 s, every target in fuzz/corpus/)
# FUZZ_JOBS=2 runs two targets at once. New inputs go to a scratch dir (FUZZ_OUT, default a mktemp dir),
# never into the repository; crash inputs are left in $FUZZ_OUT/<target>/findings/ and listed at the end.
# FUZZ_FLAGS adds libFuzzer flags, e.g. "-fork=1 -ignore_crashes=1" to go on past a known finding.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
shift || true
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  for d in fuzz/corpus/*/; do targets+=("$(basename "$d")"); done
fi
jobs=${FUZZ_JOBS:-1}
out=${FUZZ_OUT:-$(mktemp -d /tmp/herald-fuzz.XXXXXX)}
export CCACHE_SLOPPINESS=pch_defines,time_macros

if [[ ! -f build-fuzz/build.ninja ]]; then
  CC=${CC:-clang-14} CXX=${CXX:-clang++-14} cmake -S . -B build-fuzz -G Ninja -DHERALD_FUZZ=ON \
    -DHERALD_TESTS=OFF -DHERALD_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null
fi
cmake --build build-fuzz -j "$(nproc)" --target "${targets[@]/%/_fuzz}"

run_one() {
  local t=$1 dir="$out/$1"
  mkdir -p "$dir/new" "$dir/findings"
  # -timeout: an input taking 10 s is a finding (hang); -rss_limit_mb: so is 2 GB of memory.
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    build-fuzz/fuzz/"$t"_fuzz "$dir/new" "fuzz/corpus/$t" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir/findings/" ${FUZZ_FLAGS:-} >"$dir/log" 2>&1 || true
}

summary() {
  local t=$1 dir="$out/$1" last
  last=$(grep -E '^#[0-9]+' "$dir/log" | tail -1 || true)
  printf '%-16s %s\n' "$t" "${last:-no progress line (see $dir/log)}"
  grep -E 'stat::number_of_executed_units|ERROR: (AddressSanitizer|libFuzzer)|runtime error:|SUMMARY:' "$dir/log" \
    | sed 's/^/    /' | head -8 || true
  local f
  for f in "$dir"/findings/*; do
    if [[ -e $f ]]; then echo "    finding: $f"; fi
  done
}

running=0
for t in "${targets[@]}"; do
  run_one "$t" &
  running=$((running + 1))
  if ((running >= jobs)); then wait -n; running=$((running - 1)); fi
done
wait
echo "fuzzed ${seconds}s per target; logs and new inputs in $out"
for t in "${targets[@]}"; do summary "$t"; done
