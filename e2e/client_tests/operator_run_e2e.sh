#!/usr/bin/env bash
# The real `servicedb-operator run` against the local cluster over HTTPS (kubeconfig with CA and
# token): it leads, reconciles a ServiceDatabase (its instance waits: no node here), serves /readyz and
# /metrics (curl finds controller_runtime_reconcile_total), and SIGTERM ends it with exit 0 and the
# Lease released. Usage: operator_run_e2e.sh SERVICEDB_OPERATOR_BINARY
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../tests/lib.sh"
OPERATOR=${1:?usage: $0 path/to/servicedb-operator}
OP_PID=""
trap '[ -n "$OP_PID" ] && kill -KILL "$OP_PID" 2>/dev/null; cleanup' EXIT
wait_for() {
  local until=$((SECONDS + $1)); shift
  while ! "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $until ] || { echo "timed out waiting for: $*"; return 1; }
    sleep 0.2
  done
}

start_cluster
check "apply the CRDs" kubectl apply -f "$SOURCE_DIR/crds/"
check "CRDs established" kubectl wait --for=condition=Established crd --all --timeout=20s
check "operator namespace" sh -c "printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: servicedb-system}\n' | kubectl apply -f -"
check "a ServiceDatabase" kubectl apply -f "$SOURCE_DIR/crds/examples/servicedatabase-postgres-dedicated.yaml"
name=$(kubectl get servicedatabases -o jsonpath='{.items[0].metadata.name}')

"$OPERATOR" run --kubeconfig "$KUBECONFIG" --operator-namespace servicedb-system \
  --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0 >"$WORK/operator.log" 2>&1 &
OP_PID=$!
wait_for 15 grep -q '"metricsPort"' "$WORK/operator.log" || { cat "$WORK/operator.log"; exit 1; }
metrics_port=$(grep -o '"metricsPort":"[0-9]*"' "$WORK/operator.log" | head -1 | grep -o '[0-9]*')
health_port=$(grep -o '"healthPort":"[0-9]*"' "$WORK/operator.log" | head -1 | grep -o '[0-9]*')
check "the client logged the server it talks to" grep -q "\"server\":\"$(grep -o 'https://[^ ]*' "$KUBECONFIG" | head -1)\"" "$WORK/operator.log"
check "/readyz once the caches synced" wait_for 20 curl -sf "http://127.0.0.1:$health_port/readyz"
check "it leads" wait_for 20 sh -c "kubectl -n servicedb-system get lease servicedb-operator-leader -o jsonpath='{.spec.holderIdentity}' | grep -q ."
# The dedicated example (deletionPolicy Snapshot) waits for its instance: this cluster has no node.
check "the ServiceDatabase reports Reconciling=True (its instance is starting)" \
  kubectl wait --for=condition=Reconciling --timeout=30s "servicedatabase/$name"
check "curl :PORT/metrics | grep controller_runtime_reconcile_total (the waiting reconciles are counted)" \
  sh -c "curl -sf http://127.0.0.1:$metrics_port/metrics | grep -E 'controller_runtime_reconcile_total\\{controller=\"servicedatabase\",result=\"(success|requeue|requeue_after)\"\\} [1-9]'"
check "workqueue and API request metrics" sh -c "curl -sf http://127.0.0.1:$metrics_port/metrics | grep -q '^workqueue_adds_total{name=\"servicedatabase\"}' && curl -sf http://127.0.0.1:$metrics_port/metrics | grep -q '^rest_client_requests_total{code=\"200\",host=\"kubernetes\",method=\"GET\"}'"
check "the operator's requests carry its User-Agent" grep -q '"userAgent":"servicedb-operator/' "$WORK/lc/requests.log"

kill -TERM "$OP_PID"
code=0; wait "$OP_PID" || code=$?
OP_PID=""
check "SIGTERM: exit 0" test "$code" = 0
check "the Lease is released" test -z "$(kubectl -n servicedb-system get lease servicedb-operator-leader -o jsonpath='{.spec.holderIdentity}')"
echo "operator run e2e: $pass checks passed"
