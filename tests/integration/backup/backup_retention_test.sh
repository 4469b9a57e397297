#!/usr/bin/env bash
# Retention and the access log of the backup runner, against a real PostgreSQL 15, through a
# directory and through s3rver:
# - a simulated series of daily backups (time-stamped ids), pruned after each with
#   --keep-last/--keep-daily/--keep-weekly/--keep-monthly, keeps exactly the GFS set;
# - every write, listing and deletion has its access-log entry (one object per entry, names in time
#   order, earlier entries never rewritten), with actor, requester and result;
# - a failed backup prunes nothing; --max-age never deletes the newest good backup;
# - bad retention flags are usage errors naming the flag.
# Usage: backup_retention_test.sh SERVICEDB_OPERATOR REPO_ROOT
set -euo pipefail
OP=$1 ROOT=$2
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/backup_test_lib.sh"
backup_test_init sdb-retention

pg_start
psql -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE shop" >/dev/null
psql -q -v ON_ERROR_STOP=1 -d shop -c "CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 100)" >/dev/null
mkdir -p "$T/keys"
openssl rand -hex 32 > "$T/keys/k1"
GFS=(--keep-last 2 --keep-daily 7 --keep-weekly 4 --keep-monthly 3)

# 60 daily backups, 2026-01-01 (Thursday) to 2026-03-01 (Sunday), each pruned right after.
series() {  # DEST_ARGS...
  for i in $(seq 0 59); do
    id="$(date -u -d "2026-01-01 02:00 UTC + $i days" +%Y%m%dT%H%M%SZ)-0000000$((i % 10))"
    "$OP" backup "$@" --keys-dir "$T/keys" --database shop --backup-id "$id" --actor system:serviceaccount:shop:orders-backup \
      --requester "CronJob shop/orders-backup-nightly" "${GFS[@]}" >/dev/null 2>>"$T/series.err" || fail "backup $id: $(tail -3 "$T/series.err")"
  done
}
expected_days="20260131 20260208 20260215 20260222 20260223 20260224 20260225 20260226 20260227 20260228 20260301"

# --- through a directory
series --target shop/orders --destination "dir:$T/dest"
days=$(ls "$T/dest/shop/orders/" | grep '\.manifest\.json$' | cut -c1-8 | sort | xargs)
[ "$days" = "$expected_days" ] || fail "kept after the series: $days"
[ "$(ls "$T/dest/shop/orders/" | grep -c '\.sdbk$')" = 11 ] || fail "streams left: $(ls "$T/dest/shop/orders/")"
ok "a 60-day series pruned after each backup keeps exactly the GFS set (11 backups, streams and manifests)"

LOG="$T/dest/shop/orders/access-log"
[ "$(ls "$LOG" | grep -c -- '-written-')" = 60 ] || fail "written entries: $(ls "$LOG" | grep -c -- '-written-')"
[ "$(ls "$LOG" | grep -c -- '-deleted-')" = 49 ] || fail "deleted entries: $(ls "$LOG" | grep -c -- '-deleted-')"
[ "$(ls "$LOG" | grep -c -- '-listed-all')" = 120 ] || fail "listed entries (key guard + retention per run): $(ls "$LOG" | grep -c -- '-listed-all')"
python3 - "$LOG" <<'PY' || fail "access log entries malformed"
import json, os, sys
d = sys.argv[1]
names = sorted(os.listdir(d))
times = []
for n in names:
    text = open(os.path.join(d, n)).read()
    assert text.endswith("\n") and text.count("\n") == 1, n
    e = json.loads(text)
    for k in ("time", "action", "backupId", "target", "actor", "requester", "result"):
        assert k in e, (n, k)
    assert e["actor"] == "system:serviceaccount:shop:orders-backup", e
    assert e["requester"] == "CronJob shop/orders-backup-nightly", e
    assert e["result"] == "succeeded", e
    assert e["action"] in ("written", "listed", "deleted"), e
    if e["action"] == "deleted":
        assert e["reason"].startswith("retention: keepLast=2,keepDaily=7,keepWeekly=4,keepMonthly=3"), e
        assert e["backupId"] in n, n
    times.append(e["time"])
assert times == sorted(times), "entries out of time order"
PY
deleted_ids=$(cat "$LOG"/*-deleted-* | python3 -c 'import sys, json; print(" ".join(sorted(json.loads(l)["backupId"][:8] for l in sys.stdin)))')
echo "$deleted_ids" | grep -q 20260101 && ! echo "$deleted_ids" | grep -q 20260131 || fail "deleted: $deleted_ids"
ok "access log: 60 written, 120 listed, 49 deleted entries, one JSON line each, in time order, with actor, requester and reason"

first=$(ls "$LOG" | sed -n 1p)
before=$(sha256sum "$LOG/$first")
"$OP" restore --target shop/orders --destination "dir:$T/dest" --keys-dir "$T/keys" --verify-only --actor auditor >/dev/null
[ "$(sha256sum "$LOG/$first")" = "$before" ] || fail "an earlier entry was rewritten"
last3=$(ls "$LOG" | tail -3)
grep -q -- '-read-20260301' <<<"$last3" || fail "no read entry: $last3"
[ "$(grep -c -- '-listed-all' <<<"$last3")" = 2 ] || fail "no listed entries (key guard, latest): $last3"
ok "restore --verify-only of latest logs listed + read; earlier entries untouched"

# --- a failed backup prunes nothing
before=$(ls "$T/dest/shop/orders/" | grep -c '\.manifest\.json$')
if "$OP" backup --target shop/orders --destination "dir:$T/dest" --keys-dir "$T/keys" --database nosuchdb \
    --backup-id 20260302T020000Z-00000000 --keep-last 1 >/dev/null 2>"$T/fail.err"; then fail "backup of a missing database succeeded"; fi
[ "$(ls "$T/dest/shop/orders/" | grep -c '\.manifest\.json$')" = "$before" ] || fail "a failed backup pruned"
ok "a failed backup prunes nothing ($before backups stay)"

# --- maxAge never deletes the newest good one (all are "old" by the wall clock: 2026 ids vs now)
mkdir -p "$T/age"
for d in 01 02 03; do
  "$OP" backup --target shop/age --destination "dir:$T/age" --keys-dir "$T/keys" --database shop \
    --backup-id "201901${d}T020000Z-00000000" --max-age 1h >/dev/null 2>&1 || fail "maxAge backup $d"
done
[ "$(ls "$T/age/shop/age/" | grep '\.manifest\.json$' | xargs)" = "20190103T020000Z-00000000.manifest.json" ] \
  || fail "maxAge left: $(ls "$T/age/shop/age/")"
ok "--max-age 1h with only old backups keeps the newest one"

# --- usage errors name the flag
for bad in "--keep-last -2" "--keep-daily 1001" "--max-age 3days"; do
  # shellcheck disable=SC2086
  if "$OP" backup --target shop/x --destination "dir:$T/x" --keys-dir "$T/keys" $bad 2>"$T/usage.err"; then fail "$bad accepted"; fi
  flag=${bad%% *}
  grep -q -- "$flag" "$T/usage.err" || fail "$bad: $(cat "$T/usage.err")"
done
ok "bad retention flags are usage errors naming the flag"

# --- through S3 (s3rver + rclone): one object per entry, the same GFS result
s3rver_start
S=(--target shop/orders --destination s3://sdb-backups/prod --s3-endpoint "http://127.0.0.1:$S3PORT" --s3-region us-east-1)
GFS=(--keep-last 1 --keep-daily 2)
for day in 01 02 03 04; do
  "$OP" backup "${S[@]}" --keys-dir "$T/keys" --database shop --backup-id "202603${day}T020000Z-00000000" \
    --actor system:serviceaccount:shop:orders-backup "${GFS[@]}" >/dev/null 2>>"$T/s3.err" || fail "S3 backup $day: $(tail -3 "$T/s3.err")"
done
unset AWS_CA_BUNDLE
export RCLONE_CONFIG_S3_TYPE=s3 RCLONE_CONFIG_S3_PROVIDER=Other RCLONE_CONFIG_S3_ENV_AUTH=true \
  RCLONE_CONFIG_S3_ENDPOINT="http://127.0.0.1:$S3PORT" RCLONE_CONFIG_S3_FORCE_PATH_STYLE=true
left=$(rclone lsf s3:sdb-backups/prod/shop/orders/ --files-only | grep manifest | cut -c1-8 | xargs)
[ "$left" = "20260303 20260304" ] || fail "S3 kept: $left"
entries=$(rclone lsf s3:sdb-backups/prod/shop/orders/access-log/ --files-only)
[ "$(echo "$entries" | grep -c -- '-deleted-')" = 2 ] && [ "$(echo "$entries" | grep -c -- '-written-')" = 4 ] \
  || fail "S3 access log: $entries"
[ "$(echo "$entries" | sort)" = "$entries" ] || fail "S3 entry names do not list in time order"
ok "through S3: retention keeps 2 of 4, one object per entry (4 written, 2 deleted), listed in time order"
echo "$pass passed, 0 failed"
