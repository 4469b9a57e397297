#!/usr/bin/env bash
# Backup benchmarks, side by side in one run (issue: encrypted backup streams). Prints target,
# measured value and PASS or MISS for:
#  1. encryption throughput on a 1 GiB stream through a pipe, vs age, gpg --symmetric and restic --stdin;
#  2. the wall-time overhead of an encrypted backup over plain pg_dump -Fc of the same database;
#  3. the runner's peak RSS for 100 MiB and 1 GiB dumps (flat = independent of the dump size).
# Usage: bench/backup/run.sh [BUILD_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"; root="$(cd "$here/../.." && pwd)"
build=${1:-$root/build}
cmake --build "$build" --target backup_bench servicedb-operator >/dev/null
BENCH=$build/bin/backup_bench OP=$build/bin/servicedb-operator
T=$(mktemp -d /tmp/sdb-bb.XXXXXX)
source "$root/tests/integration/backup/pg_fixture.sh"
trap 'pg_stop; rm -rf "$T"' EXIT
secs() { local t0 t1; t0=$(date +%s.%N); "$@"; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
verdict() { if [ "$(echo "$1" | bc -l)" = 1 ]; then echo PASS; else echo MISS; fi; }

head -c 1G /dev/urandom > "$T/plain"
cat "$T/plain" > /dev/null  # warm the page cache
gib=1.073741824
ours=$(secs bash -c "'$BENCH' encrypt-stdin < '$T/plain' > /dev/null")
cat_t=$(secs bash -c "cat '$T/plain' | cat > /dev/null")
age-keygen -o "$T/age.key" 2>/dev/null; recipient=$(age-keygen -y "$T/age.key")
age_t=$(secs bash -c "age -r '$recipient' < '$T/plain' > /dev/null")
gpg_t=$(secs bash -c "gpg --batch --yes --passphrase bench --pinentry-mode loopback --symmetric --cipher-algo AES256 --compress-algo none -o - < '$T/plain' > /dev/null 2>&1")
export RESTIC_PASSWORD=bench
restic init --repo "$T/restic" >/dev/null 2>&1
restic_t=$(secs bash -c "restic --repo '$T/restic' backup --stdin --stdin-filename plain < '$T/plain' > /dev/null 2>&1")
ours_gbs=$(echo "$gib / $ours" | bc -l)
printf 'BENCH backup_encrypt_1GiB target=>=2.0 GB/s and faster than age, gpg, restic measured=%.2f GB/s (%.2f s; pipe alone %.2f s; age %.2f s, gpg %.2f s, restic %.2f s) %s\n' \
  "$ours_gbs" "$ours" "$cat_t" "$age_t" "$gpg_t" "$restic_t" \
  "$(verdict "$ours_gbs >= 2.0 && $ours < $age_t && $ours < $gpg_t && $ours < $restic_t")"

pg_start
psql -q -d postgres -c "CREATE DATABASE big" >/dev/null
psql -q -d big -c "CREATE TABLE t AS SELECT g AS id, md5(g::text) || repeat('x', 200) AS payload FROM generate_series(1, 1500000) g" >/dev/null
mkdir -p "$T/keys"; openssl rand -hex 32 > "$T/keys/k1"
plain_runs=() enc_runs=()
for i in 1 2 3; do
  plain_runs+=("$(secs bash -c "pg_dump -Fc --no-owner --no-privileges big > '$T/plain.dump'")")
  enc_runs+=("$(secs bash -c "'$OP' backup --target bench/big --destination 'dir:$T/dest$i' --keys-dir '$T/keys' --database big >/dev/null")")
done
best() { printf '%s\n' "$@" | sort -n | head -1; }
p=$(best "${plain_runs[@]}") e=$(best "${enc_runs[@]}")
overhead=$(echo "($e - $p) / $p * 100" | bc -l)
printf 'BENCH backup_overhead_vs_pg_dump target=<=5%% measured=%.1f%% (best of 3: pg_dump -Fc %.2f s, encrypted backup %.2f s, dump %s) %s\n' \
  "$overhead" "$p" "$e" "$(du -h "$T/plain.dump" | cut -f1)" "$(verdict "$overhead <= 5")"

r100=$("$BENCH" runner-rss 100) r1g=$("$BENCH" runner-rss 1024)
printf 'BENCH backup_runner_peak_rss target=flat (1 GiB within 10%% of 100 MiB) measured=100 MiB: %d KiB, 1 GiB: %d KiB %s\n' \
  "$r100" "$r1g" "$(verdict "$r1g <= $r100 * 1.1")"
