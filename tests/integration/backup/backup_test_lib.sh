# Shared by the backup integration tests (bash, set -euo pipefail). Source it with OP and ROOT set;
# it sources pg_fixture.sh. backup_test_init makes the work directory $T, and on exit stops the
# PostgreSQL fixture and s3rver and removes $T. ok counts passed checks in $pass; fail stops the test.
source "$(dirname "${BASH_SOURCE[0]}")/pg_fixture.sh"

# backup_test_init NAME: $T is a fresh /tmp/NAME.XXXXXX.
backup_test_init() {
  T=$(mktemp -d "/tmp/$1.XXXXXX")
  S3PID=""
  pass=0
  trap backup_test_cleanup EXIT
}
backup_test_cleanup() { pg_stop; [ -n "$S3PID" ] && kill "$S3PID" 2>/dev/null; rm -rf "$T"; }
ok() { echo "ok   $*"; pass=$((pass + 1)); }
fail() { echo "FAIL $*"; exit 1; }
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# s3rver_start: s3rver (tools/s3rver) over http on 127.0.0.1:$S3PORT, data in $T/s3, log in $T/s3.log,
# with the bucket sdb-backups; sets S3BIN, S3PORT, S3PID and exports its credentials for rclone.
s3rver_start() {
  S3BIN="$ROOT/tools/s3rver/node_modules/.bin/s3rver"
  [ -x "$S3BIN" ] || fail "s3rver not installed (scripts/setup installs it in tools/s3rver)"
  S3PORT=$(free_port)
  "$S3BIN" -d "$T/s3" -p "$S3PORT" -a 127.0.0.1 --configure-bucket sdb-backups --silent >"$T/s3.log" 2>&1 &
  S3PID=$!
  for _ in $(seq 1 50); do curl -s "http://127.0.0.1:$S3PORT" >/dev/null && break; sleep 0.2; done
  export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
}
