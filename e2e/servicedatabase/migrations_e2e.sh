#!/usr/bin/env bash
# ServiceDatabase spec.migrations end to end: the local cluster with its node (Jobs' pods run as real
# processes, the dedicated instance's NetworkPolicy enforced), the real `servicedb-operator run` on
# the host, a dedicated PostgreSQL 15 instance, real kubectl and psql. One ServiceDatabase shop/x:
# - image mode: a postgres:15 Job running psql with DATABASE_URL as the migration login gates
#   Ready (MigrationRunning while it runs; Ready only after the Job completed); status.schemaVersion;
#   the Job's pod follows the label contract and runs as non-root;
# - built-in mode: a ConfigMap of SQL files applied by the operator's own image
#   (`servicedb-operator migrate`), objects owned by the owner role, the app reads the history;
# - a version bump (a non-transactional CREATE INDEX CONCURRENTLY file) runs again and
#   `kubectl wait --for=jsonpath='{.status.schemaVersion}'=3 sdb/x` succeeds;
# - a failing file: MigrationFailed with SQLSTATE and the pod's log tail from pods/log, not retried;
# - backupFirst: BackupRequired without a backup CronJob; with a hand-made labelled CronJob its Job
#   runs first (it records a row the migration then requires), then the migration;
# - steady state: no API write by the operator, no new Job;
# - no password in status, events, Jobs or the operator's log.
# Usage: migrations_e2e.sh SERVICEDB_OPERATOR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../tests/lib.sh"
source "$here/../tests/node_lib.sh"
require_root
OPERATOR=${1:?usage: $0 servicedb-operator}
source "$here/operator_lib.sh"
t0=$SECONDS
diagnose() {  # on failure: what the ServiceDatabase, its Jobs and pods and the operator said
  local rc=$?
  if [ "$rc" != 0 ] && [ -n "${KUBECONFIG:-}" ]; then
    echo "---- status of shop/x"; kubectl -n shop get sdb x -o yaml 2>&1 | sed -n '/^status:/,$p'
    echo "---- Jobs and pods"; kubectl -n shop get jobs,pods -o wide 2>&1
    for p in $(kubectl -n shop get pods -l job-name -o name 2>/dev/null); do
      echo "---- $p"; kubectl -n shop logs "$p" 2>&1 | tail -n 15
    done
    echo "---- operator log"; tail -n 30 "$WORK/operator.log" 2>&1
  fi
  finish
}
trap diagnose EXIT

start_cluster
check "apply the CRDs" kubectl apply -f "$SOURCE_DIR/crds/"
check "CRDs established" kubectl wait --for=condition=Established crd --all --timeout=20s
for ns in servicedb-system shop; do
  check "namespace $ns" sh -c "kubectl create namespace $ns --dry-run=client -o yaml | kubectl apply -f -"
done
"$OPERATOR" run --kubeconfig "$KUBECONFIG" --operator-namespace servicedb-system --leader-elect=false \
  --operator-cidrs "$(bridge_ip)/32" --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0 \
  >>"$WORK/operator.log" 2>&1 &
OP_PID=$!

sdb() {  # sdb MIGRATIONS-YAML (indented under spec.migrations)
  cat <<YAML
apiVersion: servicedb.io/v1alpha1
kind: ServiceDatabase
metadata: {name: x, namespace: shop}
spec:
  service: x
  engine: postgres
  version: "15"
  storage: {size: 1Gi}
  deletionPolicy: Delete
  migrations:
$1
YAML
}
jp() { kubectl -n shop get sdb x -o jsonpath="$1"; }
cond() { jp "{.status.conditions[?(@.type==\"$1\")].$2}"; }

# Image mode with postgres:15: psql with DATABASE_URL, once the server answers (a new pod may be
# refused for a moment, until its address reaches the instance's NetworkPolicy).
psql_migration() {  # psql_migration VERSION SQL [EXTRA-LINE]
  cat <<YAML
    version: "$1"
${3:-}
    image: postgres:15
    command: [sh, -c]
    args:
      - |
        for i in \$(seq 1 20); do pg_isready -q -d "\$DATABASE_URL" && break; sleep 0.5; done
        exec psql "\$DATABASE_URL" -X -v ON_ERROR_STOP=1 -c "$2"
YAML
}

# 1. Image mode gates Ready. psql sleeps 3 s so the gate is observable.
IMAGE_V1=$(psql_migration 1 "CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL); CREATE TABLE backup_runs (version text NOT NULL, at timestamptz NOT NULL DEFAULT now()); SELECT pg_sleep(3)")
sdb "$IMAGE_V1" >"$WORK/x1.yaml"
check "kubectl apply shop/x (dedicated, image-mode migrations version 1)" kubectl apply -f "$WORK/x1.yaml"
gate() { jp '{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].reason} {.status.conditions[?(@.type=="MigrationsApplied")].status} {.status.conditions[?(@.type=="MigrationsApplied")].reason}'; }
check "once the instance is provisioned, the migration Job gates Ready: Ready=False MigrationRunning, MigrationsApplied=False" \
  wait_for 180 sh -c "$(declare -f jp gate); [ \"\$(gate)\" = 'False MigrationRunning False MigrationRunning' ]"
check_eq "one migration Job" 1 sh -c "kubectl -n shop get jobs -l servicedb.io/component=migrate,servicedb.io/database=x -o name | wc -l"
JOB1=$(kubectl -n shop get jobs -l servicedb.io/component=migrate -o jsonpath='{.items[0].metadata.name}')
check "kubectl wait for schemaVersion 1" kubectl -n shop wait --for=jsonpath='{.status.schemaVersion}'=1 sdb/x --timeout=90s
check "Ready" kubectl -n shop wait --for=condition=Ready sdb/x --timeout=10s
check_eq "MigrationsApplied=True Applied" "True Applied" sh -c "$(declare -f jp cond); echo \"\$(cond MigrationsApplied status) \$(cond MigrationsApplied reason)\""
completed=$(kubectl -n shop get job "$JOB1" -o jsonpath='{.status.completionTime}')
ready_at=$(cond Ready lastTransitionTime)
check "the Job has a completionTime" test -n "$completed"
check "Ready turned True ($ready_at) only after the Job completed ($completed)" test ! "$ready_at" \< "$completed"
pod1=$(kubectl -n shop get pods -l job-name="$JOB1" -o jsonpath='{.items[0].metadata.name}')
check_eq "the Job's pod: label contract (component migrate) and non-root" "migrate migrate x 65532 true false" \
  kubectl -n shop get pod "$pod1" -o jsonpath='{.metadata.labels.servicedb\.io/component} {.metadata.labels.app\.kubernetes\.io/component} {.metadata.labels.servicedb\.io/database} {.spec.securityContext.runAsUser} {.spec.securityContext.runAsNonRoot} {.spec.automountServiceAccountToken}'

secret_key() { kubectl -n shop get secret "$1" -o jsonpath="{.data.$2}" | base64 -d; }
secret_key x-credentials 'ca\.crt' >"$WORK/ca.crt"
PASSWORD=$(secret_key x-credentials password)
MIGPASSWORD=$(secret_key x-migration-credentials password)
SVCIP=$(kubectl -n shop get svc x-postgres -o jsonpath='{.spec.clusterIP}')
app() {  # app SQL: as the app login, from the host (admitted like the operator, by --operator-cidrs)
  PGCONNECT_TIMEOUT=5 PGPASSWORD="$PASSWORD" psql -X -q -tA -v ON_ERROR_STOP=1 \
    "host=x-postgres.shop.svc hostaddr=$SVCIP port=5432 dbname=shop_x user=shop_x_app sslmode=verify-full sslrootcert=$WORK/ca.crt" -c "$1"
}
check_eq "the migration's table is the owner role's, and the app writes to it" "shop_x_owner 1" \
  app "INSERT INTO customers (name) VALUES ('ada'); SELECT tableowner || ' ' || (SELECT count(*) FROM customers) FROM pg_tables WHERE tablename = 'customers'"

# 2. Built-in mode: the operator's image applies a ConfigMap of SQL files.
sql_configmap() {  # sql_configmap WITH_V3
  cat <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: x-sql, namespace: shop}
data:
  V1__orders.sql: |
    CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      customer_id bigint NOT NULL REFERENCES customers (id));
  V2__billing.sql: |
    CREATE SCHEMA billing;
    CREATE TABLE billing.invoices (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, order_id bigint NOT NULL);
YAML
  if [ "$1" = yes ]; then cat <<'YAML'
  V3__index_invoices.sql: |
    -- servicedb:transaction=false
    CREATE INDEX CONCURRENTLY IF NOT EXISTS invoices_order_id ON billing.invoices (order_id);
YAML
  fi
}
BUILTIN='    version: "2"
    configMapRef: {name: x-sql}'
check "ConfigMap x-sql (V1, V2)" sh -c "$(declare -f sql_configmap); sql_configmap no | kubectl apply -f -"
sdb "$BUILTIN" >"$WORK/x2.yaml"
check "spec.migrations: built-in, version 2" kubectl apply -f "$WORK/x2.yaml"
check "kubectl wait for schemaVersion 2" kubectl -n shop wait --for=jsonpath='{.status.schemaVersion}'=2 sdb/x --timeout=90s
JOB2=$(jp '{.status.migrations.job}')
check_eq "it ran the operator's image with --owner-role" "ghcr.io/servicedb/servicedb-operator:0.1.0 migrate --dir /migrations --owner-role shop_x_owner" \
  kubectl -n shop get job "$JOB2" -o jsonpath='{.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].args[*]}'
check_eq "the history has V1 and V2; the app may read it and write the new tables" "1,2|1" \
  app "INSERT INTO billing.invoices (order_id) VALUES (1); SELECT string_agg(version, ',' ORDER BY version) || '|' || (SELECT count(*) FROM billing.invoices) FROM servicedb_schema_history"
check "Ready" kubectl -n shop wait --for=condition=Ready sdb/x --timeout=10s

# 3. A version bump runs again.
check "ConfigMap x-sql gets V3 (CREATE INDEX CONCURRENTLY)" sh -c "$(declare -f sql_configmap); sql_configmap yes | kubectl apply -f -"
check "version 3" kubectl -n shop patch sdb x --type merge -p '{"spec":{"migrations":{"version":"3"}}}'
check "kubectl wait --for=jsonpath='{.status.schemaVersion}'=3 sdb/x" \
  kubectl -n shop wait --for=jsonpath='{.status.schemaVersion}'=3 sdb/x --timeout=90s
check_eq "the index exists and is valid" "t" app "SELECT indisvalid FROM pg_index WHERE indexrelid = 'billing.invoices_order_id'::regclass"
check "Ready" kubectl -n shop wait --for=condition=Ready sdb/x --timeout=10s
check_eq "three Jobs so far, each run once" 3 sh -c "kubectl -n shop get jobs -l servicedb.io/component=migrate -o name | wc -l"

# 4. A failing file: reported with the log tail from pods/log, not retried.
check "ConfigMap x-sql gets a failing V4" sh -c "$(declare -f sql_configmap); { sql_configmap yes; printf '  V4__bad.sql: |\n    SELECT * FROM no_such_table;\n'; } | kubectl apply -f -"
check "version 4" kubectl -n shop patch sdb x --type merge -p '{"spec":{"migrations":{"version":"4"}}}'
check "MigrationsApplied=False MigrationFailed" wait_for 90 sh -c "$(declare -f jp cond); [ \"\$(cond MigrationsApplied reason)\" = MigrationFailed ]"
cond MigrationsApplied message >"$WORK/failure.txt"
check "its message has the file, the SQLSTATE and the message" \
  grep -qF 'V4__bad.sql failed: SQLSTATE 42P01: relation "no_such_table" does not exist' "$WORK/failure.txt"
check "and the log tail of the Job's pod" grep -q '^log tail:' "$WORK/failure.txt"
check_eq "Ready=False, Stalled=True, schemaVersion still 3" "False True 3" sh -c \
  "$(declare -f jp cond); echo \"\$(cond Ready status) \$(cond Stalled status) \$(jp '{.status.schemaVersion}')\""
sleep 3
check_eq "not retried by itself" 4 sh -c "kubectl -n shop get jobs -l servicedb.io/component=migrate -o name | wc -l"

# 5. backupFirst: a fresh backup through the label contract first.
# The migration divides by zero unless the backup Job recorded its row first.
IMAGE_V5=$(psql_migration 5 "SELECT 1 / (SELECT count(*) FROM backup_runs WHERE version = '5')::int; ALTER TABLE customers ADD COLUMN email text" "    backupFirst: true")
sdb "$IMAGE_V5" >"$WORK/x5.yaml"
check "spec.migrations: image mode, version 5, backupFirst" kubectl apply -f "$WORK/x5.yaml"
check "without a backup CronJob: BackupRequired naming spec.backupPolicyRef" wait_for 30 sh -c \
  "$(declare -f jp cond); [ \"\$(cond Ready reason)\" = BackupRequired ] && cond Ready message | grep -q spec.backupPolicyRef"
# A hand-made backup CronJob (as the BackupPolicy controller labels them); its Job records that it ran.
check "a labelled backup CronJob (suspended: it only runs when asked)" kubectl apply -f - <<'YAML'
apiVersion: batch/v1
kind: CronJob
metadata:
  name: x-backup
  namespace: shop
  labels: {servicedb.io/database: x, servicedb.io/component: backup, app.kubernetes.io/managed-by: servicedb-operator}
spec:
  schedule: "0 2 * * *"
  suspend: true
  jobTemplate:
    metadata:
      labels: {servicedb.io/database: x, servicedb.io/component: backup, app.kubernetes.io/managed-by: servicedb-operator}
    spec:
      backoffLimit: 0
      template:
        metadata:
          labels: {servicedb.io/database: x, servicedb.io/component: backup, app.kubernetes.io/managed-by: servicedb-operator}
        spec:
          restartPolicy: Never
          securityContext: {runAsNonRoot: true, runAsUser: 999}
          containers:
          - name: backup
            image: postgres:15
            command:
            - sh
            - -c
            - |
              for i in $(seq 1 20); do pg_isready -q -d "$DATABASE_URL" && break; sleep 0.5; done
              exec psql "$DATABASE_URL" -X -v ON_ERROR_STOP=1 -c "SELECT pg_sleep(1); INSERT INTO backup_runs (version) VALUES ('5')"
            env:
            - name: DATABASE_URL
              valueFrom: {secretKeyRef: {name: x-migration-credentials, key: uri}}
            - {name: PGSSLROOTCERT, value: /ca/ca.crt}
            volumeMounts: [{name: ca, mountPath: /ca, readOnly: true}]
          volumes: [{name: ca, secret: {secretName: x-migration-credentials, items: [{key: ca.crt, path: ca.crt}]}}]
YAML
check "kubectl wait for schemaVersion 5" kubectl -n shop wait --for=jsonpath='{.status.schemaVersion}'=5 sdb/x --timeout=90s
check "Ready" kubectl -n shop wait --for=condition=Ready sdb/x --timeout=10s
check_eq "the backup Job came from the CronJob and completed" "x-backup 5 True" sh -c \
  "kubectl -n shop get jobs -l servicedb.io/component=backup -o jsonpath='{.items[0].metadata.annotations.servicedb\.io/from-cronjob} {.items[0].metadata.annotations.servicedb\.io/migration-version} {.items[0].status.conditions[?(@.type==\"Complete\")].status}'"
check_eq "the backup ran before the migration (the migration required its row)" "1 email" \
  app "SELECT (SELECT count(*) FROM backup_runs) || ' ' || (SELECT column_name FROM information_schema.columns WHERE table_name = 'customers' AND column_name = 'email')"

# Steady state: the operator writes nothing (the Jobs stay until their TTL; nothing runs again).
op_writes() { grep '"userAgent":"servicedb-operator' "$WORK/lc/audit.log" | grep -vcE '"verb":"(get|list|watch)"' || true; }
sleep 2
writes0=$(op_writes)
check "the audit log has the operator's writes ($writes0 so far)" test "$writes0" -gt 0
sleep 8
check_eq "steady state: no API write by the operator in 8 s" "$writes0" op_writes
check_eq "and no new Job" 6 sh -c "kubectl -n shop get jobs -o name | wc -l"

# Secrets stay secret.
check "no password in status" sh -c "! kubectl -n shop get sdb x -o json | grep -qF -- '$MIGPASSWORD'"
check "no password in events" sh -c "! kubectl -n shop get events -o json | grep -qF -- '$MIGPASSWORD'"
check "no password in any Job" sh -c "! kubectl -n shop get jobs -o json | grep -qF -- '$MIGPASSWORD'"
kill -TERM "$OP_PID"
code=0; wait "$OP_PID" || code=$?
OP_PID=""
check "SIGTERM: exit 0" test "$code" = 0
check "no password in the operator's log" sh -c "! grep -qF -- '$MIGPASSWORD' '$WORK/operator.log' && ! grep -qF -- '$PASSWORD' '$WORK/operator.log'"
echo "migrations e2e: $pass checks passed in $((SECONDS - t0)) s"
