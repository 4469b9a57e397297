# Shared by the e2e scripts: start and stop a local cluster in a temporary directory.
# Usage: source lib.sh; start_cluster; ...; (stop happens on exit)
set -euo pipefail
LOCALCLUSTER=${LOCALCLUSTER:?set LOCALCLUSTER to build/bin/servicedb-localcluster}
SOURCE_DIR=${SOURCE_DIR:?set SOURCE_DIR to the repository}
WORK=$(mktemp -d /tmp/sdb-e2e.XXXXXX)
# kubectl caches discovery per host:port for hours; clusters on reused random ports must not share it.
export KUBECACHEDIR="$WORK/kubecache"
LC_PID=""
LC_EXIT=""  # the exit status of the last stop_cluster's SIGTERM (0: a clean stop)

start_cluster() {
  rm -f "$WORK/lc/kubeconfig"
  # shellcheck disable=SC2086 # LC_FLAGS: extra flags, word-split on purpose
  "$LOCALCLUSTER" --data-dir "$WORK/lc" --port 0 ${LC_FLAGS:-} >>"$WORK/lc.log" 2>&1 &
  LC_PID=$!
  # Up to 60 s: on a loaded machine the kernel can take many seconds to finish tearing down the
  # previous cluster's network namespaces before a new bridge can be made. A cluster that exits
  # fails at once.
  for _ in $(seq 1 600); do
    [ -f "$WORK/lc/kubeconfig" ] && break
    kill -0 "$LC_PID" 2>/dev/null || break
    sleep 0.1
  done
  [ -f "$WORK/lc/kubeconfig" ] || { echo "local cluster did not start:"; cat "$WORK/lc.log"; exit 1; }
  export KUBECONFIG="$WORK/lc/kubeconfig"
}

stop_cluster() {
  LC_EXIT=""
  if [ -n "$LC_PID" ] && kill -0 "$LC_PID" 2>/dev/null; then
    kill -TERM "$LC_PID"
    LC_EXIT=0
    wait "$LC_PID" || LC_EXIT=$?
  fi
  LC_PID=""
}

cleanup() {
  local rc=$?
  # A failed suite shows the end of the local cluster's own log (a crash or a refused request).
  if [ "$rc" != 0 ] && [ -s "$WORK/lc.log" ]; then
    echo "---- last lines of the local cluster's log"; tail -n 30 "$WORK/lc.log" | sed 's/^/     /'
    if [ -n "$LC_PID" ] && ! kill -0 "$LC_PID" 2>/dev/null; then wait "$LC_PID"; echo "---- the local cluster had exited with status $?"; fi
  fi
  stop_cluster
  rm -rf "$WORK"
}
trap cleanup EXIT

pass=0
check() {  # check "what" command...
  local what=$1; shift
  if "$@" >"$WORK/out" 2>&1; then
    echo "ok   $what"; pass=$((pass + 1))
  else
    echo "FAIL $what"; sed 's/^/     /' "$WORK/out"; exit 1
  fi
}
expect_fail() {  # expect_fail "what" pattern command...: the command must fail with output matching pattern
  local what=$1 pattern=$2; shift 2
  if "$@" >"$WORK/out" 2>&1; then echo "FAIL $what (it succeeded)"; cat "$WORK/out"; exit 1; fi
  if ! grep -qE -- "$pattern" "$WORK/out"; then echo "FAIL $what: output does not match /$pattern/"; cat "$WORK/out"; exit 1; fi
  echo "ok   $what"; pass=$((pass + 1))
}
check_eq() {  # check_eq "what" expected command...: the command must succeed and print exactly expected
  local what=$1 want=$2 got; shift 2
  if got=$("$@" 2>"$WORK/err") && [ "$got" = "$want" ]; then
    echo "ok   $what"; pass=$((pass + 1))
  else
    echo "FAIL $what: got '$got', want '$want'"; sed 's/^/     /' "$WORK/err"; exit 1
  fi
}
