#!/usr/bin/env bash
# Builds the whole test suite with AddressSanitizer + UndefinedBehaviorSanitizer and runs it.
# Usage: scripts/test-sanitizers.sh [ctest args...]   (BUILD_DIR default: build-asan, JOBS default 2)
#   TARGETS="tst_a tst_b" builds only those targets (then pass -R/-L to ctest to match),
#   e.g. the torch-free parsers: TARGETS="tst_safetensors tst_tokenizer tst_session
#   tst_session_faults tst_atomic_file tst_fuzz_regressions" scripts/test-sanitizers.sh -L io
# Takes long (a full -O1 instrumented build of every torch translation unit): see
# scripts/sanitizers/README.md for measured times. Suppressions for reports inside libtorch,
# Qt or system libraries live in scripts/sanitizers/ and are kept narrow.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
build="${BUILD_DIR:-build-asan}"
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
  -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DATTNSCOPE_BUILD_BENCH=OFF >/dev/null
# shellcheck disable=SC2086
cmake --build "$build" -j "${JOBS:-2}" ${TARGETS:+--target $TARGETS}
[ -d "$build/testdata" ] || scripts/fetch-test-data.sh "$build"
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=0:suppressions=$root/scripts/sanitizers/asan.supp"
export LSAN_OPTIONS="suppressions=$root/scripts/sanitizers/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$root/scripts/sanitizers/ubsan.supp"
cd "$build"
QT_QPA_PLATFORM=offscreen ctest --output-on-failure -j "${JOBS:-2}" --timeout 3000 "$@"
