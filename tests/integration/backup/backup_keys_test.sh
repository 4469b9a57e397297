#!/usr/bin/env bash
# Key rotation and the key guard (docs/backup-format.md, "Rotating keys" and "Removing a key"), against
# a real PostgreSQL 15, through a directory and through s3rver:
# - two keys in --keys-dir: a backup with each, and each restores to its own contents;
# - `backup check-keys` names the key id and the retained backups that still use it (exit 3);
# - once the old key is removed, `backup` still writes its backup but exits 3 naming the key, `restore`
#   of a backup that needs it fails before creating a database, and other restores only warn.
# Usage: backup_keys_test.sh SERVICEDB_OPERATOR REPO_ROOT
set -euo pipefail
OP=$1 ROOT=$2
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/backup_test_lib.sh"
backup_test_init sdb-backup-keys
# run NAME CMD...: runs CMD with stdout and stderr in $T/NAME.out and $T/NAME.err, sets $rc.
run() { local name=$1; shift; set +e; "$@" >"$T/$name.out" 2>"$T/$name.err"; rc=$?; set -e; }
expect_rc() { [ "$rc" = "$1" ] || fail "$2: exit $rc, want $1; stderr: $(cat "$T/$3.err")"; }

pg_start
psql -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE shop" >/dev/null
psql -q -v ON_ERROR_STOP=1 -d shop -c "CREATE TABLE items (id int PRIMARY KEY, v text); INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 1000) g" >/dev/null
count() { psql -tA -d "$1" -c "SELECT count(*) FROM items"; }
mkdir -p "$T/keys" "$T/keys-after"
openssl rand -hex 32 >"$T/keys/k-old"
openssl rand -hex 32 >"$T/keys/k-new"
openssl rand -hex 32 >"$T/keys/k-unused"
cp "$T/keys/k-new" "$T/keys/k-unused" "$T/keys-after/"  # the Secret after someone removed k-old
D=(--target shop/rot --destination "dir:$T/dest")

# --- rotation: one backup with each key, each restores to its own contents
"$OP" backup "${D[@]}" --keys-dir "$T/keys" --key-id k-old --database shop --backup-id r1 >/dev/null
psql -q -d shop -c "INSERT INTO items VALUES (1001, 'after r1')" >/dev/null
"$OP" backup "${D[@]}" --keys-dir "$T/keys" --key-id k-new --database shop --backup-id r2 >/dev/null
grep -q '"keyId":"k-old"' "$T/dest/shop/rot/r1.manifest.json" && grep -q '"keyId":"k-new"' "$T/dest/shop/rot/r2.manifest.json" \
  || fail "manifests do not carry the key ids"
"$OP" restore "${D[@]}" --keys-dir "$T/keys" --backup-id r1 --into rot_r1 >/dev/null
"$OP" restore "${D[@]}" --keys-dir "$T/keys" --backup-id r2 --into rot_r2 >/dev/null
[ "$(count rot_r1)" = 1000 ] && [ "$(count rot_r2)" = 1001 ] || fail "restores: r1 $(count rot_r1) rows, r2 $(count rot_r2) rows"
ok "a backup with k-old and one with k-new each restore to their own contents (1000 and 1001 rows)"

# --- check-keys before removing a key
run ck0 "$OP" backup check-keys "${D[@]}" --keys-dir "$T/keys"
expect_rc 0 "check-keys with every key" ck0
grep -q '"keyIds":{"k-new":\["r2"\],"k-old":\["r1"\]}' "$T/ck0.out" || fail "check-keys report: $(cat "$T/ck0.out")"
run ck1 "$OP" backup check-keys "${D[@]}" --keys-dir "$T/keys" --remove-key-id k-old
expect_rc 3 "check-keys --remove-key-id k-old" ck1
grep -qx 'servicedb-operator backup check-keys: key "k-old" is still used by retained backup r1 of shop/rot; put it back into the key Secret' "$T/ck1.err" \
  || fail "check-keys message: $(cat "$T/ck1.err")"
run ck2 "$OP" backup check-keys "${D[@]}" --keys-dir "$T/keys" --remove-key-id k-unused
expect_rc 0 "check-keys --remove-key-id of an unused key" ck2
run ck3 "$OP" backup check-keys "${D[@]}" --keys-dir "$T/keys" --remove-key-id k-typo
expect_rc 2 "check-keys --remove-key-id of a key not in --keys-dir" ck3
grep -q -- '--remove-key-id: no key "k-typo"' "$T/ck3.err" || fail "usage message: $(cat "$T/ck3.err")"
ok "check-keys: removing k-old is refused by name (exit 3), removing k-unused is safe (exit 0), a typo is a usage error (exit 2)"

# --- k-old removed: the next backup is written, and the command exits 3 naming the key
run b3 "$OP" backup "${D[@]}" --keys-dir "$T/keys-after" --key-id k-new --database shop --backup-id r3
expect_rc 3 "backup after k-old was removed" b3
[ -f "$T/dest/shop/rot/r3.manifest.json" ] || fail "the backup was not written"
grep -q '"id":"r3"' "$T/b3.out" || fail "the manifest is not on stdout: $(cat "$T/b3.out")"
grep -qx 'servicedb-operator backup: key "k-old" is still used by retained backup r1 of shop/rot; put it back into the key Secret' "$T/b3.err" \
  || fail "backup message: $(cat "$T/b3.err")"
grep -q 'warning: key "k-old".*this backup is still written with key "k-new"' "$T/b3.err" || fail "no early warning: $(cat "$T/b3.err")"
ok "backup without k-old: r3 written, exit 3, \"$(tail -1 "$T/b3.err")\""

# --- restores without k-old
run rs1 "$OP" restore "${D[@]}" --keys-dir "$T/keys-after" --backup-id r1 --into rot_r1_again
expect_rc 1 "restore of r1 without its key" rs1
grep -q 'backup r1 needs key "k-old", which --keys-dir does not hold: key "k-old" is still used by retained backup r1 of shop/rot' "$T/rs1.err" \
  || fail "restore message: $(cat "$T/rs1.err")"
[ -z "$(psql -tA -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'rot_r1_again'")" ] || fail "a database was created"
run rs1v "$OP" restore "${D[@]}" --keys-dir "$T/keys-after" --backup-id r1 --verify-only
expect_rc 1 "verify-only of r1 without its key" rs1v
run rs2 "$OP" restore "${D[@]}" --keys-dir "$T/keys-after" --into rot_latest
expect_rc 0 "restore of latest (r3) without k-old" rs2
[ "$(count rot_latest)" = 1001 ] || fail "latest restored $(count rot_latest) rows"
grep -q 'restore: warning: key "k-old" is still used by retained backup r1' "$T/rs2.err" || fail "no warning: $(cat "$T/rs2.err")"
ok "restore of r1 without k-old fails by name before creating a database; restore of latest works, with a warning"

# --- the key is back: no warning, exit 0
run b4 "$OP" backup "${D[@]}" --keys-dir "$T/keys" --key-id k-new --database shop --backup-id r4
expect_rc 0 "backup with every key" b4
[ ! -s "$T/b4.err" ] || fail "unexpected stderr: $(cat "$T/b4.err")"
# An unreadable manifest: the guard cannot vouch for it, and says so.
echo '{"id":"r0"' >"$T/dest/shop/rot/r0.manifest.json"
run ck4 "$OP" backup check-keys "${D[@]}" --keys-dir "$T/keys"
expect_rc 1 "check-keys with an unreadable manifest" ck4
grep -q "cannot tell which key backup r0: manifest of r0" "$T/ck4.err" || fail "message: $(cat "$T/ck4.err")"
rm "$T/dest/shop/rot/r0.manifest.json"
ok "with the key back the backup exits 0 quietly; an unreadable manifest makes check-keys exit 1 naming it"

# --- through S3 (s3rver + rclone)
s3rver_start
S=(--target shop/rot --destination s3://sdb-backups/prod --s3-endpoint "http://127.0.0.1:$S3PORT" --s3-region us-east-1)
"$OP" backup "${S[@]}" --keys-dir "$T/keys" --key-id k-old --database shop --backup-id s1 >/dev/null
"$OP" backup "${S[@]}" --keys-dir "$T/keys" --key-id k-new --database shop --backup-id s2 >/dev/null
run sck "$OP" backup check-keys "${S[@]}" --keys-dir "$T/keys" --remove-key-id k-old
expect_rc 3 "check-keys through S3" sck
grep -q 'key "k-old" is still used by retained backup s1 of shop/rot' "$T/sck.err" || fail "S3 check-keys: $(cat "$T/sck.err")"
run sb3 "$OP" backup "${S[@]}" --keys-dir "$T/keys-after" --key-id k-new --database shop --backup-id s3
expect_rc 3 "backup through S3 without k-old" sb3
run sr2 "$OP" restore "${S[@]}" --keys-dir "$T/keys-after" --backup-id s2 --into rot_s2
expect_rc 0 "restore of s2 through S3 without k-old" sr2
[ "$(count rot_s2)" = 1001 ] || fail "s2 restored $(count rot_s2) rows"
ok "through S3: check-keys and backup name k-old and s1 (exit 3); s2 restores"
echo "$pass passed, 0 failed"
