#!/usr/bin/env bash
# The backup and restore runners against a real PostgreSQL 15, through a directory and through an
# S3-compatible server (s3rver from npm, driven by Debian's rclone):
# - a filled database is backed up and restored into a fresh one, with equal contents;
# - the Python decoder written from docs/backup-format.md reads the runner's stream;
# - a tampered last chunk makes the restore fail naming the chunk, and leaves no database behind;
# - every write, verify (read) and restore appends an access-log entry;
# - after a restore with --owner and --app-role, the app login reads and writes the data (and can do
#   no more), and without --app-role it could not;
# - a pg_dump whose major version differs from the server's is refused before anything is written;
# - S3 over https with a private CA, given as --s3-ca-cert or as $AWS_CA_BUNDLE.
# Usage: backup_restore_test.sh SERVICEDB_OPERATOR REPO_ROOT
set -euo pipefail
OP=$1 ROOT=$2
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/backup_test_lib.sh"
backup_test_init sdb-backup

pg_start
psql -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE shop" >/dev/null
psql -q -v ON_ERROR_STOP=1 -d shop >/dev/null <<'SQL'
CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, note text);
CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer bigint REFERENCES customers, total numeric(10,2), placed timestamptz);
INSERT INTO customers (name, note) SELECT 'c' || g, repeat(md5(g::text), 4) FROM generate_series(1, 20000) g;
INSERT INTO orders (customer, total, placed) SELECT 1 + g % 20000, g / 7.0, '2026-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 60000) g;
CREATE INDEX orders_customer ON orders (customer);
CREATE SCHEMA billing;
CREATE TABLE billing.invoices (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, amount_cents bigint NOT NULL);
INSERT INTO billing.invoices (amount_cents) SELECT g FROM generate_series(1, 10) g;
SQL
fingerprint() {
  psql -tA -d "$1" -c "SELECT (SELECT count(*) || ':' || md5(string_agg(c::text, ',' ORDER BY id)) FROM customers c) || '|' ||
                              (SELECT count(*) || ':' || md5(string_agg(o::text, ',' ORDER BY id)) FROM orders o)"
}
want=$(fingerprint shop)
mkdir -p "$T/keys"
key=$(openssl rand -hex 32)
echo "$key" > "$T/keys/key-2026"

# --- through a directory
"$OP" backup --target shop/orders --destination "dir:$T/dest" --keys-dir "$T/keys" --database shop --backup-id b1 --actor test >"$T/manifest.out"
[ -f "$T/dest/shop/orders/b1.sdbk" ] && [ -f "$T/dest/shop/orders/b1.manifest.json" ] || fail "backup files missing"
grep -q '"engineVersion":"15"' "$T/manifest.out" || fail "manifest lacks the engine version: $(cat "$T/manifest.out")"
ok "backup to a directory ($(stat -c %s "$T/dest/shop/orders/b1.sdbk") bytes encrypted)"
if grep -qa "repeat\|customers" "$T/dest/shop/orders/b1.sdbk"; then fail "plaintext visible in the stream"; fi
ok "no plaintext in the stream"

/usr/bin/python3 "$ROOT/tests/tool/backup_decoder/decode.py" --key-id key-2026 --key-hex "$key" \
  --manifest "$T/dest/shop/orders/b1.manifest.json" --out "$T/decoded.dump" "$T/dest/shop/orders/b1.sdbk" >/dev/null
pg_restore --list "$T/decoded.dump" | grep -q "TABLE public orders" || fail "decoded dump is not a pg_dump archive"
ok "the independent Python decoder reads the runner's backup, and pg_restore lists it"

"$OP" restore --target shop/orders --destination "dir:$T/dest" --keys-dir "$T/keys" --verify-only >/dev/null
ok "restore --verify-only authenticates the backup"

"$OP" restore --target shop/orders --destination "dir:$T/dest" --keys-dir "$T/keys" --backup-id latest --into shop_restored >/dev/null
[ "$(fingerprint shop_restored)" = "$want" ] || fail "restored contents differ"
ok "restore of latest into a fresh database: contents equal ($want)"

# --- the service's app login can read and write what a restore brought back
psql -q -v ON_ERROR_STOP=1 -d postgres >/dev/null <<'SQL'
CREATE ROLE shop_orders_owner NOLOGIN;
CREATE ROLE shop_orders_app LOGIN;
CREATE ROLE shop_other_app LOGIN;
SQL
"$OP" restore --target shop/orders --destination "dir:$T/dest" --keys-dir "$T/keys" --backup-id b1 --into shop_app \
  --owner shop_orders_owner --app-role shop_orders_app >/dev/null
as_app() { psql -X -q -tA -v ON_ERROR_STOP=1 -U shop_orders_app -d "$1" -c "$2"; }
[ "$(fingerprint shop_app)" = "$want" ] || fail "contents restored with --app-role differ"
[ "$(as_app shop_app 'SELECT count(*) FROM customers')" = 20000 ] || fail "the app login cannot read the restored data"
added=$(as_app shop_app "INSERT INTO customers (name) VALUES ('added by the app') RETURNING id") || fail "the app login cannot insert"
as_app shop_app "INSERT INTO orders (customer, total, placed) VALUES ($added, 9.99, now())" || fail "the app login cannot insert into orders"
as_app shop_app "UPDATE orders SET total = 10 WHERE customer = $added" || fail "the app login cannot update"
as_app shop_app "DELETE FROM orders WHERE customer = $added" || fail "the app login cannot delete"
[ "$(as_app shop_app "SELECT name FROM customers WHERE id = $added")" = "added by the app" ] || fail "the app's row is not there"
as_app shop_app "INSERT INTO billing.invoices (amount_cents) VALUES (11)" >/dev/null || fail "the app login cannot insert into a restored schema other than public"
[ "$(as_app shop_app "SELECT count(*) FROM billing.invoices")" = 11 ] || fail "the app login cannot read a restored schema other than public"
if as_app shop_app "CREATE TABLE billing.app_made (x int)" 2>/dev/null; then fail "the app login could create a table in billing"; fi
[ "$(psql -tA -d shop_app -c "SELECT string_agg(DISTINCT tableowner, ',') FROM pg_tables WHERE schemaname = 'public'")" = shop_orders_owner ] \
  || fail "restored tables are not owned by the owner role"
if as_app shop_app "CREATE TABLE app_made (x int)" 2>"$T/err5"; then fail "the app login could create a table"; fi
grep -q "permission denied for schema public" "$T/err5" || fail "unexpected error for CREATE as the app: $(cat "$T/err5")"
if psql -X -tA -U shop_other_app -d shop_app -c "SELECT 1" >/dev/null 2>"$T/err6"; then fail "another tenant's login could connect"; fi
grep -q "permission denied for database" "$T/err6" || fail "unexpected error for another login: $(cat "$T/err6")"
ok "after restore --owner --app-role the app login reads, inserts, updates and deletes (also in a schema besides public); it cannot CREATE, and other logins cannot connect"
"$OP" restore --target shop/orders --destination "dir:$T/dest" --keys-dir "$T/keys" --backup-id b1 --into shop_noapp \
  --owner shop_orders_owner >/dev/null
if as_app shop_noapp "SELECT count(*) FROM customers" >/dev/null 2>"$T/err7"; then fail "the app could read without --app-role (the test proves nothing)"; fi
grep -q "permission denied for table customers" "$T/err7" || fail "unexpected error without --app-role: $(cat "$T/err7")"
set +e
"$OP" restore --target shop/orders --destination "dir:$T/dest" --keys-dir "$T/keys" --into shop_x --app-role shop_orders_app 2>"$T/err8"
rc=$?
set -e
[ "$rc" = 2 ] && grep -q -- "--app-role needs --owner" "$T/err8" || fail "--app-role without --owner: rc $rc, $(cat "$T/err8")"
ok "without --app-role the app has no privileges; --app-role without --owner is a usage error"

# --- a pg_dump of another major version is refused before anything is written
mkdir -p "$T/shim"
cat >"$T/shim/pg_dump" <<'SH'
#!/bin/sh
if [ "$1" = "--version" ]; then echo "pg_dump (PostgreSQL) 14.0"; exit 0; fi
echo "the version shim was asked to dump" >&2; exit 99
SH
chmod +x "$T/shim/pg_dump"
set +e
PATH="$T/shim:$PATH" "$OP" backup --target shop/orders --destination "dir:$T/dest" --keys-dir "$T/keys" --database shop \
  --backup-id old-client >/dev/null 2>"$T/err9"
rc=$?
set -e
[ "$rc" = 1 ] || fail "a pg_dump 14 against PostgreSQL 15: exit $rc, want 1 ($(cat "$T/err9"))"
grep -q "pg_dump 14 does not match the server's PostgreSQL 15; use a matching client image" "$T/err9" \
  || fail "unclear version error: $(cat "$T/err9")"
! grep -q "asked to dump" "$T/err9" || fail "the mismatched pg_dump was run"
[ -z "$(ls "$T/dest/shop/orders/" | grep old-client)" ] || fail "a backup was written with a mismatched pg_dump"
ok "pg_dump 14 against PostgreSQL 15 refused: $(cat "$T/err9")"

# --- a tampered last chunk: the restore fails naming the chunk, and the target does not survive
cp -r "$T/dest/shop/orders" "$T/dest/shop/tampered"
sz=$(stat -c %s "$T/dest/shop/tampered/b1.sdbk")
printf '\x01' | dd of="$T/dest/shop/tampered/b1.sdbk" bs=1 seek=$((sz - 20)) conv=notrunc status=none
if "$OP" restore --target shop/tampered --destination "dir:$T/dest" --keys-dir "$T/keys" --into shop_tampered 2>"$T/err"; then
  fail "a tampered backup was restored"
fi
grep -qE "chunk [0-9]+: authentication failed" "$T/err" || fail "the error does not name the chunk: $(cat "$T/err")"
[ -z "$(psql -tA -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'shop_tampered'")" ] || fail "shop_tampered exists after a failed restore"
ok "tampered last chunk refused ($(grep -oE 'chunk [0-9]+: authentication failed' "$T/err")), no database left behind"
if "$OP" restore --target shop/tampered --destination "dir:$T/dest" --keys-dir "$T/keys" --verify-only 2>"$T/err2"; then fail "verify-only accepted a tampered backup"; fi
grep -qE "chunk [0-9]+: authentication failed" "$T/err2" || fail "verify-only does not name the bad chunk: $(cat "$T/err2")"
ok "verify-only names the first bad chunk"

# --- access log: one entry per action, never rewritten
n=$(ls "$T/dest/shop/orders/access-log/" | wc -l)
ls "$T/dest/shop/orders/access-log/" | grep -q -- "-written-b1.json" && ls "$T/dest/shop/orders/access-log/" | grep -q -- "-restored-b1.json" \
  && ls "$T/dest/shop/orders/access-log/" | grep -q -- "-read-b1.json" || fail "access log incomplete: $(ls "$T/dest/shop/orders/access-log/")"
grep -h '"actor":"test"' "$T/dest/shop/orders/access-log/"*-written-* >/dev/null || fail "actor missing"
ok "access log has $n entries (written, read, restored) with actor and result"

# --- wrong key: refused with a clear error
mkdir -p "$T/wrongkeys"; openssl rand -hex 32 > "$T/wrongkeys/key-2026"
if "$OP" restore --target shop/orders --destination "dir:$T/dest" --keys-dir "$T/wrongkeys" --verify-only 2>"$T/err3"; then fail "wrong key accepted"; fi
grep -q 'does not unwrap with key "key-2026"' "$T/err3" || fail "a wrong key is not refused by name: $(cat "$T/err3")"
ok "a wrong key is refused by name"

# --- through S3 (s3rver + rclone)
s3rver_start
# Set as on these machines: rclone fails every request with it (LoadCustomCABundleError), so the
# runner must keep it from rclone.
export AWS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
"$OP" backup --target shop/orders --destination s3://sdb-backups/prod --s3-endpoint "http://127.0.0.1:$S3PORT" \
  --s3-region us-east-1 --keys-dir "$T/keys" --database shop --backup-id s1 >/dev/null
"$OP" restore --target shop/orders --destination s3://sdb-backups/prod --s3-endpoint "http://127.0.0.1:$S3PORT" \
  --s3-region us-east-1 --keys-dir "$T/keys" --into shop_from_s3 >/dev/null
[ "$(fingerprint shop_from_s3)" = "$want" ] || fail "contents restored from S3 differ"
ok "backup to and restore from S3-compatible storage (s3rver) through rclone, contents equal"

# --- S3 over https, with a certificate from a private CA
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" -out "$T/ca.pem" -days 1 -subj /CN=sdb-test-ca 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$T/srv.key" -out "$T/srv.csr" -subj /CN=127.0.0.1 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$T/srv.ext"
openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -out "$T/srv.pem" -days 1 \
  -extfile "$T/srv.ext" 2>/dev/null
kill "$S3PID" 2>/dev/null; wait "$S3PID" 2>/dev/null || true
S3PORT=$(free_port)
"$S3BIN" -d "$T/s3tls" -p "$S3PORT" -a 127.0.0.1 --key "$T/srv.key" --cert "$T/srv.pem" --configure-bucket sdb-backups \
  --silent >"$T/s3tls.log" 2>&1 &
S3PID=$!
for _ in $(seq 1 50); do curl -s --cacert "$T/ca.pem" "https://127.0.0.1:$S3PORT" >/dev/null && break; sleep 0.2; done
TLS=(--destination s3://sdb-backups/tls --s3-endpoint "https://127.0.0.1:$S3PORT" --s3-region us-east-1)
"$OP" backup --target shop/orders "${TLS[@]}" --s3-ca-cert "$T/ca.pem" --keys-dir "$T/keys" --database shop --backup-id t1 >/dev/null \
  || fail "backup over https with --s3-ca-cert failed"
AWS_CA_BUNDLE="$T/ca.pem" "$OP" restore --target shop/orders "${TLS[@]}" --keys-dir "$T/keys" --backup-id t1 --into shop_from_tls \
  >/dev/null || fail "restore over https with AWS_CA_BUNDLE naming the private CA failed"
[ "$(fingerprint shop_from_tls)" = "$want" ] || fail "contents restored over https differ"
# rclone retries even a certificate error (3 x 10 attempts, about 2 minutes here): once is enough.
if RCLONE_RETRIES=1 RCLONE_LOW_LEVEL_RETRIES=1 "$OP" backup --target shop/orders "${TLS[@]}" --keys-dir "$T/keys" \
  --database shop --backup-id t2 >/dev/null 2>"$T/err10"; then
  fail "a backup over https succeeded without the private CA (is the certificate checked at all?)"
fi
grep -q "x509: certificate signed by unknown authority" "$T/err10" || fail "unexpected error without the private CA: $(cat "$T/err10")"
set +e
"$OP" backup --target shop/orders "${TLS[@]}" --s3-ca-cert "$T/missing.pem" --keys-dir "$T/keys" --database shop 2>"$T/err11"
rc=$?
set -e
[ "$rc" = 2 ] && grep -q -- "--s3-ca-cert: cannot read" "$T/err11" || fail "a missing --s3-ca-cert: rc $rc, $(cat "$T/err11")"
ok "S3 over https with a private CA: --s3-ca-cert and \$AWS_CA_BUNDLE work, the system roots alone are refused"
echo "$pass passed, 0 failed"
