#!/usr/bin/env bash
# Pack-install-run check. Run from the repository root after `npm run build`:
#   bash scripts/ci/pack-check.sh        (or: npm run pack:check)
# Packs tickwire and tickwire-client (npm pack --ignore-scripts: the build just ran),
# checks what the tarballs hold, installs both into a fresh project outside the
# repository, starts the server from the installed `tickwire` bin (--demo), waits for
# /readyz, checks that / serves the dashboard, sends one tick end to end with the
# installed client loaded by `import` and by `require`, type-checks both export
# conditions, stops the server with SIGTERM and checks that it exits 0.
# Uses the node/npm first on PATH; the npm registry must be reachable (or cached).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$REPO/scripts/ci/pack-check"
STARTED=$SECONDS
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tickwire-pack-check.XXXXXX")
APP="$WORK/app"
LOG="$WORK/server.log"
SERVER_PID=""

NAME=pack-check
LOGS=("$WORK/install.log" "$LOG")
# shellcheck source=lib.sh
source "$REPO/scripts/ci/lib.sh"
trap ci_cleanup EXIT

echo "pack-check: node $(node --version), npm $(npm --version), work dir $WORK"
for f in dist/src/main.js dist/web/index.html clients/ts/dist/clients/ts/src/index.js \
  clients/ts/dist/cjs/package.json; do
  [[ -f $REPO/$f ]] || fail "$f missing: run \`npm run build\` first"
done

# 1. Pack both packages (into the work dir: nothing is written to the repository).
SERVER_TGZ="$WORK/$(cd "$REPO" && npm pack --ignore-scripts --pack-destination "$WORK" 2>/dev/null | tail -n 1)"
CLIENT_TGZ="$WORK/$(cd "$REPO/clients/ts" && npm pack --ignore-scripts --pack-destination "$WORK" 2>/dev/null | tail -n 1)"
[[ -f $SERVER_TGZ && -f $CLIENT_TGZ ]] || fail "npm pack: no tarballs in $WORK"

# has TARBALL PATH...: each path is in the tarball; lacks TARBALL REGEX: no path matches.
# (Lists go through variables: `grep -q` in a pipe can stop its writer with SIGPIPE, which
# pipefail reports as a failure.)
list() { tar -tzf "$1" | sed 's|^package/||'; }
has() {
  local tgz=$1 files
  shift
  files=$(list "$tgz")
  for f in "$@"; do grep -qxF "$f" <<<"$files" || fail "$(basename "$tgz") lacks $f"; done
}
lacks() {
  local bad
  bad=$(list "$1" | grep -E "$2" | head -n 3 || true)
  [[ -z $bad ]] || fail "$(basename "$1") holds what it should not: $bad"
}
has "$SERVER_TGZ" package.json LICENSE README.md CHANGELOG.md bin/tickwire.js dist/src/main.js \
  dist/src/server/uws.js dist/src/server/static.js dist/web/index.html \
  bin/tickwire-replay.js bin/tickwire-record.js dist/src/tools/replay-main.js \
  dist/src/tools/record-main.js
grep -qE '^dist/web/assets/dashboard-[^/]+\.js$' <<<"$(list "$SERVER_TGZ")" ||
  fail "$(basename "$SERVER_TGZ") lacks the dashboard script dist/web/assets/dashboard-*.js"
lacks "$SERVER_TGZ" '^(dist/bench|src|test|bench|web|clients|scripts|docs|node_modules)/'
has "$CLIENT_TGZ" package.json LICENSE README.md bin/tickwire-feed.js bin/tickwire-tail.js \
  dist/clients/ts/src/index.js dist/clients/ts/src/index.d.ts dist/src/protocol/codes.js \
  dist/cjs/package.json dist/cjs/clients/ts/src/index.js dist/cjs/clients/ts/src/index.d.ts
lacks "$CLIENT_TGZ" '^(src|test|scripts|node_modules)/|^tsconfig'
pass "npm pack: $(basename "$SERVER_TGZ") ($(list "$SERVER_TGZ" | wc -l) files, $(du -k "$SERVER_TGZ" | cut -f1) KiB)," \
  "$(basename "$CLIENT_TGZ") ($(list "$CLIENT_TGZ" | wc -l) files, $(du -k "$CLIENT_TGZ" | cut -f1) KiB)"

# 2. Install both tarballs (and ws, as the client's README says) into an empty project.
mkdir -p "$APP"
echo '{ "name": "tickwire-pack-check", "version": "0.0.0", "private": true }' >"$APP/package.json"
t0=$SECONDS
(cd "$APP" && npm install --no-audit --no-fund --prefer-offline "$SERVER_TGZ" "$CLIENT_TGZ" ws) \
  >"$WORK/install.log" 2>&1 || fail "npm install of the tarballs"
[[ -x $APP/node_modules/.bin/tickwire ]] || fail "no tickwire bin in node_modules/.bin"
pass "npm install of both tarballs into $APP ($((SECONDS - t0)) s)"
cp "$HERE"/*.mjs "$HERE"/*.cjs "$HERE"/*.mts "$HERE"/*.cts "$APP/"

HELP=$(cd "$APP" && npx --no -- tickwire --help) || fail "npx tickwire --help: exit status $?"
grep -q -- '--demo' <<<"$HELP" || fail "npx tickwire --help: no --demo in: $HELP"
pass "npx tickwire --help"
for tool in tickwire-replay tickwire-record; do
  TOOL_HELP=$(cd "$APP" && npx --no -- "$tool" --help) || fail "npx $tool --help: exit status $?"
  grep -q -- '--url' <<<"$TOOL_HELP" || fail "npx $tool --help: no --url in: $TOOL_HELP"
  pass "npx $tool --help"
done

# 3. The server from the installed bin: the node process itself (no npm/npx in between),
#    so SIGTERM below reaches it. Port 0: it picks a free one and prints it.
TOKEN="pack-check-$RANDOM$RANDOM"
"$APP/node_modules/.bin/tickwire" --host 127.0.0.1 --port 0 --demo --feed-token "$TOKEN" \
  >"$LOG" 2>&1 &
SERVER_PID=$!
PORT=""
for ((i = 0; i < 300; i++)); do # up to 30 s for the listening line
  PORT=$(sed -n 's|^tickwire listening on http://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$LOG" | head -n 1)
  [[ -n $PORT ]] && break
  alive "$SERVER_PID" || fail "the server exited before listening"
  sleep 0.1
done
[[ -n $PORT ]] || fail "no listening line from the server within 30 s"
pass "tickwire bin started (pid $SERVER_PID, port $PORT)"

(cd "$APP" && node probe.mjs "http://127.0.0.1:$PORT")
(cd "$APP" && node esm.mjs "ws://127.0.0.1:$PORT" "$TOKEN" PACK.ESM)
(cd "$APP" && node cjs.cjs "ws://127.0.0.1:$PORT" "$TOKEN" PACK.CJS)

# 4. Types of both export conditions, with this repository's TypeScript. "node16" (not
#    "nodenext", which lets require() load ESM) fails if require's types are ES modules.
cat >"$APP/tsconfig.json" <<'JSON'
{
  "compilerOptions": {
    "module": "node16",
    "moduleResolution": "node16",
    "target": "es2022",
    "strict": true,
    "noEmit": true,
    "types": [],
    "skipLibCheck": true
  },
  "files": ["types-esm.mts", "types-cjs.cts"]
}
JSON
node "$REPO/node_modules/typescript/bin/tsc" -p "$APP/tsconfig.json" || fail "types of tickwire-client"
pass "types: import and require conditions type-check (strict, node16)"

# 5. SIGTERM: the server drains and exits 0 by itself.
kill -TERM "$SERVER_PID"
for ((i = 0; i < 300; i++)); do # up to 30 s
  alive "$SERVER_PID" || break
  sleep 0.1
done
alive "$SERVER_PID" && fail "the server still runs 30 s after SIGTERM"
rc=0
wait "$SERVER_PID" || rc=$?
SERVER_PID=""
((rc == 0)) || fail "the server exited with status $rc after SIGTERM"
grep -q 'SIGTERM: shutting down' "$LOG" || fail "the server did not log its SIGTERM shutdown"
pass "SIGTERM: the server exited 0"
