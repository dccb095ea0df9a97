#!/usr/bin/env bash
# Installs dependencies, builds, and starts AttnScope (on the built-in model when present).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-deps.sh
scripts/build.sh
exec "${BUILD_DIR:-build}/app/gui/attnscope" "$@"
