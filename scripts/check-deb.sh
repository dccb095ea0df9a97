#!/usr/bin/env bash
# Builds the .deb, installs it with apt (which pulls the runtime dependencies), checks the
# installed binaries and data, then purges it. Needs root (or sudo) and a Debian bookworm.
#   BUILD_DIR=build-deb (configured with the GUI, -DCMAKE_INSTALL_PREFIX=/usr)   JOBS=2
#   KEEP=1: leave the package installed
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
build="${BUILD_DIR:-build-deb}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DATTNSCOPE_BUILD_GUI=ON \
    -DCMAKE_INSTALL_PREFIX=/usr -DATTNSCOPE_BUILD_BENCH=OFF >/dev/null
  cmake --build "$build" -j "${JOBS:-2}" --target attnscope attnscope-cli attnscope_packaging_docs
fi
(cd "$build" && rm -f attnscope_*.deb && cpack -G DEB >/dev/null)
deb="$(cd "$build" && ls "$PWD"/attnscope_*.deb)"
echo "package: $deb ($(du -h "$deb" | cut -f1))"
dpkg-deb --field "$deb" Depends | tr ',' '\n' | sed 's/^ */  depends: /'
echo "installed size: $(dpkg-deb --field "$deb" Installed-Size) KiB"

$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >/dev/null
trap '[ "${KEEP:-0}" = 1 ] || $SUDO env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq attnscope >/dev/null' EXIT

fail() { echo "check-deb: $*" >&2; exit 1; }
work="$(mktemp -d)"
cd "$work"  # away from the source tree: the binaries must find the installed data
/usr/bin/attnscope-cli --version | grep -q "attnscope-cli" || fail "--version"
[ -f /usr/share/attnscope/models/attnscope-tiny/config.json ] || fail "default model not installed"
info="$(/usr/bin/attnscope-cli info --json)" || fail "info on the default model"
echo "$info" | grep -q '"/usr/share/attnscope/models/attnscope-tiny"' ||
  fail "info did not use the installed model: $info"
/usr/bin/attnscope-cli info --model /usr/share/attnscope/models/attnscope-tiny >/dev/null || fail "info --model"
QT_QPA_PLATFORM=offscreen timeout 300 /usr/bin/attnscope --prompt "Once upon a time" \
  --screenshot "$work/shot.png" || fail "GUI screenshot"
[ -s "$work/shot.png" ] || fail "no screenshot written"
for f in /usr/share/applications/io.github.attnscope.AttnScope.desktop \
         /usr/share/metainfo/io.github.attnscope.AttnScope.metainfo.xml \
         /usr/share/mime/packages/attnscope.xml /usr/share/icons/hicolor/scalable/apps/attnscope.svg \
         /usr/share/icons/hicolor/48x48/apps/attnscope.png /usr/share/man/man1/attnscope.1.gz \
         /usr/share/man/man1/attnscope-cli.1.gz /usr/share/doc/attnscope/copyright; do
  [ -f "$f" ] || fail "missing $f"
done
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate /usr/share/applications/io.github.attnscope.AttnScope.desktop
fi
if command -v appstreamcli >/dev/null; then
  appstreamcli validate --no-net /usr/share/metainfo/io.github.attnscope.AttnScope.metainfo.xml >/dev/null
fi
if command -v xdg-mime >/dev/null && command -v update-mime-database >/dev/null; then
  [ "$(xdg-mime query filetype "$root/fuzz/corpus/session/attention_heads.attnscope" 2>/dev/null)" = \
    application/x-attnscope-session ] || echo "check-deb: note: xdg-mime did not map *.attnscope"
fi
if command -v lintian >/dev/null; then
  lintian --fail-on error "$deb" || fail "lintian errors"
fi
echo "check-deb: ok (screenshot $(stat -c %s "$work/shot.png") bytes)"
rm -rf "$work"
