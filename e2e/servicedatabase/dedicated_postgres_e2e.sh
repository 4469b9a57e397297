#!/usr/bin/env bash
# ServiceDatabase, PostgreSQL dedicated mode, end to end: the local cluster with its node (pods are
# real postgres processes, NetworkPolicy enforced with nftables), the real `servicedb-operator run`
# on the host (admitted by --operator-cidrs, as the policy's ipBlock), real kubectl and psql.
# - shop/orders (dedicated, Retain) starts its own instance and turns Ready; NetworkIsolated=True;
# - a one-shot pod of the owning service logs in with the Secret's uri over verify-full TLS;
# - from the owning service's pod: login over verify-full works, plain text is refused;
# - a foreign service's pod, and a pod with the same labels in another namespace, cannot connect;
# - backup- and migration-labelled pods of this database can;
# - another policy that admits everyone turns NetworkIsolated False, naming it;
# - spec.access selecting another service's pods is refused (AccessConflict);
# - a shared-mode pair runs in the same cluster;
# - quiet: no audit-log line and no log_statement=mod line for 60 s;
# - a minor version roll and a storage expansion keep the data; a major change is refused;
# - certificate renewal with short validity: the serial changes, restartCount stays 0;
# - Retain, delete, recreate keeps the data (the old Secret still logs in); Delete removes the PVC.
# Usage: dedicated_postgres_e2e.sh SERVICEDB_OPERATOR SDB_TEST_POSTGRES
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../tests/lib.sh"
source "$here/../tests/node_lib.sh"
require_root
OPERATOR=${1:?usage: $0 servicedb-operator sdb-test-postgres}
PGFX=${2:?usage: $0 servicedb-operator sdb-test-postgres}
source "$here/operator_lib.sh"

start_cluster
check "apply the CRDs" kubectl apply -f "$SOURCE_DIR/crds/"
check "CRDs established" kubectl wait --for=condition=Established crd --all --timeout=20s
for ns in servicedb-system shop other shared; do
  check "namespace $ns" sh -c "kubectl create namespace $ns --dry-run=client -o yaml | kubectl apply -f -"
done

start_operator() {  # start_operator [extra flags]: the operator on the host, admitted by the bridge's address
  "$OPERATOR" run --kubeconfig "$KUBECONFIG" --operator-namespace servicedb-system --leader-elect=false \
    --operator-cidrs "$(bridge_ip)/32" --postgres-parameters log_statement=mod \
    --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0 "$@" >>"$WORK/operator.log" 2>&1 &
  OP_PID=$!
}
stop_operator() { kill -TERM "$OP_PID"; wait "$OP_PID" || true; OP_PID=""; }
start_operator

sdb() {  # sdb NAME SERVICE VERSION SIZE POLICY [extra spec lines]
  cat <<YAML
apiVersion: servicedb.io/v1alpha1
kind: ServiceDatabase
metadata: {name: $1, namespace: shop}
spec:
  service: $2
  engine: postgres
  version: "$3"
  storage: {size: $4}
  deletionPolicy: $5
${6:-}
YAML
}
check "kubectl apply shop/orders (dedicated, Retain)" bash -c "$(declare -f sdb); sdb orders orders 15 1Gi Retain | kubectl apply -f -"
check "shop/orders Ready" kubectl -n shop wait --for=condition=Ready sdb/orders --timeout=180s
check "its children exist" kubectl -n shop get statefulset/orders-postgres service/orders-postgres service/orders-postgres-hl \
  configmap/orders-postgres-config secret/orders-postgres-superuser secret/orders-postgres-tls networkpolicy/orders-postgres
check_eq "NetworkIsolated" True kubectl -n shop get sdb orders -o jsonpath='{.status.conditions[?(@.type=="NetworkIsolated")].status}'
check_eq "the endpoint is the Service's DNS name" "orders-postgres.shop.svc 5432 shop_orders" \
  kubectl -n shop get sdb orders -o jsonpath='{.status.endpoint.host} {.status.endpoint.port} {.status.endpoint.database}'

secret_key() { kubectl -n "$1" get secret "$2" -o jsonpath="{.data.$3}" | base64 -d; }
secret_key shop orders-credentials 'ca\.crt' >"$WORK/ca.crt"
PASSWORD=$(secret_key shop orders-credentials password)
MIGPASSWORD=$(secret_key shop orders-migration-credentials password)
SVCIP=$(kubectl -n shop get svc orders-postgres -o jsonpath='{.spec.clusterIP}')

# One-shot pod of the owning service: psql inside the pod, with the Secret's uri and ca.crt.
oneshot() {  # oneshot NAME SQL
  kubectl -n shop apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1, labels: {app.kubernetes.io/name: orders}}
spec:
  restartPolicy: Never
  securityContext: {runAsNonRoot: true, runAsUser: 999, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: psql
    image: postgres:15
    # A new pod reaches the instance once the node has loaded its NetworkPolicy (well under a
    # second): retry a refused connection, as applications do.
    command: [sh, -c, 'for i in \$(seq 1 20); do psql "\$DATABASE_URL" -X -tA -c "\$SQL" && exit 0; sleep 0.5; done; exit 1']
    env:
    - {name: SQL, value: "$2"}
    - name: DATABASE_URL
      valueFrom: {secretKeyRef: {name: orders-credentials, key: uri}}
    - {name: PGSSLROOTCERT, value: /bindings/db/ca.crt}
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
    volumeMounts: [{name: db, mountPath: /bindings/db, readOnly: true}]
  volumes: [{name: db, secret: {secretName: orders-credentials}}]
YAML
  local phase=""
  for _ in $(seq 1 300); do
    phase=$(kubectl -n shop get pod "$1" -o jsonpath='{.status.phase}')
    [ "$phase" = Succeeded ] || [ "$phase" = Failed ] && break
    sleep 0.2
  done
  kubectl -n shop logs "$1"
  [ "$phase" = Succeeded ] || { kubectl -n shop get pod "$1" -o jsonpath='{.status}'; echo; return 1; }
}
check_eq "a pod of the owning service logs in with the Secret's uri over verify-full TLS" "shop_orders_app true" \
  bash -c "$(declare -f oneshot); oneshot psql-once \"select current_user || ' ' || ssl from pg_stat_ssl where pid = pg_backend_pid()\" 2>&1 | tail -n 1"

# Long-running client pods; connections start in their network namespaces (as node_netpol does).
client() {  # client NAMESPACE NAME LABELS...
  local ns=$1 name=$2; shift 2
  local labels=""; for l in "$@"; do labels="$labels${labels:+, }${l%%=*}: ${l#*=}"; done
  cat <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $name, namespace: $ns, labels: {$labels}}
spec:
  containers:
  - {name: sleep, image: postgres:15, command: [sleep, infinity]}
---
YAML
}
{
  client shop app app.kubernetes.io/name=orders
  client shop foreign app.kubernetes.io/name=billing
  client other twin app.kubernetes.io/name=orders
  client shop backup servicedb.io/database=orders servicedb.io/component=backup app.kubernetes.io/managed-by=servicedb-operator
  client shop migrate servicedb.io/database=orders servicedb.io/component=migrate app.kubernetes.io/managed-by=servicedb-operator
} >"$WORK/clients.yaml"
check "client pods (owning service, foreign service, twin in another namespace, backup, migrate)" kubectl apply -f "$WORK/clients.yaml"
for p in shop/app shop/foreign other/twin shop/backup shop/migrate; do
  check "$p Ready" kubectl -n "${p%/*}" wait --for=condition=Ready "pod/${p#*/}" --timeout=60s
done
S=$(slot)
netns() { ip netns list | awk '{print $1}' | grep -- "^sdb$S-[0-9]*-${1%/*}\.${1#*/}\$"; }
psql_from() {  # psql_from NS/POD SSLMODE SQL [USER PASSWORD]
  ip netns exec "$(netns "$1")" env PGCONNECT_TIMEOUT=5 PGPASSWORD="${5:-$PASSWORD}" psql -X -tA -v ON_ERROR_STOP=1 \
    "host=orders-postgres.shop.svc hostaddr=$SVCIP port=5432 dbname=shop_orders user=${4:-shop_orders_app} sslmode=$2 sslrootcert=$WORK/ca.crt" -c "$3"
}
check_eq "the owning service's pod logs in over verify-full TLS" "shop_orders_app true" \
  psql_from shop/app verify-full "select current_user || ' ' || ssl from pg_stat_ssl where pid = pg_backend_pid()"
expect_fail "plain text is refused" "no encryption|rejects connection" psql_from shop/app disable "select 1"
expect_fail "a foreign service's pod cannot connect" "Connection refused|could not connect|timeout" psql_from shop/foreign verify-full "select 1"
expect_fail "a pod with the same labels in another namespace cannot connect" "Connection refused|could not connect|timeout" \
  psql_from other/twin verify-full "select 1"
check "a backup-labelled pod of this database connects" psql_from shop/backup verify-full "select 1"
check "a migration-labelled pod connects, and the migration login creates a table" \
  psql_from shop/migrate verify-full "create table items (id int generated always as identity primary key, name text)" shop_orders_migrator "$MIGPASSWORD"
check "the app writes a row" psql_from shop/app verify-full "insert into items (name) values ('kept')"
app_reads() { psql_from shop/app verify-full "select name from items" "${1:-shop_orders_app}" "${2:-$PASSWORD}" | grep -qx kept; }

# NetworkIsolated looks at every policy that selects the pods.
open_door() {
  kubectl -n shop apply -f - <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: open-door}
spec:
  podSelector: {matchLabels: {servicedb.io/database: orders}}
  ingress: [{}]
YAML
}
check "another policy admits everyone" open_door
check "NetworkIsolated turns False, naming it" wait_for 20 sh -c \
  "kubectl -n shop get sdb orders -o jsonpath='{.status.conditions[?(@.type==\"NetworkIsolated\")].status} {.status.conditions[?(@.type==\"NetworkIsolated\")].message}' | grep -q '^False .*open-door'"
door_open() { psql_from shop/foreign verify-full "select 1" shop_orders_app wrong-password >"$WORK/door" 2>&1; grep -q "password authentication failed" "$WORK/door" || { cat "$WORK/door"; false; }; }
check "the door is really open: the foreign pod reaches the server (refused only by its password)" bash -c "$(declare -f door_open psql_from netns); S=$S SVCIP=$SVCIP WORK=$WORK; for i in \$(seq 1 25); do door_open && exit 0; sleep 0.2; done; door_open"
check "delete it" kubectl -n shop delete networkpolicy open-door
check "NetworkIsolated is True again" wait_for 20 sh -c \
  "kubectl -n shop get sdb orders -o jsonpath='{.status.conditions[?(@.type==\"NetworkIsolated\")].status}' | grep -qx True"

# spec.access that reaches another service's pods is refused.
check "apply shop/reports whose access selects every pod" sh -c \
  "$(declare -f sdb); sdb reports reports 15 1Gi Delete '  access: {podSelector: {}}' | kubectl apply -f -"
check "reports is Stalled with AccessConflict" wait_for 30 sh -c \
  "kubectl -n shop get sdb reports -o jsonpath='{.status.conditions[?(@.type==\"Stalled\")].reason}' | grep -qx AccessConflict"
check "and has no instance" sh -c "! kubectl -n shop get statefulset reports-postgres"
check "delete shop/reports" kubectl -n shop delete sdb reports --timeout=30s

# A shared-mode pair in the same cluster.
"$PGFX" --env-file "$WORK/pg.env" >"$WORK/pg.out" 2>&1 &
PG_PID=$!
wait_for 30 test -f "$WORK/pg.env" || { cat "$WORK/pg.out"; exit 1; }
source "$WORK/pg.env"
kubectl -n shared create secret generic pg-admin --dry-run=client -o yaml \
  --from-literal=host="$PGFX_HOST" --from-literal=port="$PGFX_PORT" \
  --from-literal=username="$PGFX_ADMIN_USER" --from-literal=password="$PGFX_ADMIN_PASSWORD" \
  --from-literal=sslmode=verify-full --from-file=ca.crt="$PGFX_CA" >"$WORK/admin.yaml"
check "shared admin Secret" kubectl apply -f "$WORK/admin.yaml"
check "apply shared/orders (shared mode)" kubectl apply -f - <<'YAML'
apiVersion: servicedb.io/v1alpha1
kind: ServiceDatabase
metadata: {name: orders, namespace: shared}
spec: {service: orders, engine: postgres, mode: shared, sharedServer: {adminSecretRef: {name: pg-admin}}, deletionPolicy: Delete}
YAML
check "shared/orders Ready" kubectl -n shared wait --for=condition=Ready sdb/orders --timeout=60s
check "shop/orders is still Ready" kubectl -n shop wait --for=condition=Ready sdb/orders --timeout=5s

# Quiet: with the instance Ready, nothing is written to the API or to Postgres for 60 s.
pg_mod_lines() { kubectl -n shop logs orders-postgres-0 | grep -c 'LOG:  statement:' || true; }
check "the instance logs statements (log_statement=mod reached it)" sh -c "kubectl -n shop logs orders-postgres-0 | grep -q 'LOG:  statement:'"
sleep 3
audit0=$(wc -l <"$WORK/lc/audit.log"); pg0=$(pg_mod_lines)
sleep 60
audit1=$(wc -l <"$WORK/lc/audit.log")
check_eq "quiet: no audit-log line for 60 s" 0 sh -c "sed -n '$((audit0 + 1)),${audit1}p' '$WORK/lc/audit.log' | grep -vc '\"userAgent\":\"kubectl' || true"
check_eq "quiet: no log_statement=mod line for 60 s" "$pg0" pg_mod_lines

# Day 2: a minor version roll keeps the data.
uid0=$(kubectl -n shop get pod orders-postgres-0 -o jsonpath='{.metadata.uid}')
check "spec.version 15 -> 15.4" kubectl -n shop patch sdb orders --type merge -p '{"spec":{"version":"15.4"}}'
check "the pod is replaced with the new image" wait_for 120 sh -c \
  "kubectl -n shop get pod orders-postgres-0 -o jsonpath='{.metadata.uid} {.spec.containers[0].image}' | grep -v '^$uid0 ' | grep -q ' postgres:15.4$'"
check "Ready again" wait_for 120 sh -c "kubectl -n shop get sdb orders -o jsonpath='{.status.observedGeneration} {.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx '2 True'"
check "the data is kept" retry app_reads
check "spec.version 16 (a major change)" kubectl -n shop patch sdb orders --type merge -p '{"spec":{"version":"16"}}'
check "is refused: Stalled, MajorVersionChange" wait_for 30 sh -c \
  "kubectl -n shop get sdb orders -o jsonpath='{.status.conditions[?(@.type==\"Stalled\")].reason}' | grep -qx MajorVersionChange"
check "the instance still runs 15.4" sh -c "kubectl -n shop get statefulset orders-postgres -o jsonpath='{.spec.template.spec.containers[0].image}' | grep -qx postgres:15.4"
check "back to 15.4" kubectl -n shop patch sdb orders --type merge -p '{"spec":{"version":"15.4"}}'
check "Ready" kubectl -n shop wait --for=condition=Ready sdb/orders --timeout=60s

# Day 2: a bigger volume (the default StorageClass allows expansion).
check "spec.storage.size 1Gi -> 2Gi" kubectl -n shop patch sdb orders --type merge -p '{"spec":{"storage":{"size":"2Gi"}}}'
check "the PVC grows" wait_for 60 sh -c "kubectl -n shop get pvc data-orders-postgres-0 -o jsonpath='{.spec.resources.requests.storage}' | grep -qx 2Gi"
check "the StatefulSet is recreated with 2Gi volumes" wait_for 60 sh -c \
  "kubectl -n shop get statefulset orders-postgres -o jsonpath='{.spec.volumeClaimTemplates[0].spec.resources.requests.storage}' | grep -qx 2Gi"
check "Ready" kubectl -n shop wait --for=condition=Ready sdb/orders --timeout=60s
# The recreated StatefulSet's pod can still be starting while the ServiceDatabase keeps its Ready from
# before (a fresh-clone run timed out connecting right after the wait): the data must come back.
check "with the data" wait_for 60 bash -c "$(declare -f app_reads psql_from netns); S=$S SVCIP=$SVCIP WORK=$WORK PASSWORD=$PASSWORD app_reads"

# Certificate renewal with a short validity: the server presents a new serial without a restart.
served_serial() { echo | timeout 5 openssl s_client -starttls postgres -connect "$SVCIP:5432" 2>/dev/null | openssl x509 -noout -serial; }
serial0=$(served_serial)
stop_operator
start_operator --instance-cert-validity 90s
check "a new certificate is served (validity changed), no restart" wait_for 60 bash -c "[ \"\$($(declare -f served_serial); SVCIP=$SVCIP served_serial)\" != '$serial0' ]"
serial1=$(served_serial)
check "renewed again after two thirds of 90 s" wait_for 120 bash -c "[ \"\$($(declare -f served_serial); SVCIP=$SVCIP served_serial)\" != '$serial1' ]"
check_eq "restartCount stays 0" 0 kubectl -n shop get pod orders-postgres-0 -o jsonpath='{.status.containerStatuses[0].restartCount}'
check "clients still verify it" app_reads
stop_operator
start_operator

# Retain, delete, recreate: the data and the old credentials survive.
check "kubectl delete shop/orders (Retain)" kubectl -n shop delete sdb orders --timeout=60s
check "the StatefulSet goes" wait_for 60 sh -c "! kubectl -n shop get statefulset orders-postgres"
check "the PVC and the superuser Secret stay" kubectl -n shop get pvc/data-orders-postgres-0 secret/orders-postgres-superuser
check "kubectl apply shop/orders again" bash -c "$(declare -f sdb); sdb orders orders 15.4 2Gi Delete | kubectl apply -f -"
check "Ready" kubectl -n shop wait --for=condition=Ready sdb/orders --timeout=180s
SVCIP=$(kubectl -n shop get svc orders-postgres -o jsonpath='{.spec.clusterIP}')
secret_key shop orders-credentials 'ca\.crt' >"$WORK/ca.crt"
check "the old app password still reads the old data" retry app_reads
check "kubectl delete shop/orders (Delete)" kubectl -n shop delete sdb orders --timeout=60s
check "the PVC is deleted" wait_for 60 sh -c "! kubectl -n shop get pvc data-orders-postgres-0"
check "kubectl delete shared/orders" kubectl -n shared delete sdb orders --timeout=60s

stop_operator
check "no password in the operator's log" sh -c "! grep -qF -- '$PASSWORD' '$WORK/operator.log'"
echo "dedicated postgres e2e: $pass checks passed"
