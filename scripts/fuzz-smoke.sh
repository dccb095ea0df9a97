#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and fuzzes each one briefly, starting from
# the committed seeds in fuzz/corpus/<target>. Fails on any crash, leak, timeout or OOM.
# Usage: scripts/fuzz-smoke.sh [target...]      (default: all targets)
#   SECONDS_PER_TARGET=20  time per target      RUNS=N  stop after N executions instead
#   BUILD_DIR=build-fuzz   JOBS=2
# A long campaign: RUNS=1000000 SECONDS_PER_TARGET=1800 scripts/fuzz-smoke.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD_DIR:-build-fuzz}"
all=(safetensors safetensors_index llama2c config_json tokenizer_json tokenizer_bin tokenizer_encode
     session)
targets=("${@:-${all[@]}}")
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  command -v clang++ >/dev/null || { echo "fuzz-smoke: SKIP, clang++ not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 77; }
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
    -DATTNSCOPE_BUILD_FUZZ=ON -DATTNSCOPE_BUILD_GUI=OFF -DATTNSCOPE_BUILD_TESTS=OFF \
    -DATTNSCOPE_BUILD_BENCH=OFF >/dev/null
  cmake --build "$build" -j "${JOBS:-2}" --target $(printf 'fuzz_%s ' "${targets[@]}")
fi
artifacts="$(cd "$build" && pwd)/fuzz/artifacts"
mkdir -p "$artifacts"
status=0
for t in "${targets[@]}"; do
  work="$(mktemp -d)"  # new inputs land here, never in the committed seeds
  args=(-rss_limit_mb=2048 -timeout=10 -max_len=65536 -print_final_stats=1
        -max_total_time="${SECONDS_PER_TARGET:-20}" -artifact_prefix="$artifacts/$t-")
  [ -n "${RUNS:-}" ] && args+=(-runs="$RUNS")
  log="$artifacts/$t.log"
  if "$build/fuzz/fuzz_$t" "${args[@]}" "$work" "fuzz/corpus/$t" >"$log" 2>&1; then
    echo "fuzz_$t: ok, $(grep -m1 -o 'number_of_executed_units: [0-9]*' "$log" | cut -d' ' -f2) executions"
  else
    echo "fuzz_$t: FAILED (log: $log)"; grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -5
    status=1
  fi
  rm -rf "$work"
done
exit $status
