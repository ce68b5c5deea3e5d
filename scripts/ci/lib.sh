# Shared by pack-check.sh and image-check.sh (sourced, not run). The caller sets NAME, STARTED,
# WORK, SERVER_PID and LOGS (files whose tail is shown on failure), then `trap ci_cleanup EXIT`.

pass() { echo "PASS $*"; }
fail() {
  echo "FAIL $*" >&2
  exit 1
}

# Gone (bash may reap it at any moment) or exited but not waited for yet (a zombie): not alive.
alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  [[ ! $stat =~ ^[0-9]+\ \(.*\)\ Z ]]
}

# Kills a server still running, shows the logs' last lines on failure, removes WORK.
ci_cleanup() {
  local rc=$?
  if [[ -n $SERVER_PID ]] && alive "$SERVER_PID"; then kill -KILL "$SERVER_PID" 2>/dev/null || true; fi
  if ((rc != 0)); then
    for f in "${LOGS[@]}"; do
      [[ -s $f ]] && { echo "--- last lines of $(basename "$f"):"; tail -n 40 "$f"; }
    done
  fi
  rm -rf "$WORK"
  if ((rc == 0)); then
    echo "PASS $NAME ($((SECONDS - STARTED)) s)"
  else
    echo "FAIL $NAME (exit $rc after $((SECONDS - STARTED)) s)" >&2
  fi
}
