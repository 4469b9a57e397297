#!/usr/bin/env bash
# ServiceDatabase benchmark (issue 8): N (default 1,000) shared-mode PostgreSQL ServiceDatabases
# against one real PostgreSQL 15 (TLS, scram), with the real `servicedb-operator run` against the
# local cluster over HTTPS. Prints target, measured value and PASS or MISS for:
#  1. apply → all Ready, as a ratio to the floor measured in the same run. The floor is kubectl
#     apply --server-side of the same children (2N credentials Secrets of the same shape) plus the
#     same SQL run directly (servicedatabase_floor_sql: the engine's planned statements for fresh
#     databases, no observation, on the operator's 4 workers), measured before and after the
#     operator's run and averaged, since the load of a shared machine drifts. Each SQL floor, and
#     the operator, gets a fresh PostgreSQL server: CREATE DATABASE slows as databases accumulate,
#     and a shared server would make each phase pay for the ones before it. The operator runs
#     with its production defaults (resync 10 min, engine recheck 5 min). Target: <= 1.5x;
#  2. API writes per ServiceDatabase, counted from the local cluster's request log (everything but
#     GETs, Lease renewals and kubectl's own creates of the ServiceDatabases). Target: <= children + 2;
#  3. writes in a steady state, to the API and to PostgreSQL (log_statement=mod lines): the operator
#     is restarted with the informer resync set to 20 s and the engine recheck interval to 10 s;
#     its first pass over all N (every one re-observes the server: a new process has no record of
#     earlier checks) and the minute after it both count. In the minute, resyncs re-observe the
#     server too (with the default interval of 5 minutes, every resync in the minute would skip the
#     server and only the API side would be measured). 10 s is below the resync period, as the
#     defaults are (5m < 10m). These short periods are for this phase only: during the apply phase
#     they would re-observe every Ready database every 20 s, a load production never sees. Target: 0;
#  4. operator peak RSS (VmHWM), the larger of the two processes. Target: <= 30 MiB.
# Usage: bench/servicedatabase/run.sh [N] [BUILD_DIR]   (SDB_BENCH_FLOOR_ONLY=1 measures the floor alone)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"; root="$(cd "$here/../.." && pwd)"
N=${1:-1000}
build=${2:-$root/build}
cmake --build "$build" --target servicedb-operator servicedb-localcluster sdb-test-postgres servicedatabase_floor_sql >/dev/null
bin=$build/bin
W=$(mktemp -d /tmp/sdb-bench-sdb.XXXXXX)
export KUBECACHEDIR="$W/kubecache"
PG_PID="" LC_PID="" OP_PID=""
finish() {
  [ -n "$OP_PID" ] && kill -TERM "$OP_PID" 2>/dev/null && wait "$OP_PID" 2>/dev/null
  [ -n "$LC_PID" ] && kill -TERM "$LC_PID" 2>/dev/null && wait "$LC_PID" 2>/dev/null
  [ -n "$PG_PID" ] && kill -TERM "$PG_PID" 2>/dev/null && wait "$PG_PID" 2>/dev/null
  rm -rf "$W"
}
trap finish EXIT
now() { date +%s.%N; }
verdict() { if [ "$(echo "$1" | bc -l)" = 1 ]; then echo PASS; else echo MISS; fi; }
wait_file() { for _ in $(seq 1 300); do [ -f "$1" ] && return 0; sleep 0.1; done; echo "no $1"; return 1; }

"$bin/sdb-test-postgres" --env-file "$W/pg.env" >"$W/pg.out" 2>&1 & PG_PID=$!
wait_file "$W/pg.env"; source "$W/pg.env"; export PGFX_ADMIN_PASSWORD
"$bin/servicedb-localcluster" --data-dir "$W/lc" --port 0 >"$W/lc.log" 2>&1 & LC_PID=$!
wait_file "$W/lc/kubeconfig"; export KUBECONFIG="$W/lc/kubeconfig"
kubectl apply -f "$root/crds/" >/dev/null
kubectl wait --for=condition=Established crd --all --timeout=30s >/dev/null
# kubectl create sends protobuf for built-in kinds, which the local cluster does not read: render, apply.
for ns in servicedb-system floor bench; do kubectl create namespace "$ns" --dry-run=client -o yaml | kubectl apply -f - >/dev/null; done
kubectl -n bench create secret generic pg-admin --dry-run=client -o yaml --from-literal=host="$PGFX_HOST" \
  --from-literal=port="$PGFX_PORT" --from-literal=username="$PGFX_ADMIN_USER" \
  --from-literal=password="$PGFX_ADMIN_PASSWORD" --from-literal=sslmode=verify-full --from-file=ca.crt="$PGFX_CA" |
  kubectl apply -f - >/dev/null

# --- the floor: the same children with kubectl, the same SQL directly --------------------------
# (Same keys, sizes and labels as the operator's Secrets, except the managed-by label, so the
# operator's Secret cache, which selects on it, does not hold the floor's Secrets.)
ca_b64=$(base64 -w0 < "$PGFX_CA")
b64() { printf %s "$1" | base64 -w0; }
python3 - "$N" "$ca_b64" "$PGFX_HOST" "$PGFX_PORT" >"$W/floor-secrets.yaml" <<'PY'
import sys, base64, secrets
n, ca, host, port = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
b = lambda s: base64.b64encode(s.encode()).decode()
for i in range(n):
    for slot, user in (("app", "app"), ("migration", "migrator")):
        pw = secrets.token_hex(16)
        name = f"sdb-{i}-credentials" if slot == "app" else f"sdb-{i}-migration-credentials"
        db, u = f"floor_sdb-{i}", f"floor_sdb-{i}_{user}"
        print(f"""---
apiVersion: v1
kind: Secret
metadata:
  name: {name}
  namespace: floor
  labels: {{app.kubernetes.io/part-of: bench-floor, servicedb.io/database: sdb-{i}, servicedb.io/credentials: {slot}}}
data:
  host: {b(host)}
  port: {b(port)}
  database: {b(db)}
  username: {b(u)}
  password: {b(pw)}
  uri: {b(f"postgresql://{u}:{pw}@{host}:{port}/{db}?sslmode=verify-full")}
  jdbc-url: {b(f"jdbc:postgresql://{host}:{port}/{db}?sslmode=verify-full")}
  sslmode: {b("verify-full")}
  type: {b("postgresql")}
  provider: {b("servicedb")}
  ca.crt: {ca}""")
PY
t0=$(now)
kubectl apply --server-side --field-manager servicedb-operator -f "$W/floor-secrets.yaml" >/dev/null
t1=$(now)
floor_kubectl=$(echo "$t1 - $t0" | bc -l)
floor_sql_run() {  # floor_sql_run NAME: seconds for the SQL of N fresh databases, on a fresh server
  local env="$W/pg-$1.env" pid secs
  "$bin/sdb-test-postgres" --env-file "$env" >"$W/pg-$1.out" 2>&1 & pid=$!
  wait_file "$env" >&2
  secs=$(source "$env" && export PGFX_ADMIN_PASSWORD &&
    "$bin/servicedatabase_floor_sql" --host "$PGFX_HOST" --port "$PGFX_PORT" --user "$PGFX_ADMIN_USER" \
      --password-env PGFX_ADMIN_PASSWORD --ca "$PGFX_CA" --namespace "$1" --count "$N" --workers 4)
  kill -TERM "$pid"; wait "$pid" || true
  echo "$secs"
}
# The SQL floor is measured before and after the operator's run, and averaged: on a shared machine
# the load drifts.
floor_sql_before=$(floor_sql_run floor)
floor_sql=$floor_sql_before
floor=$(echo "$floor_kubectl + $floor_sql" | bc -l)
if [ -n "${SDB_BENCH_FLOOR_ONLY:-}" ]; then  # for checking the floor alone
  printf 'floor %.1f s = kubectl %.1f s + SQL %.1f s; %s Secrets\n' "$floor" "$floor_kubectl" "$floor_sql" \
    "$(kubectl -n floor get secrets --no-headers | wc -l)"
  exit 0
fi

# --- the operator ---------------------------------------------------------------------------------
start_operator() {  # start_operator LOG [run flags...]: sets OP_PID once it holds the lease
  local log=$1 holder before; shift
  lease_holder() { kubectl -n servicedb-system get lease servicedb-operator-leader -o jsonpath='{.spec.holderIdentity}' 2>/dev/null || true; }
  before=$(lease_holder)
  # env -u SSL_CERT_FILE: as in a pod. This machine's environment sets it for its own tools, and the
  # operator leaves a user's SSL_CERT_FILE alone (kube::skipSystemTrustStoreLoad).
  env -u SSL_CERT_FILE "$bin/servicedb-operator" run --kubeconfig "$KUBECONFIG" --operator-namespace servicedb-system \
    --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0 --log-level warn "$@" >"$log" 2>&1 &
  OP_PID=$!
  for _ in $(seq 1 300); do
    holder=$(lease_holder)
    [ -n "$holder" ] && [ "$holder" != "$before" ] && break
    sleep 0.1
  done
}
peak_rss_mib() { echo "$(awk '/VmHWM/ {print $2}' "/proc/$OP_PID/status") / 1024" | bc -l; }
# RSS now, split into anonymous memory (heap, stacks: the operator's data) and file pages (the code
# of the binary and its shared libraries, mapped before any object exists).
rss_split() { awk '/RssAnon/ {a = $2} /RssFile/ {f = $2} END {printf "anon %.1f + file %.1f MiB", a / 1024, f / 1024}' "/proc/$OP_PID/status"; }
start_operator "$W/operator.log"
python3 - "$N" >"$W/sdbs.yaml" <<'PY'
import sys
for i in range(int(sys.argv[1])):
    print(f"""---
apiVersion: servicedb.io/v1alpha1
kind: ServiceDatabase
metadata: {{name: sdb-{i}, namespace: bench}}
spec:
  service: sdb-{i}
  engine: postgres
  mode: shared
  sharedServer: {{adminSecretRef: {{name: pg-admin}}}}
  deletionPolicy: Delete""")
PY
# API calls are counted from the local cluster's audit log (e2e/README.md: one audit.k8s.io Event per
# request; keys are written in sorted order, so objectRef comes before verb).
log_lines() { wc -l < "$W/lc/audit.log"; }
# Writes in the audit log after line $1 (up to line $2): no reads, no Lease renewals, and not
# kubectl's own creates of the ServiceDatabases (the operator never creates one).
writes_between() {
  sed -n "$(($1 + 1)),$2p" "$W/lc/audit.log" | grep -vE '"verb":"(get|list|watch)"' | grep -v '"resource":"leases"' |
    grep -vE '"resource":"servicedatabases"[^}]*}.*"verb":"create"' || true
}
L0=$(log_lines)
# One watch tells when all N are Ready (polling lists of N objects, or kubectl wait's watch per
# object in turn, would steal the CPU the operator and the local cluster need, or add to the time).
mkfifo "$W/ready.fifo"
kubectl -n bench get servicedatabases -w -o jsonpath='{.metadata.name} {.status.phase}{"\n"}' >"$W/ready.fifo" &
WATCH_PID=$!
cat >"$W/ready.py" <<'PY'
import sys, time
n, phase = int(sys.argv[1]), {}
for line in sys.stdin:
    parts = line.split()
    if parts:
        phase[parts[0]] = parts[1] if len(parts) > 1 else ""
        if len(phase) >= n and all(p == "Ready" for p in phase.values()):
            print("%.3f" % time.time())
            break
PY
python3 "$W/ready.py" "$N" <"$W/ready.fifo" >"$W/ready.at" &
READY_PID=$!
t2=$(now)
kubectl apply -f "$W/sdbs.yaml" >/dev/null
wait "$READY_PID"
kill "$WATCH_PID" 2>/dev/null || true
t3=$(cat "$W/ready.at")
op=$(echo "$t3 - $t2" | bc -l)
sleep 5  # our own writes re-trigger reconciles; Events flush
L1=$(log_lines)
writes_between "$L0" "$L1" >"$W/writes.log"
total_writes=$(wc -l < "$W/writes.log")
per_sdb=$(echo "$total_writes / $N" | bc -l)
breakdown=$(python3 - "$W/writes.log" "$N" <<'PY'
import sys, json, collections
c = collections.Counter()
for line in open(sys.argv[1]):
    r = json.loads(line)
    o = r.get("objectRef", {})
    kind = "status" if o.get("subresource") == "status" else o.get("resource", r["requestURI"])
    c[f'{r["verb"]} {kind}'] += 1
n = int(sys.argv[2])
print(", ".join(f"{k} {v / n:.2f}" for k, v in sorted(c.items())))
PY
)

rss_apply_mib=$(peak_rss_mib); split_apply=$(rss_split)
kill -TERM "$OP_PID"; wait "$OP_PID" || true; OP_PID=""

# --- steady state: a restarted operator with short periods -----------------------------------------
admin_gets() {  # reconciles between audit lines $1 and $2 (each reads the admin Secret once)
  sed -n "$(($1 + 1)),$2p" "$W/lc/audit.log" | grep '"name":"pg-admin"' | grep -c '"verb":"get"' || true
}
statements() { grep -c 'LOG:  statement:' "$PGFX_LOG" || true; }
L1b=$(log_lines); P1b=$(statements)
start_operator "$W/operator-steady.log" --sync-period 20s --engine-recheck-interval 10s
for _ in $(seq 1 600); do [ "$(admin_gets "$L1b" "$(log_lines)")" -ge "$N" ] && break; sleep 0.5; done
sleep 5
L2=$(log_lines); P2=$(statements)
restart_api=$(writes_between "$L1b" "$L2" | wc -l)
restart_pg=$((P2 - P1b))
restart_reconciles=$(admin_gets "$L1b" "$L2")
sleep 60
L3=$(log_lines); P3=$(statements)
steady_api=$(writes_between "$L2" "$L3" | wc -l)
steady_pg=$((P3 - P2))
resyncs=$(admin_gets "$L2" "$L3")
rss_steady_mib=$(peak_rss_mib); split_steady=$(rss_split)
pss_mib=$(echo "$(awk '/^Pss:/ {print $2}' "/proc/$OP_PID/smaps_rollup") / 1024" | bc -l)
kill -TERM "$OP_PID"; wait "$OP_PID" || true; OP_PID=""
rss_mib=$(echo "if ($rss_apply_mib > $rss_steady_mib) $rss_apply_mib else $rss_steady_mib" | bc -l)
floor_sql_after=$(floor_sql_run floor2)
floor_sql=$(echo "($floor_sql_before + $floor_sql_after) / 2" | bc -l)
floor=$(echo "$floor_kubectl + $floor_sql" | bc -l)
ratio=$(echo "$op / $floor" | bc -l)

printf 'BENCH servicedatabase_apply_to_ready target=<=1.5x floor measured=%.2fx (%d ServiceDatabases Ready in %.1f s; floor %.1f s = kubectl apply of %d Secrets %.1f s + the same SQL directly %.1f s, mean of %.1f s before and %.1f s after) %s\n' \
  "$ratio" "$N" "$op" "$floor" "$((2 * N))" "$floor_kubectl" "$floor_sql" "$floor_sql_before" "$floor_sql_after" \
  "$(verdict "$ratio <= 1.5")"
events_per_sdb=$(echo "$(grep -c '"resource":"events"' "$W/writes.log" || true) / $N" | bc -l)
printf 'BENCH servicedatabase_api_writes_per_sdb target=<=4 (2 children + 2) measured=%.2f (%s; %.2f without Events) %s\n' \
  "$per_sdb" "$breakdown" "$(echo "$per_sdb - $events_per_sdb" | bc -l)" "$(verdict "$per_sdb <= 4")"
printf 'BENCH servicedatabase_steady_minute_writes target=0 measured=%d API + %d SQL (a restarted operator with a 20 s resync and a 10 s engine recheck interval: its first pass, %d reconciles that re-observe the server, wrote %d API + %d SQL; the 60 s after it, %d reconciles re-observing the server when its last check is 10 s old, wrote %d API + %d SQL) %s\n' \
  "$((steady_api + restart_api))" "$((steady_pg + restart_pg))" "$restart_reconciles" "$restart_api" "$restart_pg" \
  "$resyncs" "$steady_api" "$steady_pg" "$(verdict "$steady_api + $steady_pg + $restart_api + $restart_pg == 0")"
printf 'BENCH servicedatabase_operator_peak_rss target=<=30 MiB measured=%.1f MiB (VmHWM: %.1f MiB through the apply phase, %.1f MiB for the restarted one; RSS at the end of each: %s, %s; PSS at the end %.1f MiB; %d ServiceDatabases and %d Secrets cached) %s\n' \
  "$rss_mib" "$rss_apply_mib" "$rss_steady_mib" "$split_apply" "$split_steady" "$pss_mib" "$N" "$((2 * N))" "$(verdict "$rss_mib <= 30")"
