#!/usr/bin/env bash
# The chart's RBAC, checked: the real `servicedb-operator run` with a token for the chart's
# ServiceAccount (`kubectl create token`), against the local cluster that enforces RBAC, in both
# watch-scope modes (all namespaces: a ClusterRole; watchNamespaces: a Role per namespace). Each mode
# runs a shared-mode PostgreSQL ServiceDatabase to Ready and deletes it, with zero 403s for the
# operator's user in DIR/audit.log, and the audit log has the expected lines. Then one rule is taken
# out of the rendered role (secrets): the same scenario fails with a 403 naming it. Last, Pod Security
# admission: a privileged pod is refused in a namespace labelled enforce=restricted with kube's
# message, a compliant one is admitted, and a privileged Deployment gets a warning and FailedCreate.
# Usage: rbac_e2e.sh SERVICEDB_OPERATOR SDB_TEST_POSTGRES HELM_RENDER
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
OPERATOR=${1:?usage: $0 servicedb-operator sdb-test-postgres helm-render}
PGFX=${2:?usage: $0 servicedb-operator sdb-test-postgres helm-render}
HELM_RENDER=${3:?usage: $0 servicedb-operator sdb-test-postgres helm-render}
if [ ! -x "$HELM_RENDER" ]; then echo "SKIP: $HELM_RENDER not built (needs go; target helm_render)"; exit 77; fi
python3 -c 'import yaml' 2>/dev/null || { echo "SKIP: python3-yaml missing"; exit 77; }
LC_FLAGS="--node=false"
source "$here/../tests/lib.sh"
source "$here/operator_lib.sh"
SA_USER=system:serviceaccount:servicedb-system:servicedb-operator
# audit QUERY: the operator's audit lines as "verb resource/subresource ns name code", filtered by grep -E QUERY.
audit() {
  python3 - "$WORK/lc/audit.log" "$SA_USER" "${2:-0}" <<'PY' | grep -E -- "$1"
import json, sys
path, user, skip = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i, line in enumerate(open(path)):
    if i < skip: continue
    e = json.loads(line)
    if e["user"]["username"] != user: continue
    r = e.get("objectRef", {})
    res = r.get("resource", e["requestURI"]) + ("/" + r["subresource"] if r.get("subresource") else "")
    print(e["verb"], res, r.get("namespace", "-"), r.get("name", "-"), e["responseStatus"]["code"],
          e["responseStatus"].get("message", ""))
PY
}
count() { { audit "$1" "${2:-0}" || true; } | wc -l; }

"$PGFX" --env-file "$WORK/pg.env" >"$WORK/pg.out" 2>&1 &
PG_PID=$!
wait_for 30 test -f "$WORK/pg.env" || { cat "$WORK/pg.out"; exit 1; }
source "$WORK/pg.env"
start_cluster
t0=$SECONDS
check "apply the CRDs" kubectl apply -f "$SOURCE_DIR/crds/"
check "CRDs established" kubectl wait --for=condition=Established crd --all --timeout=20s
for ns in servicedb-system a b c; do
  check "namespace $ns" sh -c "kubectl create namespace $ns --dry-run=client -o yaml | kubectl apply -f -"
done
for ns in a b c; do
  kubectl -n "$ns" create secret generic pg-admin --dry-run=client -o yaml \
    --from-literal=host="$PGFX_HOST" --from-literal=port="$PGFX_PORT" \
    --from-literal=username="$PGFX_ADMIN_USER" --from-literal=password="$PGFX_ADMIN_PASSWORD" \
    --from-literal=sslmode=verify-full --from-file=ca.crt="$PGFX_CA" | kubectl apply -f - >/dev/null
done

# render OUT [helm args...]: the chart's ServiceAccount and RBAC objects only.
render() {
  local out=$1; shift
  "$HELM_RENDER" --namespace servicedb-system "$@" "$SOURCE_DIR/charts/servicedb-operator" | python3 -c '
import sys, yaml
keep = {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}
docs = [d for d in yaml.safe_load_all(sys.stdin) if d and d["kind"] in keep]
for d in docs: d["metadata"].setdefault("namespace", "servicedb-system") if d["kind"] in ("ServiceAccount", "Role", "RoleBinding") else None
print(yaml.safe_dump_all(docs))' >"$out"
}
# A kubeconfig like the admin's, with the ServiceAccount's token instead.
token_kubeconfig() {
  kubectl -n servicedb-system create token servicedb-operator --duration=1h >"$WORK/sa.token"
  python3 - "$KUBECONFIG" "$WORK/sa.token" >"$WORK/sa.kubeconfig" <<'PY'
import sys, yaml
k = yaml.safe_load(open(sys.argv[1]))
for u in k["users"]: u["user"] = {"token": open(sys.argv[2]).read().strip()}
print(yaml.safe_dump(k))
PY
}
sdb() {  # sdb NAMESPACE
  printf 'apiVersion: servicedb.io/v1alpha1\nkind: ServiceDatabase\nmetadata: {name: orders, namespace: %s}\nspec: {service: orders, engine: postgres, mode: shared, sharedServer: {adminSecretRef: {name: pg-admin}}, deletionPolicy: Delete}\n' "$1"
}
start_operator() {  # start_operator [--watch-namespaces NS]
  "$OPERATOR" run --kubeconfig "$WORK/sa.kubeconfig" --operator-namespace servicedb-system "$@" \
    --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0 >>"$WORK/operator.log" 2>&1 &
  OP_PID=$!
}
stop_operator() {
  kill -TERM "$OP_PID"; local code=0; wait "$OP_PID" || code=$?; OP_PID=""
  return "$code"
}

# allowed_by REASON FROM: some audit line after FROM carries kube's authorization reason REASON.
allowed_by() {
  python3 - "$WORK/lc/audit.log" "$1" "$2" <<'PY'
import json, sys
lines = open(sys.argv[1]).readlines()[int(sys.argv[3]):]
sys.exit(0 if any(json.loads(l).get("annotations", {}).get("authorization.k8s.io/reason") == sys.argv[2] for l in lines) else 1)
PY
}
# scenario MODE NS BINDING [operator flags]: Ready, then deleted, with zero 403s, allowed by BINDING.
scenario() {
  local mode=$1 ns=$2 binding=$3; shift 3
  local from; from=$(wc -l <"$WORK/lc/audit.log")
  token_kubeconfig
  start_operator "$@"
  check "$mode: $ns/orders applied" sh -c "$(declare -f sdb); sdb $ns | kubectl apply -f -"
  check "$mode: $ns/orders Ready" kubectl -n "$ns" wait --for=condition=Ready servicedatabase/orders --timeout=60s
  check "$mode: $ns/orders deleted (finalizer ran)" kubectl -n "$ns" delete sdb orders --timeout=60s
  check "$mode: SIGTERM, exit 0" stop_operator
  check_eq "$mode: zero 403s for $SA_USER" 0 count ' 403 ' "$from"
  check "$mode: the operator made requests as its ServiceAccount" test "$(count . "$from")" -gt 10
  check "$mode: the credentials Secret applied (SSA patch, 200/201)" sh -c "$(declare -f audit count); SA_USER=$SA_USER WORK=$WORK audit '^patch secrets $ns orders-credentials 20[01]' $from"
  check "$mode: ServiceDatabase status written through /status" sh -c "$(declare -f audit count); SA_USER=$SA_USER WORK=$WORK audit '^(update|patch) servicedatabases/status $ns orders 200' $from"
  check "$mode: watches logged when they start" sh -c "$(declare -f audit count); SA_USER=$SA_USER WORK=$WORK audit '^watch servicedatabases ' $from"
  check "$mode: the leader Lease" sh -c "$(declare -f audit count); SA_USER=$SA_USER WORK=$WORK audit '^(create|update) leases servicedb-system ' $from"
  check "$mode: the audit log names the binding that allowed it" allowed_by "RBAC: allowed by $binding" "$from"
  echo "     $mode: $(count . "$from") audit lines for the operator, $(($(wc -l <"$WORK/lc/audit.log") - from)) in all"
  audit . "$from" | awk '{print $1, $2, $5}' | sort | uniq -c | sed 's/^/       /'

}

# 1. All namespaces: one ClusterRole.
render "$WORK/rbac-cluster.yaml"
check "chart RBAC (all namespaces) applied" kubectl apply -f "$WORK/rbac-cluster.yaml"
scenario "all namespaces" a \
  'ClusterRoleBinding "servicedb-operator" of ClusterRole "servicedb-operator" to ServiceAccount "servicedb-operator/servicedb-system"'
check "the ClusterRoleBinding removed" kubectl delete clusterrolebinding servicedb-operator
expect_fail "without it, the token may not list ServiceDatabases" \
  "servicedatabases.servicedb.io is forbidden: User \"$SA_USER\" cannot list resource \"servicedatabases\" in API group \"servicedb.io\" at the cluster scope" \
  kubectl --kubeconfig "$WORK/sa.kubeconfig" get sdb -A

# 2. watchNamespaces: a Role in b, cluster-scoped reads in a ClusterRole.
render "$WORK/rbac-ns.yaml" --set "watchNamespaces={b}"
check "chart RBAC (watchNamespaces=b) applied" kubectl apply -f "$WORK/rbac-ns.yaml"
scenario "watchNamespaces" b \
  'RoleBinding "servicedb-operator/b" of Role "servicedb-operator" to ServiceAccount "servicedb-operator/servicedb-system"' \
  --watch-namespaces b
expect_fail "the Role does not reach namespace c" \
  "secrets \"pg-admin\" is forbidden: User \"$SA_USER\" cannot get resource \"secrets\" in API group \"\" in the namespace \"c\"" \
  kubectl --kubeconfig "$WORK/sa.kubeconfig" -n c get secret pg-admin

# 3. One rule less: secrets out of the namespaced Role; the scenario fails with a 403 naming it.
python3 - "$WORK/rbac-ns.yaml" >"$WORK/rbac-less.yaml" <<'PY'
import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
for d in docs:
    if d and d["kind"] == "Role" and d["metadata"]["namespace"] == "b":
        for r in d["rules"]:
            r["resources"] = [x for x in r["resources"] if x != "secrets"]
print(yaml.safe_dump_all([d for d in docs if d]))
PY
check "the Role without secrets applied" kubectl apply -f "$WORK/rbac-less.yaml"
from=$(wc -l <"$WORK/lc/audit.log")
token_kubeconfig
start_operator --watch-namespaces b
check "b/orders applied again" sh -c "$(declare -f sdb); sdb b | kubectl apply -f -"
expect_fail "b/orders does not become Ready" "timed out" kubectl -n b wait --for=condition=Ready servicedatabase/orders --timeout=15s
check "the audit log has 403s naming secrets" sh -c "$(declare -f audit count); SA_USER=$SA_USER WORK=$WORK audit ' secrets b .* 403 secrets.* is forbidden: User \"$SA_USER\" cannot [a-z]+ resource \"secrets\" in API group \"\" in the namespace \"b\"' $from"
audit ' 403 ' "$from" | sort | uniq -c | sed 's/^/     /' | head -5
check "the operator's log names it" grep -qE 'cannot [a-z]+ resource [\\]?"secrets[\\]?"' "$WORK/operator.log"
stop_operator || true
kubectl apply -f "$WORK/rbac-ns.yaml" >/dev/null
kubectl -n b patch sdb orders --type merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1 || true

# 4. Pod Security admission.
check "namespace restricted, enforce=restricted" sh -c \
  "kubectl create namespace restricted --dry-run=client -o yaml | kubectl label --local -f - pod-security.kubernetes.io/enforce=restricted -o yaml | kubectl apply -f -"
pod() {  # pod NAME PRIVILEGED
  if [ "$2" = true ]; then
    printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: restricted}\nspec:\n  containers:\n  - {name: c, image: postgres:15, securityContext: {privileged: true}}\n' "$1"
  else
    printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: restricted}\nspec:\n  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n  containers:\n  - {name: c, image: postgres:15, securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}\n' "$1"
  fi
}
expect_fail "a privileged pod is refused with kube's message" \
  'pods "priv" is forbidden: violates PodSecurity "restricted:latest": privileged \(container "c" must not set securityContext.privileged=true\), allowPrivilegeEscalation != false \(container "c" must set securityContext.allowPrivilegeEscalation=false\), unrestricted capabilities \(container "c" must set securityContext.capabilities.drop=\["ALL"\]\), runAsNonRoot != true \(pod or container "c" must set securityContext.runAsNonRoot=true\), seccompProfile \(pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"\)' \
  sh -c "$(declare -f pod); pod priv true | kubectl apply -f -"
check "a compliant pod is admitted" sh -c "$(declare -f pod); pod fine false | kubectl apply -f -"
check "a privileged Deployment is stored, with kube's warning" sh -c "kubectl -n restricted create deployment priv --image=postgres:15 --dry-run=client -o json \
  | python3 -c 'import json,sys; d=json.load(sys.stdin); d[\"spec\"][\"template\"][\"spec\"][\"containers\"][0][\"securityContext\"]={\"privileged\":True}; print(json.dumps(d))' \
  | kubectl apply -f - 2>&1 | grep -q 'Warning: would violate PodSecurity \"restricted:latest\": privileged'"
check "its ReplicaSet records FailedCreate with the enforce message" wait_for 20 sh -c \
  "kubectl -n restricted get events --field-selector reason=FailedCreate -o jsonpath='{.items[*].message}' | grep -q 'violates PodSecurity \"restricted:latest\": privileged'"
echo "rbac e2e: $pass checks passed in $((SECONDS - t0)) s; audit.log has $(wc -l <"$WORK/lc/audit.log") lines"
