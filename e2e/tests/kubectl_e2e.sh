#!/usr/bin/env bash
# The local cluster judged by real kubectl (one version per run): CRDs, validation, get/describe/
# explain, get -w, wait, finalizers, the other built-in kinds the operator makes, a cluster-scoped CRD
# with a category, restart with state kept (kill -9 and POST /admin/restart), and a clean stop (exit
# code 0) on SIGTERM. Usage: kubectl_e2e.sh KUBECTL_BINARY
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

# Built-in kinds the operator creates or reads, stored and read back (RBAC objects only stored here:
# the admin token may do everything).
cat >"$WORK/kinds.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-ingress}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {role: app}}}]
    ports: [{protocol: TCP, port: 5432}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: db}
spec: {maxUnavailable: 1, selector: {matchLabels: {app: db}}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get, list, watch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects: [{kind: ServiceAccount, name: default, namespace: default}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: sdb-e2e-viewer}
rules: [{apiGroups: [servicedb.io], resources: [servicedatabases], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: sdb-e2e-viewer}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: sdb-e2e-viewer}
subjects: [{kind: ServiceAccount, name: default, namespace: default}]
YAML
check "apply a NetworkPolicy, a PDB, a Role, a RoleBinding, a ClusterRole and a ClusterRoleBinding" k apply -f "$WORK/kinds.yaml"
check_eq "get networkpolicy reads its port back" 5432 k get networkpolicy db-ingress -o 'jsonpath={.spec.ingress[0].ports[0].port}'
check_eq "get pdb reads maxUnavailable back" 1 k get pdb db -o 'jsonpath={.spec.maxUnavailable}'
check_eq "get role reads its verbs back" "get list watch" k get role reader -o 'jsonpath={.rules[0].verbs[*]}'
check_eq "get rolebinding reads its roleRef back" reader k get rolebinding reader -o 'jsonpath={.roleRef.name}'
check_eq "get clusterrole (cluster-scoped)" "sdb-e2e-viewer " k get clusterrole sdb-e2e-viewer -o 'jsonpath={.metadata.name} {.metadata.namespace}'
check_eq "get clusterrolebinding reads its subject back" default k get clusterrolebinding sdb-e2e-viewer -o 'jsonpath={.subjects[0].name}'
check "get lists them by name" bash -c "'$KUBECTL_BIN' get networkpolicies,pdb,roles,rolebindings --no-headers -o name | LC_ALL=C sort | tr '\n' ' ' | grep -qx 'networkpolicy.networking.k8s.io/db-ingress poddisruptionbudget.policy/db role.rbac.authorization.k8s.io/reader rolebinding.rbac.authorization.k8s.io/reader '"

# A cluster-scoped CRD with a category: `get <category>` lists its objects.
cat >"$WORK/gadgets.yaml" <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.e2e.servicedb.io}
spec:
  group: e2e.servicedb.io
  scope: Cluster
  names: {kind: Gadget, plural: gadgets, singular: gadget, categories: [sdbgadgets]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
YAML
check "apply a cluster-scoped CRD with a category" k apply -f "$WORK/gadgets.yaml"
check "it becomes Established" k wait --for=condition=Established crd/gadgets.e2e.servicedb.io --timeout=20s
check "apply a cluster-scoped custom resource" bash -c "printf 'apiVersion: e2e.servicedb.io/v1\nkind: Gadget\nmetadata: {name: g1}\nspec: {size: 3}\n' | '$KUBECTL_BIN' apply -f -"
check_eq "get of the cluster-scoped custom resource (no namespace)" "g1  3" k get gadget g1 -o 'jsonpath={.metadata.name} {.metadata.namespace} {.spec.size}'
check "get gadgets (from any namespace context) lists it" bash -c "'$KUBECTL_BIN' get gadgets -n kube-system --no-headers | grep -q '^g1 '"
check_eq "get <category> lists its object" gadget.e2e.servicedb.io/g1 k get sdbgadgets -o name

# Restart after kill -9: every object is there, and resourceVersions keep rising.
rv_before=$(k get sdb payments -o jsonpath='{.metadata.resourceVersion}')
kill -9 "$LC_PID"; wait "$LC_PID" 2>/dev/null || true
start_cluster
check "state survives kill -9" k get sdb payments
check "the status too" bash -c "'$KUBECTL_BIN' get sdb payments -o jsonpath='{.status.phase}' | grep -qx Ready"
check "a write after the restart" k label sdb payments restarted=yes
rv_after=$(k get sdb payments -o jsonpath='{.metadata.resourceVersion}')
check "resourceVersion rose ($rv_before -> $rv_after)" test "$rv_after" -gt "$rv_before"

# Restart on demand (POST /admin/restart): connections and watches dropped, state kept.
server=$(k config view --raw -o 'jsonpath={.clusters[0].cluster.server}')
admin() { curl -sS --fail --cacert "$WORK/lc/ca.crt" -H "Authorization: Bearer $(cat "$WORK/lc/admin-token")" "$@"; }
watches_before=$(grep -c '"watch":"true"' "$WORK/lc/requests.log" || true)
k get sdb -w --output-watch-events >"$WORK/restart-watch.out" 2>&1 &
watch_pid=$!
for _ in $(seq 1 100); do  # until its watch request is in (the request log has a line once it streams)
  [ "$(grep -c '"watch":"true"' "$WORK/lc/requests.log" || true)" -gt "$watches_before" ] && break; sleep 0.1
done
check "get -w is watching" kill -0 $watch_pid
check "POST /admin/restart" admin -X POST "$server/admin/restart" -o "$WORK/restart.json"
check "it reports one restart" grep -q '"restarts":1' "$WORK/restart.json"
for _ in $(seq 1 50); do kill -0 $watch_pid 2>/dev/null || break; sleep 0.1; done
check "the restart ended the open get -w" bash -c "! kill -0 $watch_pid 2>/dev/null"
wait $watch_pid 2>/dev/null || true
check "state survives the restart action" bash -c "'$KUBECTL_BIN' get sdb payments -o jsonpath='{.metadata.labels.restarted}' | grep -qx yes"
check "a write after the restart action" k label sdb payments restarted-again=yes
rv_again=$(k get sdb payments -o jsonpath='{.metadata.resourceVersion}')
check "resourceVersion rose again ($rv_after -> $rv_again)" test "$rv_again" -gt "$rv_after"
stop_cluster
check "SIGTERM stopped the server cleanly" grep -q "stopping on signal 15" "$WORK/lc.log"
check_eq "with exit code 0" 0 echo "$LC_EXIT"
echo "$pass passed, 0 failed"
