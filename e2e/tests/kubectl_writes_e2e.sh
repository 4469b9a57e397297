#!/usr/bin/env bash
# Writes as real kubectl makes them (one version per run): server-side apply with conflicts and
# --force-conflicts and field ownership; patch --type merge|json|strategic; client-side apply of
# updated built-in objects (strategic merge patches with directives); diff (server-side dry run);
# the update rules of built-in kinds (immutable fields, PVC resizing).
# Usage: kubectl_writes_e2e.sh KUBECTL_BINARY
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

# ------------------------------------------------------------------ patches
jp() { "$KUBECTL_BIN" get "$1" "$2" -o "jsonpath=$3"; }
names='{.spec.template.spec.containers[*].name}'
check "patch --type strategic merges containers by name" \
  k patch deploy web --type strategic -p '{"spec":{"template":{"spec":{"containers":[{"name":"extra","image":"x:1"}]}}}}'
check_eq "the new container joins the others" "extra app logger" jp deploy web "$names"
check "plain kubectl patch is strategic for built-ins" \
  k patch deploy web -p '{"spec":{"template":{"spec":{"containers":[{"name":"app","env":[{"name":"E","value":"1"}]}]}}}}'
check_eq "the patched container kept its image" "nginx:1|E" jp deploy web '{.spec.template.spec.containers[1].image}|{.spec.template.spec.containers[1].env[*].name}'
check "a \$patch: delete directive" \
  k patch deploy web --type strategic -p '{"spec":{"template":{"spec":{"containers":[{"name":"extra","$patch":"delete"}]}}}}'
check_eq "removes one container" "app logger" jp deploy web "$names"
check "patch --type merge" \
  k patch deploy web --type merge -p '{"spec":{"template":{"spec":{"containers":[{"name":"solo","image":"s:1"}]}}}}'
check_eq "replaces the list" "solo" jp deploy web "$names"
check "patch --type json" \
  k patch deploy web --type json -p '[{"op":"add","path":"/spec/template/spec/containers/-","value":{"name":"two","image":"t:1"}}]'
check_eq "adds by path" "solo two" jp deploy web "$names"
expect_fail "a strategic patch without the merge key is refused" 'does not contain declared merge key: name' \
  k patch deploy web --type strategic -p '{"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}}'
check "our CRDs and a custom resource" bash -c "'$KUBECTL_BIN' apply -f '$SOURCE_DIR/crds/' && '$KUBECTL_BIN' wait --for=condition=Established crd --all --timeout=20s && '$KUBECTL_BIN' apply -f '$SOURCE_DIR/crds/examples/servicedatabase-postgres-shared.yaml'"
expect_fail "a strategic merge patch of a custom resource is refused (415)" 'UnsupportedMediaType|unknown format|not supported' \
  k patch sdb payments --type strategic -p '{"spec":{"deletionPolicy":"Delete"}}'

# ------------------------------------------------------------------ client-side apply of updated built-ins
cat >"$WORK/csa.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: csa}
spec:
  replicas: 2
  selector: {matchLabels: {app: csa}}
  template:
    metadata: {labels: {app: csa}}
    spec:
      containers:
      - name: app
        image: nginx:1
        env: [{name: A, value: "1"}, {name: B, value: "2"}]
      - name: sidecar
        image: proxy:1
EOF
check "client-side apply creates" k apply -f "$WORK/csa.yaml"
check "someone else annotates the pod template" k patch deploy csa -p '{"spec":{"template":{"metadata":{"annotations":{"team":"x"}}}}}'
cat >"$WORK/csa2.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: csa}
spec:
  replicas: 3
  selector: {matchLabels: {app: csa}}
  template:
    metadata: {labels: {app: csa}}
    spec:
      containers:
      - name: logger
        image: log:1
      - name: app
        image: nginx:2
        env: [{name: A, value: "1"}]
EOF
check "kubectl diff (a server-side dry run) shows the update and exits 1" bash -c "
  '$KUBECTL_BIN' diff -f '$WORK/csa2.yaml' >'$WORK/diff.out'; rc=\$?; cat '$WORK/diff.out'
  [ \$rc = 1 ] && grep -q '^-  replicas: 2' '$WORK/diff.out' && grep -q '^+  replicas: 3' '$WORK/diff.out' && grep -q '^-.*proxy:1' '$WORK/diff.out'"
check_eq "diff changed nothing" "2" jp deploy csa '{.spec.replicas}'
check "client-side apply of the updated Deployment (a strategic patch with directives)" k apply -f "$WORK/csa2.yaml"
check_eq "sidecar and env B deleted, logger added, order kept, the annotation stays" "logger app|A|nginx:2|x|3" \
  jp deploy csa '{.spec.template.spec.containers[*].name}|{.spec.template.spec.containers[1].env[*].name}|{.spec.template.spec.containers[1].image}|{.spec.template.metadata.annotations.team}|{.spec.replicas}'
check "kubectl diff of the applied file is empty (exit 0)" k diff -f "$WORK/csa2.yaml"
cat >"$WORK/sts.yaml" <<'EOF'
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - name: pg
        image: postgres:15
        ports: [{containerPort: 5432, name: pg}]
        volumeMounts: [{name: data, mountPath: /data}, {name: wal, mountPath: /wal}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
EOF
check "client-side apply of a StatefulSet" k apply -f "$WORK/sts.yaml"
sed -e 's/postgres:15/postgres:16/' -e 's/replicas: 1/replicas: 2/' -e 's|, {name: wal, mountPath: /wal}||' "$WORK/sts.yaml" >"$WORK/sts2.yaml"
check "client-side apply of the updated StatefulSet" k apply -f "$WORK/sts2.yaml"
check_eq "new image and replicas, the dropped volumeMount gone" "postgres:16|2|/data" \
  jp sts db '{.spec.template.spec.containers[0].image}|{.spec.replicas}|{.spec.template.spec.containers[0].volumeMounts[*].mountPath}'

# ------------------------------------------------------------------ update rules of built-in kinds
expect_fail "a StatefulSet's serviceName is immutable" \
  "The StatefulSet \"db\" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden" \
  k patch sts db -p '{"spec":{"serviceName":"other"}}'
sed 's/storage: 1Gi/storage: 5Gi/' "$WORK/sts2.yaml" >"$WORK/sts3.yaml"
expect_fail "so are its volumeClaimTemplates, through apply" 'spec: Forbidden: updates to statefulset spec' k apply -f "$WORK/sts3.yaml"
cat >"$WORK/job.yaml" <<'EOF'
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: m, image: app:1}]
EOF
check "a Job" k apply -f "$WORK/job.yaml"
expect_fail "its template is immutable" 'The Job "migrate" is invalid: spec.template: Invalid value: .*: field is immutable' \
  bash -c "sed 's/app:1/app:2/' '$WORK/job.yaml' | '$KUBECTL_BIN' apply -f -"
expect_fail "its selector is immutable" 'The Job "migrate" is invalid: .*spec.selector: Invalid value: .*: field is immutable' \
  k patch job migrate --type=merge -p '{"spec":{"selector":{"matchLabels":{"batch.kubernetes.io/controller-uid":"other"}}}}'
check "a Service" bash -c "printf 'apiVersion: v1\nkind: Service\nmetadata: {name: svc}\nspec: {ports: [{port: 80}]}\n' | '$KUBECTL_BIN' apply -f -"
expect_fail "its clusterIP is immutable" 'spec.clusterIP: Invalid value: "198.19.255.1": field is immutable' \
  k patch svc svc -p '{"spec":{"clusterIP":"198.19.255.1"}}'
check "an immutable Secret" bash -c "printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\nimmutable: true\nstringData: {password: one}\n' | '$KUBECTL_BIN' apply -f -"
check_eq "stringData is stored as data" "b25l" jp secret creds '{.data.password}'
expect_fail "its data cannot change" 'data: Forbidden: field is immutable when `immutable` is set' \
  bash -c "printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\nimmutable: true\nstringData: {password: two}\n' | '$KUBECTL_BIN' apply -f -"
check "an immutable ConfigMap" bash -c "printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: frozen}\nimmutable: true\ndata: {a: b}\n' | '$KUBECTL_BIN' apply -f -"
expect_fail "its data cannot change" 'The ConfigMap "frozen" is invalid: data: Forbidden: field is immutable when `immutable` is set' \
  k patch cm frozen -p '{"data":{"a":"c"}}'
check "a StorageClass without expansion and a bound PVC" bash -c "printf 'apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: fixed}\nprovisioner: local\n---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\nspec: {storageClassName: fixed, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n' | '$KUBECTL_BIN' apply -f - && '$KUBECTL_BIN' patch pvc data --subresource=status --type=merge -p '{\"status\":{\"phase\":\"Bound\",\"capacity\":{\"storage\":\"1Gi\"}}}'"
expect_fail "the PVC cannot grow" 'persistentvolumeclaims "data" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize' \
  k patch pvc data -p '{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}'
expect_fail "nor shrink below its capacity" 'spec.resources.requests.storage: Forbidden: field can not be less than status.capacity' \
  k patch pvc data -p '{"spec":{"resources":{"requests":{"storage":"512Mi"}}}}'
check "the class allows expansion" k patch storageclass fixed -p '{"allowVolumeExpansion":true}'
check "then it grows" k patch pvc data -p '{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}'

stop_cluster
echo "$pass passed, 0 failed"
