#!/usr/bin/env bash
# The runtime end to end over HTTPS: the example controller (a real process with the HTTP client,
# informers, workqueue, leader election and metrics) reconciles Greetings against the local cluster,
# judged by real kubectl and curl. Usage: example_controller_e2e.sh EXAMPLE_CONTROLLER_BINARY
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../tests/lib.sh"
CONTROLLER=${1:?usage: $0 path/to/example-controller}
CTRL_PID=""
stop_controller() {
  if [ -n "$CTRL_PID" ] && kill -0 "$CTRL_PID" 2>/dev/null; then kill -KILL "$CTRL_PID"; wait "$CTRL_PID" 2>/dev/null || true; fi
  CTRL_PID=""
}
trap 'stop_controller; cleanup' EXIT

start_cluster
admin() { curl -sS --cacert "$WORK/lc/ca.crt" -H "Authorization: Bearer $(cat "$WORK/lc/admin-token")" "$@"; }
server=$(grep -o 'https://[^ ]*' "$KUBECONFIG" | head -1)
cm_message() { kubectl -n demo get configmap "$1-greeting" -o jsonpath='{.data.message}' 2>/dev/null; }
wait_for() {  # wait_for SECONDS command...: polls until the command succeeds
  local until=$((SECONDS + $1)); shift
  while ! "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $until ] || { echo "timed out waiting for: $*"; return 1; }
    sleep 0.2
  done
}
greeting() {  # greeting NAME MESSAGE
  printf 'apiVersion: example.servicedb.io/v1\nkind: Greeting\nmetadata:\n  name: %s\n  namespace: demo\nspec:\n  message: "%s"\n' "$1" "$2"
}
# Writes the controller sent, apart from its Lease renewals.
writes_by_controller() { grep '"userAgent":"example-controller/' "$WORK/lc/requests.log" | grep -v '/leases/' | grep -cE '"method":"(POST|PUT|PATCH|DELETE)"' || true; }

check "CRD applied and established" kubectl apply -f "$here/greeting_crd.yaml"
check "CRD established" kubectl wait --for condition=established --timeout=20s crd/greetings.example.servicedb.io
# (kubectl create namespace would send protobuf, which the local cluster does not speak; apply sends JSON.)
check "namespace" sh -c "printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: demo}\n' | kubectl apply -f -"

"$CONTROLLER" --kubeconfig "$KUBECONFIG" --lease-namespace demo --identity e2e-1 >"$WORK/controller.log" 2>&1 &
CTRL_PID=$!
wait_for 15 grep -q '"metricsPort"' "$WORK/controller.log"
metrics_port=$(grep -o '"metricsPort":"[0-9]*"' "$WORK/controller.log" | head -1 | grep -o '[0-9]*')
health_port=$(grep -o '"healthPort":"[0-9]*"' "$WORK/controller.log" | head -1 | grep -o '[0-9]*')
check "controller is ready (/readyz)" wait_for 15 curl -sf "http://127.0.0.1:$health_port/readyz"
check "controller leads (Lease holder e2e-1)" wait_for 15 sh -c "kubectl -n demo get lease example-controller-leader -o jsonpath='{.spec.holderIdentity}' | grep -qx e2e-1"

greeting hello hello >"$WORK/hello.yaml"
check "Greeting created" kubectl apply -f "$WORK/hello.yaml"
check "Greeting becomes Ready" kubectl -n demo wait --for=condition=Ready --timeout=30s greeting/hello
check "ConfigMap holds the message" test "$(cm_message hello)" = hello
check "ConfigMap is owned by the Greeting" test "$(kubectl -n demo get configmap hello-greeting -o jsonpath='{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].controller}')" = "Greeting/hello/true"
check "ownerReference carries the Greeting's uid" test "$(kubectl -n demo get configmap hello-greeting -o jsonpath='{.metadata.ownerReferences[0].uid}')" = "$(kubectl -n demo get greeting hello -o jsonpath='{.metadata.uid}')"
check "applied server-side by field manager example-controller" test "$(kubectl -n demo get configmap hello-greeting --show-managed-fields -o jsonpath='{.metadata.managedFields[?(@.manager=="example-controller")].operation}')" = Apply
check "status.configMapName" test "$(kubectl -n demo get greeting hello -o jsonpath='{.status.configMapName}')" = hello-greeting
check "observedGeneration = generation" test "$(kubectl -n demo get greeting hello -o jsonpath='{.status.observedGeneration}')" = "$(kubectl -n demo get greeting hello -o jsonpath='{.metadata.generation}')"
check "Stalled=False, Reconciling=False" test "$(kubectl -n demo get greeting hello -o jsonpath='{.status.conditions[?(@.type=="Stalled")].status}{.status.conditions[?(@.type=="Reconciling")].status}')" = FalseFalse
check "a Normal Created event" wait_for 10 sh -c "kubectl -n demo get events --field-selector involvedObject.name=hello -o jsonpath='{.items[*].reason}' | grep -q Created"

check "spec change" kubectl -n demo patch greeting hello --type merge -p '{"spec":{"message":"bonjour"}}'
check "ConfigMap follows the spec" wait_for 15 sh -c "test \"\$(kubectl -n demo get configmap hello-greeting -o jsonpath='{.data.message}')\" = bonjour"
check "observedGeneration follows (2)" wait_for 15 sh -c "test \"\$(kubectl -n demo get greeting hello -o jsonpath='{.status.observedGeneration}')\" = 2"

check "drift: someone edits the ConfigMap" kubectl -n demo patch configmap hello-greeting --type merge -p '{"data":{"message":"tampered"}}'
check "drift is repaired (Owns)" wait_for 15 sh -c "test \"\$(kubectl -n demo get configmap hello-greeting -o jsonpath='{.data.message}')\" = bonjour"
check "the ConfigMap is deleted" kubectl -n demo delete configmap hello-greeting
check "and recreated" wait_for 15 sh -c "test \"\$(kubectl -n demo get configmap hello-greeting -o jsonpath='{.data.message}')\" = bonjour"

printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: taken-greeting\n  namespace: demo\ndata:\n  message: mine\n' | kubectl apply -f - >/dev/null
greeting taken x | kubectl apply -f - >/dev/null
check "a foreign ConfigMap stalls the Greeting" kubectl -n demo wait --for=condition=Stalled --timeout=20s greeting/taken
check "with reason ForeignConfigMap" test "$(kubectl -n demo get greeting taken -o jsonpath='{.status.conditions[?(@.type=="Stalled")].reason}')" = ForeignConfigMap
check "and the foreign ConfigMap is left alone" test "$(kubectl -n demo get configmap taken-greeting -o jsonpath='{.data.message}')" = mine
expect_fail "an empty message is refused by the schema, naming the field" 'spec.message' \
  sh -c "printf 'apiVersion: example.servicedb.io/v1\nkind: Greeting\nmetadata: {name: empty, namespace: demo}\nspec: {message: \"\"}\n' | kubectl apply -f -"

# Steady state: no writes at all once everything converged.
sleep 1
before=$(writes_by_controller)
sleep 3
check "steady state makes zero writes but Lease renewals ($before writes so far)" test "$(writes_by_controller)" = "$before"

check "metrics: controller_runtime_reconcile_total" sh -c "curl -sf http://127.0.0.1:$metrics_port/metrics | grep -E '^controller_runtime_reconcile_total\{controller=\"greeting\",result=\"success\"\} [1-9]'"
check "metrics: API requests counted" sh -c "curl -sf http://127.0.0.1:$metrics_port/metrics | grep -q '^rest_client_requests_total{code=\"201\"'"
check "metrics: leader status" sh -c "curl -sf http://127.0.0.1:$metrics_port/metrics | grep -q '^leader_election_master_status{name=\"example-controller-leader\"} 1'"

# 10 % of every API request fails with 500 (watches cut every 2 s too): everything still converges.
check "faults on: 10 % 500s, watch cuts" admin -X POST -d '{"errorRate":0.1,"watchCutSeconds":2}' "$server/admin/faults"
for i in $(seq 1 10); do greeting "g$i" "message $i"; echo ---; done >"$WORK/many.yaml"
# kubectl itself meets the 500s too: retry its apply until every object is accepted.
check "10 Greetings applied (through the faults)" wait_for 30 kubectl apply -f "$WORK/many.yaml"
for i in $(seq 1 10); do
  check "g$i converges under faults" wait_for 60 sh -c "test \"\$(kubectl -n demo get configmap g$i-greeting -o jsonpath='{.data.message}' 2>/dev/null)\" = 'message $i'"
done
injected=$(admin "$server/admin/faults")
check "faults off" admin -X POST -d '{}' "$server/admin/faults"
check "faults were really injected: $injected" sh -c "echo '$injected' | grep -qE '\"errors\":[1-9]'"
check "all Greetings Ready" kubectl -n demo wait --for=condition=Ready --timeout=30s greeting/g1 greeting/g5 greeting/g10

check "SIGTERM: graceful exit 0" sh -c "kill -TERM $CTRL_PID; for i in \$(seq 1 100); do kill -0 $CTRL_PID 2>/dev/null || exit 0; sleep 0.1; done; exit 1"
code=0; wait "$CTRL_PID" || code=$?
CTRL_PID=""
check "exit code 0" test "$code" = 0
check "the Lease is released" test -z "$(kubectl -n demo get lease example-controller-leader -o jsonpath='{.spec.holderIdentity}')"
echo "example controller e2e: $pass checks passed"
