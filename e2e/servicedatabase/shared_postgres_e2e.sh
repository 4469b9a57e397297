#!/usr/bin/env bash
# ServiceDatabase, PostgreSQL shared mode, end to end: the local cluster over HTTPS, a real
# PostgreSQL 15 with TLS (sdb-test-postgres), the real `servicedb-operator run`, and real kubectl and
# psql as the users. Two ServiceDatabases named orders in namespaces a and b are applied with
# kubectl; then:
# - both turn Ready (kubectl wait);
# - each app logs in with its Secret's uri and ca.crt and is refused by the other's database;
# - the migration login creates, the app only reads and writes;
# - a quiet period writes nothing to the API (requests.log) or to Postgres (log_statement=mod);
# - rotation by annotation;
# - Delete drops b's database;
# - Retain keeps a's database, login and Secret;
# - SIGTERM exits 0.
# Usage: shared_postgres_e2e.sh SERVICEDB_OPERATOR SDB_TEST_POSTGRES
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../tests/lib.sh"
OPERATOR=${1:?usage: $0 servicedb-operator sdb-test-postgres}
PGFX=${2:?usage: $0 servicedb-operator sdb-test-postgres}
source "$here/operator_lib.sh"

# A real PostgreSQL with TLS and a CREATEDB CREATEROLE admin.
"$PGFX" --env-file "$WORK/pg.env" >"$WORK/pg.out" 2>&1 &
PG_PID=$!
wait_for 30 test -f "$WORK/pg.env" || { cat "$WORK/pg.out"; exit 1; }
source "$WORK/pg.env"
superuser() { runuser -u postgres -- psql -h "$PGFX_SUPERUSER_SOCKET_DIR" -p "$PGFX_PORT" -X -tA -d postgres -c "$1"; }
writes_in_pg_log() { grep -c 'LOG:  statement:' "$PGFX_LOG" || true; }
# API writes, without the Lease renewals of leader election.
api_writes() { grep -v '"method":"GET"' "$WORK/lc/requests.log" | grep -vc '/leases/' || true; }

start_cluster
check "apply the CRDs" kubectl apply -f "$SOURCE_DIR/crds/"
check "CRDs established" kubectl wait --for=condition=Established crd --all --timeout=20s
# (kubectl create sends protobuf for built-in kinds, which the local cluster does not read: render
# with --dry-run=client and apply, which sends JSON.)
for ns in servicedb-system a b; do
  check "namespace $ns" sh -c "kubectl create namespace $ns --dry-run=client -o yaml | kubectl apply -f -"
done
for ns in a b; do
  kubectl -n "$ns" create secret generic pg-admin --dry-run=client -o yaml \
    --from-literal=host="$PGFX_HOST" --from-literal=port="$PGFX_PORT" \
    --from-literal=username="$PGFX_ADMIN_USER" --from-literal=password="$PGFX_ADMIN_PASSWORD" \
    --from-literal=sslmode=verify-full --from-file=ca.crt="$PGFX_CA" >"$WORK/admin-$ns.yaml"
  check "admin Secret in $ns" kubectl apply -f "$WORK/admin-$ns.yaml"
done

"$OPERATOR" run --kubeconfig "$KUBECONFIG" --operator-namespace servicedb-system \
  --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0 >"$WORK/operator.log" 2>&1 &
OP_PID=$!

sdb() {  # sdb NAMESPACE DELETION_POLICY
  cat <<YAML
apiVersion: servicedb.io/v1alpha1
kind: ServiceDatabase
metadata:
  name: orders
  namespace: $1
spec:
  service: orders
  engine: postgres
  mode: shared
  sharedServer:
    adminSecretRef:
      name: pg-admin
  deletionPolicy: $2
YAML
}
check "kubectl apply a/orders (Retain)" sh -c "$(declare -f sdb); sdb a Retain | kubectl apply -f -"
check "kubectl apply b/orders (Delete)" sh -c "$(declare -f sdb); sdb b Delete | kubectl apply -f -"
check "a/orders Ready" kubectl -n a wait --for=condition=Ready servicedatabase/orders --timeout=60s
check "b/orders Ready" kubectl -n b wait --for=condition=Ready servicedatabase/orders --timeout=60s
check "kubectl get shows phase Ready" sh -c "kubectl get sdb -A --no-headers | awk '{print \$6}' | grep -c Ready | grep -qx 2"
check "status names the Secret and endpoint" sh -c \
  "kubectl -n a get sdb orders -o jsonpath='{.status.secretName} {.status.endpoint.database}' | grep -qx 'orders-credentials a_orders'"

secret_key() { kubectl -n "$1" get secret "$2" -o jsonpath="{.data.$3}" | base64 -d; }
for ns in a b; do
  secret_key "$ns" orders-credentials 'ca\.crt' >"$WORK/$ns-ca.crt"
  secret_key "$ns" orders-credentials uri >"$WORK/$ns-app.uri"
  secret_key "$ns" orders-migration-credentials uri >"$WORK/$ns-mig.uri"
done
as() {  # as NS app|mig SQL [URI-OVERRIDE]
  local uri; uri=${4:-$(cat "$WORK/$1-$2.uri")}
  PGSSLROOTCERT="$WORK/$1-ca.crt" PGCONNECT_TIMEOUT=5 psql "$uri" -X -q -v ON_ERROR_STOP=1 -tA -c "$3"
}
check "a's app logs in over verify-full TLS" sh -c "$(declare -f as); WORK=$WORK as a app 'SELECT current_user' | grep -qx a_orders_app"
check "the connection is TLS" sh -c "$(declare -f as); WORK=$WORK as a app 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()' | grep -qx t"
expect_fail "a's app is refused by b's database" "permission denied for database" \
  sh -c "$(declare -f as); WORK=$WORK as a app 'SELECT 1' \"\$(sed 's#/a_orders?#/b_orders?#' $WORK/a-app.uri)\""
expect_fail "b's app is refused by a's database" "permission denied for database" \
  sh -c "$(declare -f as); WORK=$WORK as b app 'SELECT 1' \"\$(sed 's#/b_orders?#/a_orders?#' $WORK/b-app.uri)\""
check "the migration login creates a table" sh -c "$(declare -f as); WORK=$WORK as a mig 'CREATE TABLE orders (id serial PRIMARY KEY, item text)'"
check "the app writes and reads" sh -c "$(declare -f as); WORK=$WORK as a app \"INSERT INTO orders (item) VALUES ('book'); SELECT item FROM orders\" | grep -qx book"
expect_fail "the app cannot create" "permission denied for schema public" \
  sh -c "$(declare -f as); WORK=$WORK as a app 'CREATE TABLE evil (id int)'"

# Steady state: nothing written, to the API or to Postgres, for 10 s.
sleep 2
api0=$(api_writes); pg0=$(writes_in_pg_log)
sleep 10
check "steady state: no API writes in 10 s" test "$(api_writes)" = "$api0"
check "steady state: no Postgres writes in 10 s" test "$(writes_in_pg_log)" = "$pg0"

# Rotation by annotation.
old_uri=$(cat "$WORK/a-app.uri")
check "kubectl annotate rotate-credentials" kubectl -n a annotate sdb orders servicedb.io/rotate-credentials=e2e-1
check "status records the rotation" wait_for 30 sh -c "kubectl -n a get sdb orders -o jsonpath='{.status.credentialsRotatedAt}' | grep -q T"
secret_key a orders-credentials uri >"$WORK/a-app.uri"
check "the new password is in the Secret" test "$(cat "$WORK/a-app.uri")" != "$old_uri"
check "the new password works" sh -c "$(declare -f as); WORK=$WORK as a app 'SELECT item FROM orders' | grep -qx book"
expect_fail "the old password is refused" "password authentication failed" \
  sh -c "$(declare -f as); WORK=$WORK as a app 'SELECT 1' '$old_uri'"

# Delete drops b's database; Retain keeps a's.
check "kubectl delete b/orders (Delete)" kubectl -n b delete sdb orders --timeout=60s
check "b's database is dropped" test "$(superuser "SELECT count(*) FROM pg_database WHERE datname = 'b_orders'")" = 0
check "b's roles are dropped" test "$(superuser "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'b\\_orders\\_%'")" = 0
check "kubectl delete a/orders (Retain)" kubectl -n a delete sdb orders --timeout=60s
check "a's Secret lost its owner reference" test -z "$(kubectl -n a get secret orders-credentials -o jsonpath='{.metadata.ownerReferences}')"
sleep 2  # the garbage collector had time to act on a dangling owner reference
check "a's Secret is kept" kubectl -n a get secret orders-credentials
check "a's login and data are kept" sh -c "$(declare -f as); WORK=$WORK as a app 'SELECT item FROM orders' | grep -qx book"

kill -TERM "$OP_PID"
code=0; wait "$OP_PID" || code=$?
OP_PID=""
check "SIGTERM: exit 0" test "$code" = 0
password=$(secret_key a orders-credentials password)
check "no password in the operator's log" sh -c "! grep -qF -- '$password' '$WORK/operator.log'"
echo "shared postgres e2e: $pass checks passed"
