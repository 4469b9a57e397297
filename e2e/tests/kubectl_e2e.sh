#!/usr/bin/env bash
# The local cluster judged by real kubectl (one version per run): CRDs, validation, get/describe/
# explain, get -w, wait, finalizers, restart with state kept. Usage: kubectl_e2e.sh KUBECTL_BINARY
KUBECTL_BIN=$1
source "$(dirname "$0")/lib.sh"
k() { "$KUBECTL_BIN" "$@"; }
start_cluster
version=$(k version -o json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["clientVersion"]["minor"])')
echo "kubectl minor $version against $(k version -o json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["serverVersion"]["gitVersion"])')"

check "apply our CRDs (validated with OpenAPI v3)" k apply -f "$SOURCE_DIR/crds/"
check "CRDs become Established" k wait --for=condition=Established crd --all --timeout=20s
check "api-resources lists the short names" bash -c "'$KUBECTL_BIN' api-resources --api-group=servicedb.io | grep -q '^servicedatabases *sdb'"
check "apply a valid ServiceDatabase" k apply -f "$SOURCE_DIR/crds/examples/servicedatabase-postgres-shared.yaml"
expect_fail "an invalid one is refused with its field path" 'spec.engine: Unsupported value: "mysql"' \
  bash -c "printf 'apiVersion: servicedb.io/v1alpha1\nkind: ServiceDatabase\nmetadata: {name: bad}\nspec: {service: orders, engine: mysql}\n' | '$KUBECTL_BIN' apply -f -"
expect_fail "an unknown field is refused (server-side strict validation)" 'unknown field "spec.colour"' \
  bash -c "printf 'apiVersion: servicedb.io/v1alpha1\nkind: ServiceDatabase\nmetadata: {name: typo}\nspec: {service: orders, engine: redis, colour: red}\n' | '$KUBECTL_BIN' apply -f -"
check "get shows the printer columns" bash -c "'$KUBECTL_BIN' get sdb | head -1 | grep -qE '^NAME +SERVICE +ENGINE +MODE +PHASE +READY +AGE'"
check "apply a minimal ServiceDatabase" bash -c "printf 'apiVersion: servicedb.io/v1alpha1\nkind: ServiceDatabase\nmetadata: {name: minimal}\nspec: {service: minimal, engine: postgres}\n' | '$KUBECTL_BIN' apply -f -"
check "get -o yaml shows the defaults" bash -c "'$KUBECTL_BIN' get sdb minimal -o yaml | grep -q 'deletionPolicy: Retain' && '$KUBECTL_BIN' get sdb minimal -o yaml | grep -q 'mode: dedicated'"
check "describe" bash -c "'$KUBECTL_BIN' describe sdb payments | grep -q 'Engine: *postgres'"
if [ "$version" -ge 28 ]; then  # kubectl 1.27 explains from OpenAPI v2; we serve v2 without definitions
  check "explain shows our descriptions" bash -c "'$KUBECTL_BIN' explain sdb.spec.deletionPolicy | grep -q 'ENUM:' && '$KUBECTL_BIN' explain sdb.spec.deletionPolicy | grep -q 'Snapshot'"
fi

# get -w sees a create while it runs.
k get sdb -w >"$WORK/watch.out" 2>&1 &
watch_pid=$!
sleep 1
check "apply while watching" k apply -f "$SOURCE_DIR/crds/examples/servicedatabase-redis-dedicated.yaml"
for _ in $(seq 1 50); do grep -q '^sessions ' "$WORK/watch.out" && break; sleep 0.1; done
kill $watch_pid 2>/dev/null || true
check "get -w printed the new object" grep -q '^sessions ' "$WORK/watch.out"

# wait --for=condition=Ready returns once the status says so.
k wait --for=condition=Ready sdb/payments --timeout=20s >"$WORK/wait.out" 2>&1 &
wait_pid=$!
sleep 1
check "status patch through the status subresource" k patch sdb payments --subresource=status --type=merge \
  -p '{"status":{"phase":"Ready","conditions":[{"type":"Ready","status":"True","reason":"Test","message":"set by the test","lastTransitionTime":"2026-11-25T00:00:00Z"}]}}'
check "wait --for=condition=Ready succeeds" wait $wait_pid
check "the Ready column shows True" bash -c "'$KUBECTL_BIN' get sdb payments --no-headers | grep -qE ' Ready +True '"

# delete with a finalizer pending: the object stays, with a deletionTimestamp, until it is removed.
check "add a finalizer" k patch sdb sessions --type=merge -p '{"metadata":{"finalizers":["servicedb.io/test"]}}'
check "delete returns at once" k delete sdb sessions --wait=false
check "the object stays with a deletionTimestamp" bash -c "[ -n \"\$('$KUBECTL_BIN' get sdb sessions -o jsonpath='{.metadata.deletionTimestamp}')\" ]"
check "removing the finalizer deletes it" k patch sdb sessions --type=json -p '[{"op":"remove","path":"/metadata/finalizers"}]'
expect_fail "it is gone" 'NotFound|not found' k get sdb sessions

# Restart after kill -9: every object is there, and resourceVersions keep rising.
rv_before=$(k get sdb payments -o jsonpath='{.metadata.resourceVersion}')
kill -9 "$LC_PID"; wait "$LC_PID" 2>/dev/null || true
start_cluster
check "state survives kill -9" k get sdb payments
check "the status too" bash -c "'$KUBECTL_BIN' get sdb payments -o jsonpath='{.status.phase}' | grep -qx Ready"
check "a write after the restart" k label sdb payments restarted=yes
rv_after=$(k get sdb payments -o jsonpath='{.metadata.resourceVersion}')
check "resourceVersion rose ($rv_before -> $rv_after)" test "$rv_after" -gt "$rv_before"
stop_cluster
check "SIGTERM stopped the server cleanly" grep -q "stopping on signal 15" "$WORK/lc.log"
echo "$pass passed, 0 failed"
