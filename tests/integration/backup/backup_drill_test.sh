#!/usr/bin/env bash
# Restore drills (`servicedb-operator restore --drill`, what a BackupPolicy's spec.verify runs) against
# a real PostgreSQL 15:
# - a drill restores the latest backup into a throwaway database owned by the query login, compares
#   the tables of contents, runs the query as that login, drops the database, and prints its summary;
#   the access log has the restore, naming the requester;
# - the query must return a row, is one statement only, and runs read-only; each failure is reported
#   and leaves no throwaway database;
# - a tampered backup fails the drill naming the chunk, with nothing left behind;
# - a throwaway database left by a killed drill of the same target is dropped by the next drill;
#   another target's, and an unmarked database of the same name pattern, are left alone;
# - usage errors (--drill with --into, another engine, --query without --drill) exit 2.
# Usage: backup_drill_test.sh SERVICEDB_OPERATOR REPO_ROOT
set -euo pipefail
OP=$1 ROOT=$2
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/backup_test_lib.sh"
backup_test_init sdb-drill

pg_start
psql -q -v ON_ERROR_STOP=1 -d postgres >/dev/null <<'SQL'
CREATE DATABASE shop_orders;
CREATE ROLE shop_orders_migrator LOGIN PASSWORD 'migrator-secret';
CREATE ROLE shop_orders_owner NOLOGIN;
-- as the engine makes them: the migration login acts as the owner role
GRANT shop_orders_owner TO shop_orders_migrator;
ALTER ROLE shop_orders_migrator SET role = shop_orders_owner;
SQL
psql -q -v ON_ERROR_STOP=1 -d shop_orders >/dev/null <<'SQL'
-- as the engine leaves it: schema public belongs to the owner role (so the backup lists it)
ALTER SCHEMA public OWNER TO shop_orders_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA billing;
CREATE TABLE billing.invoices (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, amount_cents bigint NOT NULL);
INSERT INTO billing.invoices (amount_cents) SELECT g FROM generate_series(1, 500) g;
CREATE VIEW invoice_total AS SELECT sum(amount_cents) AS total FROM billing.invoices;
CREATE MATERIALIZED VIEW invoice_count AS SELECT count(*) AS n FROM billing.invoices;
CREATE INDEX invoices_amount ON billing.invoices (amount_cents);
COMMENT ON TABLE billing.invoices IS 'what customers owe';
SQL
mkdir -p "$T/keys"
openssl rand -hex 32 >"$T/keys/k1"
common=(--target shop/orders --destination "dir:$T/dest" --keys-dir "$T/keys")
"$OP" backup "${common[@]}" --database shop_orders --backup-id b1 --actor test >/dev/null
drills() { psql -tA -d postgres -c "SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database WHERE datname LIKE 'servicedb_drill_%'"; }

# --- a passing drill, with the query login
export SERVICEDB_QUERY_PGUSER=shop_orders_migrator SERVICEDB_QUERY_PGPASSWORD=migrator-secret
out=$("$OP" restore --drill "${common[@]}" --requester "BackupPolicy shop/nightly restore drill" \
  --query "SELECT n FROM invoice_count WHERE n = 500 AND session_user = 'shop_orders_migrator' AND current_user = 'shop_orders_owner'" 2>"$T/err") \
  || fail "drill failed: $(cat "$T/err")"
echo "$out" | jq -e '.drill == "passed" and .backupId == "b1" and .queryRows == 1 and .tocEntries > 8' >/dev/null \
  || fail "unexpected summary: $out"
db=$(echo "$out" | jq -r .database)
[[ "$db" =~ ^servicedb_drill_[0-9a-f]{8}$ ]] || fail "throwaway name: $db"
[ -z "$(drills)" ] || fail "throwaway database left behind: $(drills)"
ok "drill passed: $(echo "$out" | jq -c '{tocEntries, queryRows, bytes}'), the query ran as the migration login acting as the owner role, $db dropped"
grep -h '"action":"restored"' "$T/dest/shop/orders/access-log/"* | jq -e 'select(.backupId == "b1" and .result == "succeeded" and .requester == "BackupPolicy shop/nightly restore drill")' >/dev/null \
  || fail "no restored entry naming the requester in the access log"
ok "the access log has the drill's restore, with the requester"

# --- the query must succeed with a row, alone, read-only
expect_drill_failure() {  # WHAT PATTERN QUERY
  if "$OP" restore --drill "${common[@]}" --query "$3" >/dev/null 2>"$T/err"; then fail "$1: the drill passed"; fi
  grep -q "$2" "$T/err" || fail "$1: unexpected error: $(cat "$T/err")"
  [ -z "$(drills)" ] || fail "$1: throwaway database left behind: $(drills)"
  ok "$1: $(grep -o "$2.*" "$T/err" | head -c 120)"
}
expect_drill_failure "a query returning no row fails the drill" "returned no row" "SELECT 1 FROM billing.invoices WHERE amount_cents > 500"
expect_drill_failure "a failing query fails the drill" "spec.verify.query failed" "SELECT * FROM no_such_table"
expect_drill_failure "a second statement is refused" "cannot insert multiple commands" "SELECT 1; DROP TABLE billing.invoices"
expect_drill_failure "the query runs read-only" "read-only transaction" "INSERT INTO billing.invoices (amount_cents) VALUES (1) RETURNING id"
[ "$(psql -tA -d shop_orders -c 'SELECT count(*) FROM billing.invoices')" = 500 ] || fail "the live database changed"
ok "the live database is untouched (500 rows)"

# --- a tampered backup
cp -r "$T/dest/shop/orders" "$T/dest/shop/tampered"
sz=$(stat -c %s "$T/dest/shop/tampered/b1.sdbk")
printf '\x01' | dd of="$T/dest/shop/tampered/b1.sdbk" bs=1 seek=$((sz / 2)) conv=notrunc status=none
if "$OP" restore --drill --target shop/tampered --destination "dir:$T/dest" --keys-dir "$T/keys" >/dev/null 2>"$T/err"; then
  fail "a drill of a tampered backup passed"
fi
grep -qE "chunk [0-9]+: authentication failed" "$T/err" || fail "the drill's error does not name the chunk: $(cat "$T/err")"
[ -z "$(drills)" ] || fail "throwaway database left after the tampered drill: $(drills)"
ok "tampered backup: the drill fails ($(grep -oE 'chunk [0-9]+: authentication failed' "$T/err")), nothing left behind"

# --- leftovers of a killed drill
psql -q -v ON_ERROR_STOP=1 -d postgres >/dev/null <<'SQL'
CREATE DATABASE servicedb_drill_0000dead;
COMMENT ON DATABASE servicedb_drill_0000dead IS 'servicedb-operator restore drill of shop/orders';
CREATE DATABASE servicedb_drill_0000beef;
COMMENT ON DATABASE servicedb_drill_0000beef IS 'servicedb-operator restore drill of shop/other';
CREATE DATABASE servicedb_drill_0000cafe;
SQL
"$OP" restore --drill "${common[@]}" >/dev/null 2>"$T/err" || fail "drill failed: $(cat "$T/err")"
grep -q "dropping servicedb_drill_0000dead, left by an earlier drill" "$T/err" || fail "no notice of the dropped leftover: $(cat "$T/err")"
[ "$(drills)" = "servicedb_drill_0000beef,servicedb_drill_0000cafe" ] || fail "leftovers: $(drills)"
ok "a killed drill's database is dropped by the next drill of the same target; others are left alone"

# --- usage
for args in "--drill --into x" "--drill --engine redis" "--query x --into y" "--drill --verify-only"; do
  set +e
  # shellcheck disable=SC2086
  "$OP" restore "${common[@]}" $args >/dev/null 2>"$T/err"
  code=$?
  set -e
  [ "$code" = 2 ] || fail "restore $args exited $code, want 2: $(cat "$T/err")"
done
ok "usage errors exit 2"
[ -z "$(grep -rl migrator-secret "$T/err" "$T/dest" 2>/dev/null)" ] || fail "the query login's password leaked"
echo "PASS backup_drill_postgres: $pass checks"
