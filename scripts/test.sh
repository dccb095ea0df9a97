#!/usr/bin/env bash
# Installs dependencies and test data, builds, and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD_DIR:-build}"
scripts/setup-deps.sh
scripts/fetch-test-data.sh "$build"
scripts/build.sh
cd "$build"
QT_QPA_PLATFORM=offscreen ctest --output-on-failure -j 2 --timeout 1500
