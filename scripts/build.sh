#!/usr/bin/env bash
# Configures and builds AttnScope into BUILD_DIR (default: build). Extra args go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD_DIR:-build}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
# Torch translation units need ~1.5 GB each: two jobs fit the 2-core machines.
cmake --build "$build" -j "${JOBS:-2}"
