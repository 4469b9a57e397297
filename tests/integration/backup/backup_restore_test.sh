#!/usr/bin/env bash
# The backup and restore runners against a real PostgreSQL 15, through a directory and through an
# S3-compatible server (s3rver from npm, driven by Debian's rclone):
# - a filled database is backed up and restored into a fresh one, with equal contents;
# - the Python decoder written from docs/backup-format.md reads the runner's stream;
# - a tampered last chunk makes the restore fail naming the chunk, and leaves no database behind;
# - every write, verify and restore appends an access-log entry.
# Usage: backup_restore_test.sh SERVICEDB_OPERATOR REPO_ROOT
set -euo pipefail
OP=$1 ROOT=$2
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/pg_fixture.sh"
T=$(mktemp -d /tmp/sdb-backup.XXXXXX)
S3PID=""
cleanup() { pg_stop; [ -n "$S3PID" ] && kill "$S3PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
pass=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
fail() { echo "FAIL $*"; exit 1; }

pg_start
psql -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE shop" >/dev/null
psql -q -v ON_ERROR_STOP=1 -d shop >/dev/null <<'SQL'
CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, note text);
CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer bigint REFERENCES customers, total numeric(10,2), placed timestamptz);
INSERT INTO customers (name, note) SELECT 'c' || g, repeat(md5(g::text), 4) FROM generate_series(1, 20000) g;
INSERT INTO orders (customer, total, placed) SELECT 1 + g % 20000, g / 7.0, '2026-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 60000) g;
CREATE INDEX orders_customer ON orders (customer);
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
grep -qE "chunk [0-9]+" "$T/err2" && ok "verify-only names the first bad chunk"

# --- access log: one entry per action, never rewritten
n=$(ls "$T/dest/shop/orders/access-log/" | wc -l)
ls "$T/dest/shop/orders/access-log/" | grep -q -- "-write-b1.json" && ls "$T/dest/shop/orders/access-log/" | grep -q -- "-restore-b1.json" \
  && ls "$T/dest/shop/orders/access-log/" | grep -q -- "-verify-b1.json" || fail "access log incomplete: $(ls "$T/dest/shop/orders/access-log/")"
grep -h '"actor":"test"' "$T/dest/shop/orders/access-log/"*-write-* >/dev/null || fail "actor missing"
ok "access log has $n entries (write, verify, restore) with actor and result"

# --- wrong key: refused with a clear error
mkdir -p "$T/wrongkeys"; openssl rand -hex 32 > "$T/wrongkeys/key-2026"
if "$OP" restore --target shop/orders --destination "dir:$T/dest" --keys-dir "$T/wrongkeys" --verify-only 2>"$T/err3"; then fail "wrong key accepted"; fi
grep -q 'does not unwrap with key "key-2026"' "$T/err3" && ok "a wrong key is refused by name"

# --- through S3 (s3rver + rclone)
S3BIN="$ROOT/tools/s3rver/node_modules/.bin/s3rver"
if [ ! -x "$S3BIN" ]; then fail "s3rver not installed (scripts/setup installs it in tools/s3rver)"; fi
S3PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$S3BIN" -d "$T/s3" -p "$S3PORT" -a 127.0.0.1 --configure-bucket sdb-backups --silent >"$T/s3.log" 2>&1 &
S3PID=$!
for _ in $(seq 1 50); do curl -s "http://127.0.0.1:$S3PORT" >/dev/null && break; sleep 0.2; done
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
"$OP" backup --target shop/orders --destination s3://sdb-backups/prod --s3-endpoint "http://127.0.0.1:$S3PORT" \
  --s3-region us-east-1 --keys-dir "$T/keys" --database shop --backup-id s1 >/dev/null
"$OP" restore --target shop/orders --destination s3://sdb-backups/prod --s3-endpoint "http://127.0.0.1:$S3PORT" \
  --s3-region us-east-1 --keys-dir "$T/keys" --into shop_from_s3 >/dev/null
[ "$(fingerprint shop_from_s3)" = "$want" ] || fail "contents restored from S3 differ"
ok "backup to and restore from S3-compatible storage (s3rver) through rclone, contents equal"
echo "$pass passed, 0 failed"
