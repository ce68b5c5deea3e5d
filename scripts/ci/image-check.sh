#!/usr/bin/env bash
# Image check: replays the Dockerfile's two stages without a Docker engine (CI has none), then
# checks the runtime image's contents and runs it the way Docker would.
#   bash scripts/ci/image-check.sh
# Uses the node/npm first on PATH, which must be the Node major of the Dockerfile's base image
# (node:24…: PATH=/opt/tw-node/node-24.22.3/bin:$PATH, or scripts/ci/setup-node-glibc.sh's Node
# 24); with another major it fails at once, because npm would install another uWebSockets.js
# binary than the image gets. The npm registry must be reachable (or in npm's cache).
#
# How: scripts/ci/image-check/dockerfile.mjs turns the Dockerfile into a list of calls to the df_*
# functions below; each stage gets a temporary folder as its root (WORKDIR /app is ROOT/app), the
# build context is the repository's files (tracked and untracked, less .gitignore and
# .dockerignore; CI runs this on a clean clone, where that is HEAD), and every RUN line is run
# as written with `sh -c` in WORKDIR with only the stage's ENV (plus PATH, HOME and proxies).
# So the file list of each COPY and the commands of each RUN come from the Dockerfile itself and
# cannot drift; a missing COPY source fails. Then, on the final stage: no dist/bench, no
# devDependencies, no uWebSockets.js binary of another platform or Node ABI; it starts
# ENTRYPOINT+CMD as the Dockerfile's USER with TICKWIRE_PORT set to a free port, runs the
# HEALTHCHECK command itself (expects 0, and non-zero for a port nothing listens on), GET /
# serves the dashboard, and STOPSIGNAL makes it exit 0.
# What it cannot reproduce (the base image's own files, glibc, user database) is listed in
# docs/deploy.md, "Image".
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$REPO/scripts/ci/image-check"
STARTED=$SECONDS
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tickwire-image-check.XXXXXX")
chmod 755 "$WORK" # the runtime stage runs as the image's user, which must reach /app
CONTEXT="$WORK/context"
STAGES="$WORK/stages"
LOG="$WORK/build.log"
SERVER_LOG="$WORK/server.log"
SERVER_PID=""

NAME=image-check
LOGS=("$LOG" "$SERVER_LOG")
# shellcheck source=lib.sh
source "$REPO/scripts/ci/lib.sh"
trap ci_cleanup EXIT

NODE_VERSION=$(node -p process.versions.node)
echo "image-check: node v$NODE_VERSION (glibc $(node -p 'process.report.getReport().header.glibcVersionRuntime')), npm $(npm --version), work dir $WORK"

# ---- The Dockerfile's instructions, as functions (see dockerfile.mjs) ----
AT=0
STAGE=""
ROOT=""
WORKDIR=/
STAGE_ENV=()
IMAGE_USER=root
HC_TIMEOUT=30
HC=()
EXPOSED=""
STOP_SIGNAL=SIGTERM
ENTRYPOINT=()
CMD=()
# RUN and the container get only the stage's ENV; PATH stands in for the base image's (it finds
# this node and npm), HOME keeps npm's cache (BuildKit's --mount=type=cache), and the network
# settings npm needs here pass through (proxies, extra CA certificates, registry).
HOST_ENV=("PATH=$PATH" "HOME=$HOME")
for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY NODE_EXTRA_CA_CERTS \
  SSL_CERT_FILE SSL_CERT_DIR npm_config_registry npm_config_cafile; do
  [[ -n ${!v:-} ]] && HOST_ENV+=("$v=${!v}")
done

df_at() { AT=$1; }

df_stage() {
  STAGE=$1
  ROOT="$STAGES/$1"
  WORKDIR=/ STAGE_ENV=() IMAGE_USER=root HC=() ENTRYPOINT=() CMD=()
  mkdir -p "$ROOT"
  echo "== FROM $2 AS $1 (Dockerfile line $AT; root $ROOT)"
  same_node "$2"
}

# The check runs this Node instead of the image's: the majors must match, or npm installs and
# prune-runtime keeps another uWebSockets.js binary than the image would.
same_node() {
  [[ $1 =~ ^node:([0-9]+)[.-] ]] || fail "line $AT: the check needs a node:<major>… base image, not $1"
  local want=${BASH_REMATCH[1]}
  [[ ${NODE_VERSION%%.*} == "$want" ]] ||
    fail "the Dockerfile builds on $1 (Node $want) but node on PATH is v$NODE_VERSION: run with Node $want first on PATH, e.g. PATH=/opt/tw-node/node-24.22.3/bin:\$PATH"
}

df_workdir() {
  [[ $1 == /* ]] && WORKDIR=$1 || WORKDIR="$WORKDIR/$1"
  mkdir -p "$ROOT$WORKDIR"
}

df_env() { STAGE_ENV+=("$1=$2"); }

# COPY [--from=STAGE] SRC... DEST, with Docker's rules: a folder's contents are copied, not the
# folder; several sources or a DEST ending in / mean DEST is a folder; a relative DEST is under
# WORKDIR; --from sources are paths in that stage's root.
df_copy() {
  local from=$1 dest=$2 to src s
  shift 2
  [[ $dest == /* ]] && to="$ROOT$dest" || to="$ROOT$WORKDIR/$dest"
  for s in "$@"; do
    if [[ -z $from ]]; then
      src="$CONTEXT/${s#./}"
      [[ -e $src ]] || fail "line $AT: COPY $s: not in the build context (the repository's files less .gitignore and .dockerignore)"
    else
      [[ $s == /* ]] && src="$STAGES/$from$s" || src="$STAGES/$from/$s"
      [[ -e $src ]] || fail "line $AT: COPY --from=$from $s: stage $from has no such path"
    fi
    if [[ -d $src ]]; then
      mkdir -p "$to" && cp -a "$src/." "$to/"
    elif (($# > 1)) || [[ $dest == */ || -d $to ]]; then
      mkdir -p "$to" && cp -a "$src" "$to/"
    else
      mkdir -p "$(dirname "$to")" && cp -a "$src" "$to"
    fi
  done
  echo "   COPY ${from:+--from=$from }$* -> $dest"
}

# The image's user, for RUN and for the container: `node` is uid/gid 1000 in the node images.
# As root the check switches to it with setpriv; otherwise it runs as the calling user.
as_user() {
  case $IMAGE_USER in
  root | 0) AS_USER=() ;;
  node | 1000 | 1000:1000)
    if ((EUID == 0)) && command -v setpriv >/dev/null; then
      AS_USER=(setpriv --reuid=1000 --regid=1000 --clear-groups --)
      # The image's user must be able to run the node on PATH (a mode-700 parent folder, such
      # as one made by mktemp -d, stops it before the server writes a line).
      "${AS_USER[@]}" "$(command -v node)" --version >/dev/null 2>&1 ||
        fail "uid 1000 cannot run $(command -v node): make its folders world-readable (chmod 755)"
    else
      AS_USER=()
      echo "   (USER $IMAGE_USER: not root or no setpriv, running as $(id -un))"
    fi
    ;;
  *) fail "line $AT: USER $IMAGE_USER: the check knows only root and node" ;;
  esac
}

df_run() {
  local t0=$SECONDS rc=0
  as_user
  echo "   RUN $1" | tr -s ' '
  {
    echo "---- [$STAGE] line $AT: RUN $1"
    (cd "$ROOT$WORKDIR" && "${AS_USER[@]}" env -i "${HOST_ENV[@]}" "${STAGE_ENV[@]}" sh -c "$1")
  } >>"$LOG" 2>&1 || rc=$?
  ((rc == 0)) || fail "line $AT: RUN exited with status $rc"
  echo "   ($((SECONDS - t0)) s)"
}

df_user() { IMAGE_USER=$1; }
df_expose() { EXPOSED=$1; }
df_stopsignal() { STOP_SIGNAL=$1; }
df_healthcheck() {
  HC_TIMEOUT=$1
  HC=(sh -c "$2") # Docker runs the shell form with /bin/sh -c
}
df_healthcheck_exec() {
  HC_TIMEOUT=$1
  shift
  HC=("$@")
}
df_entrypoint() { ENTRYPOINT=("$@"); }
df_cmd() { CMD=("$@"); }

# ---- 1. The plan, the Node version, the build context ----
node "$HERE/dockerfile.mjs" plan "$REPO/Dockerfile" >"$WORK/plan.sh"
while read -r image; do same_node "$image"; done < <(sed -n "s/^df_stage '[^']*' '\([^']*\)'$/\1/p" "$WORK/plan.sh")
t0=$SECONDS
mkdir -p "$CONTEXT" "$STAGES"
# Tracked and untracked files less .gitignore (a clean clone holds exactly HEAD's), then
# .dockerignore. Files deleted in the working tree are dropped.
(cd "$REPO" && git ls-files -z -co --exclude-standard |
  while IFS= read -r -d '' f; do if [[ -e $f ]]; then printf '%s\0' "$f"; fi; done |
  node "$HERE/dockerfile.mjs" context .dockerignore |
  tar --null -T - -cf -) | tar -xf - -C "$CONTEXT"
pass "build context: $(find "$CONTEXT" -type f | wc -l) files, $(du -sh "$CONTEXT" | cut -f1) ($((SECONDS - t0)) s)"

# ---- 2. The stages ----
t0=$SECONDS
# shellcheck source=/dev/null
source "$WORK/plan.sh"
pass "Dockerfile replayed: every COPY source found, every RUN exited 0 ($((SECONDS - t0)) s)"
grep '^prune-runtime:' "$LOG" || echo "   (no prune-runtime line in the build log)"

# ---- 3. What the runtime image holds ----
APP="$ROOT$WORKDIR"
[[ -f $APP/package.json && -d $APP/node_modules ]] || fail "final stage: no package.json and node_modules in $WORKDIR"
[[ ! -e $APP/dist/bench ]] || fail "final stage holds dist/bench"
for d in src test bench web clients scripts; do
  [[ ! -e $APP/$d ]] || fail "final stage holds $WORKDIR/$d"
done
pass "no dist/bench, no sources in $WORKDIR: $(cd "$APP" && echo *)"

DEV=$(node -e 'console.log(Object.keys(require(process.argv[1]).devDependencies ?? {}).join("\n"))' "$APP/package.json")
present=()
while IFS= read -r d; do
  [[ -n $d && -e $APP/node_modules/$d ]] && present+=("$d")
done <<<"$DEV"
((${#present[@]} == 0)) || fail "devDependencies in node_modules: ${present[*]}"
pass "none of the $(wc -l <<<"$DEV") devDependencies in node_modules (vitest, typescript, … absent)"

# uWebSockets.js binaries: only uws_<platform>_<arch>_<this ABI>.node may remain (on Node 22/24
# none: theirs is @uwsjs/linux-x64-NN/uws.node); prebuilds/ only for this platform.
OWN=$(node -p '`${process.platform}_${process.arch}_${process.versions.modules}`')
PLATFORM=$(node -p '`${process.platform}-${process.arch}`')
bad=$(cd "$APP/node_modules" && find . -name 'uws_*.node' ! -name "uws_$OWN.node" | head -n 5)
[[ -z $bad ]] || fail "uWebSockets.js binaries of other platforms or Node versions: $bad"
bad=$(cd "$APP/node_modules" && find . -path '*/prebuilds/*' -prune -type d ! -name "$PLATFORM" | head -n 5)
[[ -z $bad ]] || fail "prebuilds of other platforms: $bad"
natives=$(cd "$APP/node_modules" && find . -name '*.node' | sed 's|^\./||' | sort)
pass "native files ($(wc -l <<<"$natives")), all $PLATFORM: $(tr '\n' ' ' <<<"$natives")"
echo "     sizes: node_modules $(du -sh "$APP/node_modules" | cut -f1), $WORKDIR $(du -sh "$APP" | cut -f1) ($(find "$APP" -type f | wc -l) files)"

# ---- 4. Run it as the container would ----
[[ ${#ENTRYPOINT[@]} -gt 0 || ${#CMD[@]} -gt 0 ]] || fail "no ENTRYPOINT or CMD"
((${#HC[@]} > 0)) || fail "no HEALTHCHECK"
[[ ${ENTRYPOINT[0]:-${CMD[0]}} != npm ]] || fail "the container must start the server, not npm"
argv=()
for a in "${ENTRYPOINT[@]}" "${CMD[@]}"; do
  # An absolute path in the image is the same path under the stage's root.
  if [[ $a == /* && -e $ROOT$a ]]; then argv+=("$ROOT$a"); else argv+=("$a"); fi
done
as_user
RUN_ENV=("${HOST_ENV[0]}" "HOME=/home/$IMAGE_USER" "${STAGE_ENV[@]}")
# Two ports free on every address (the server listens on 0.0.0.0), picked below the ephemeral
# range: there, other jobs' outgoing connections can take a port between the pick and the listen.
free_ports() {
  node -e '
    const net = require("node:net");
    const lo = Number(require("node:fs").readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").split(/\s+/)[0]);
    const found = [];
    const next = () => {
      if (found.length === 2) return console.log(found.join(" "));
      const port = 10000 + Math.floor(Math.random() * (lo - 10000));
      const s = net.createServer().once("error", next);
      s.listen(port, "0.0.0.0", () => s.close(() => (found.push(port), next())));
    };
    next();'
}
for attempt in 1 2 3; do
  read -r PORT PORT2 < <(free_ports)
  : >"$SERVER_LOG"
  cd "$APP"
  "${AS_USER[@]}" env -i "${RUN_ENV[@]}" "TICKWIRE_PORT=$PORT" "${argv[@]}" >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  cd "$REPO"
  for ((i = 0; i < 300; i++)); do # up to 30 s for the listening line
    grep -q '^tickwire listening on ' "$SERVER_LOG" && break
    alive "$SERVER_PID" || break
    sleep 0.1
  done
  alive "$SERVER_PID" && break
  # Taken between the pick and the listen: pick again.
  grep -q 'EADDRINUSE' "$SERVER_LOG" && ((attempt < 3)) && echo "   port $PORT was taken, again" && continue
  fail "the server exited before listening"
done
grep -q "^tickwire listening on .*:$PORT\$" "$SERVER_LOG" || fail "no listening line for port $PORT within 30 s"
uid=$(awk '/^Uid:/ { print $2 }' "/proc/$SERVER_PID/status")
pass "started ${ENTRYPOINT[*]}${CMD[*]:+ ${CMD[*]}} as USER $IMAGE_USER (uid $uid), TICKWIRE_PORT=$PORT (EXPOSE $EXPOSED): $(grep -m1 '^tickwire listening on ' "$SERVER_LOG")"

healthcheck() {
  (cd "$APP" && timeout "$HC_TIMEOUT" "${AS_USER[@]}" env -i "${RUN_ENV[@]}" "TICKWIRE_PORT=$1" "${HC[@]}") >/dev/null 2>&1
}
rc=0
healthcheck "$PORT" || rc=$?
((rc == 0)) || fail "HEALTHCHECK with TICKWIRE_PORT=$PORT: exit status $rc"
rc=0
healthcheck "$PORT2" || rc=$?
((rc != 0)) || fail "HEALTHCHECK with TICKWIRE_PORT=$PORT2 (nothing listens) passed: it does not follow TICKWIRE_PORT"
pass "HEALTHCHECK exits 0 on TICKWIRE_PORT=$PORT and $rc on $PORT2 (nothing listening)"

node "$REPO/scripts/ci/pack-check/probe.mjs" "http://127.0.0.1:$PORT"

kill -s "${STOP_SIGNAL#SIG}" "$SERVER_PID"
for ((i = 0; i < 300; i++)); do # up to 30 s
  alive "$SERVER_PID" || break
  sleep 0.1
done
alive "$SERVER_PID" && fail "the server still runs 30 s after $STOP_SIGNAL"
rc=0
wait "$SERVER_PID" || rc=$?
SERVER_PID=""
((rc == 0)) || fail "the server exited with status $rc after $STOP_SIGNAL"
pass "STOPSIGNAL $STOP_SIGNAL: the server exited 0"
