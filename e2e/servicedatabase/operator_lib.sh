# Shared by the ServiceDatabase e2e suites (source after e2e/tests/lib.sh): the operator and the
# PostgreSQL fixture they start (OP_PID, PG_PID) are stopped on exit, then the local cluster.
OP_PID="" PG_PID=""
finish() {
  [ -n "$OP_PID" ] && kill -KILL "$OP_PID" 2>/dev/null
  if [ -n "$PG_PID" ]; then kill -TERM "$PG_PID" 2>/dev/null; wait "$PG_PID" 2>/dev/null || true; fi
  cleanup
}
trap finish EXIT
wait_for() {  # wait_for SECONDS command...
  local until=$((SECONDS + $1)); shift
  while ! "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $until ] || { echo "timed out waiting for: $*"; return 1; }
    sleep 0.2
  done
}
