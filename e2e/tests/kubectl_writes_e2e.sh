#!/usr/bin/env bash
# Writes as real kubectl makes them (one version per run): server-side apply with conflicts and
# --force-conflicts, field ownership. Usage: kubectl_writes_e2e.sh KUBECTL_BINARY
KUBECTL_BIN=$1
source "$(dirname "$0")/lib.sh"
k() { "$KUBECTL_BIN" "$@"; }
kj() { "$KUBECTL_BIN" get "$@" -o json; }
py() { /usr/bin/python3 -c "$@"; }
start_cluster
echo "kubectl $(k version -o json | py 'import json,sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"])')"

# ------------------------------------------------------------------ server-side apply
cat >"$WORK/cm.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: ssa
  labels: {test-label: test}
data:
  key: some value
  other: kept
EOF
check "apply --server-side creates" k apply --server-side -f "$WORK/cm.yaml"
check "managedFields name kubectl's Apply and its fields" bash -c "'$KUBECTL_BIN' get cm ssa -o json --show-managed-fields | /usr/bin/python3 -c '
import json,sys
m=json.load(sys.stdin)[\"metadata\"][\"managedFields\"]
assert [(e[\"manager\"],e[\"operation\"]) for e in m]==[(\"kubectl\",\"Apply\")], m
assert m[0][\"fieldsV1\"]=={\"f:data\":{\"f:key\":{},\"f:other\":{}},\"f:metadata\":{\"f:labels\":{\"f:test-label\":{}}}}, m'"
sed 's/some value/changed/' "$WORK/cm.yaml" | grep -v other >"$WORK/cm-other.yaml"
expect_fail "another manager's different value is a conflict" \
  'Apply failed with 1 conflict: conflict with "kubectl": .data.key' \
  k apply --server-side --field-manager=team-b -f "$WORK/cm-other.yaml"
check "the conflict changed nothing" bash -c "[ \"\$('$KUBECTL_BIN' get cm ssa -o jsonpath='{.data.key}')\" = 'some value' ]"
check "--force-conflicts takes the field over" k apply --server-side --field-manager=team-b --force-conflicts -f "$WORK/cm-other.yaml"
check "team-b owns .data.key now, kubectl does not" bash -c "'$KUBECTL_BIN' get cm ssa -o json --show-managed-fields | /usr/bin/python3 -c '
import json,sys
o=json.load(sys.stdin)
assert o[\"data\"][\"key\"]==\"changed\", o[\"data\"]
m={e[\"manager\"]:e[\"fieldsV1\"] for e in o[\"metadata\"][\"managedFields\"]}
assert \"f:key\" in m[\"team-b\"][\"f:data\"] and \"f:key\" not in m[\"kubectl\"][\"f:data\"], m'"
grep -v "other: kept" "$WORK/cm.yaml" | sed 's/some value/changed/' >"$WORK/cm-less.yaml"
check "kubectl stops applying .data.other" k apply --server-side -f "$WORK/cm-less.yaml"
check "a field nobody applies any more is removed" bash -c "[ -z \"\$('$KUBECTL_BIN' get cm ssa -o jsonpath='{.data.other}')\" ]"
check "a field another manager applies stays" bash -c "[ \"\$('$KUBECTL_BIN' get cm ssa -o jsonpath='{.data.key}')\" = changed ]"
expect_fail "several conflicts are listed per manager (both share .data.key now)" 'Apply failed with 4 conflicts: conflicts with "kubectl":' \
  bash -c "printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa, labels: {test-label: x}}\ndata: {key: y}\n' | '$KUBECTL_BIN' apply --server-side --field-manager=team-c -f -"
check "apply --server-side --dry-run=server stores nothing" bash -c "printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {dry: run}\n' | '$KUBECTL_BIN' apply --server-side --field-manager=team-d --dry-run=server -f - && [ -z \"\$('$KUBECTL_BIN' get cm ssa -o jsonpath='{.data.dry}')\" ]"

# A Deployment: list items owned by key, pruned when no longer applied.
cat >"$WORK/dep.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: nginx:1
        ports: [{containerPort: 80}]
      - name: sidecar
        image: proxy:1
EOF
check "apply a Deployment server-side" k apply --server-side -f "$WORK/dep.yaml"
check "another manager adds a container by SSA" bash -c "printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {template: {spec: {containers: [{name: logger, image: log:1}]}}}\n' | '$KUBECTL_BIN' apply --server-side --field-manager=injector -f -"
grep -v "sidecar\|proxy:1" "$WORK/dep.yaml" >"$WORK/dep-less.yaml"
check "kubectl drops its sidecar" k apply --server-side -f "$WORK/dep-less.yaml"
check "containers merge by name: app and logger remain" bash -c "[ \"\$('$KUBECTL_BIN' get deploy web -o jsonpath='{.spec.template.spec.containers[*].name}')\" = 'app logger' ]"
expect_fail "replicas owned by kubectl conflict for a scaler" 'conflict with "kubectl": .spec.replicas' \
  bash -c "printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 5}\n' | '$KUBECTL_BIN' apply --server-side --field-manager=scaler -f -"

stop_cluster
echo "$pass passed, 0 failed"
