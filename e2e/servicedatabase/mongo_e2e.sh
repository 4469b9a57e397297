#!/usr/bin/env bash
# ServiceDatabase, MongoDB dedicated mode, end to end on the local cluster: what can be checked where
# no mongod can run. The local node answers `mongo:*` with ErrImagePull (e2e/README.md, image table),
# so the instance never starts; the operator must say so instead of hanging:
# - the real `servicedb-operator run` on the host, real kubectl;
# - shop/reviews (engine mongodb, dedicated, Delete) gets its children: the StatefulSet running
#   mongo:7.0 with --tlsMode requireTLS, the Services, the superuser Secret, the TLS Secret with
#   tls.pem, the NetworkPolicy (NetworkIsolated=True);
# - within 60 s: Ready=False with reason ImageNotRunnable, the message naming the pod and why;
# - kubectl delete (deletionPolicy Delete) finishes: the finalizer goes, the PVC and children with it;
# - no superuser password in the operator's log.
# Usage: mongo_e2e.sh SERVICEDB_OPERATOR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../tests/lib.sh"
source "$here/../tests/node_lib.sh"
require_root
OPERATOR=${1:?usage: $0 servicedb-operator}
source "$here/operator_lib.sh"

start_cluster
check "apply the CRDs" kubectl apply -f "$SOURCE_DIR/crds/"
check "CRDs established" kubectl wait --for=condition=Established crd --all --timeout=20s
for ns in servicedb-system shop; do check "namespace $ns" kubectl create namespace "$ns"; done
"$OPERATOR" run --kubeconfig "$KUBECONFIG" --operator-namespace servicedb-system --leader-elect=false \
  --operator-cidrs "$(bridge_ip)/32" --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0 \
  >>"$WORK/operator.log" 2>&1 &
OP_PID=$!

check "kubectl apply shop/reviews (mongodb, dedicated, Delete)" kubectl apply -f - <<'YAML'
apiVersion: servicedb.io/v1alpha1
kind: ServiceDatabase
metadata: {name: reviews, namespace: shop}
spec: {service: reviews, engine: mongodb, version: "7.0", storage: {size: 1Gi}, deletionPolicy: Delete}
YAML
start=$SECONDS
check "Ready=False with reason ImageNotRunnable within 60 s" kubectl -n shop wait sdb/reviews --timeout=60s \
  --for=jsonpath='{.status.conditions[?(@.type=="Ready")].reason}'=ImageNotRunnable
echo "     (after $((SECONDS - start)) s)"
cond() { kubectl -n shop get sdb reviews -o jsonpath="{.status.conditions[?(@.type==\"$1\")].$2}"; }
check_eq "Ready is False" False cond Ready status
check_eq "Stalled is False (the operator keeps looking)" False cond Stalled status
message=$(cond Ready message)
echo "     message: $message"
check "the message names the pod" grep -qF 'pod "reviews-mongodb-0"' <<<"$message"
check "and says why (the image cannot be pulled here)" grep -qE '(ErrImagePull|ImagePullBackOff).*mongo:7\.0.*not available on the local node' <<<"$message"
check_eq "status.phase" Pending kubectl -n shop get sdb reviews -o jsonpath='{.status.phase}'

check "its children exist" kubectl -n shop get statefulset/reviews-mongodb service/reviews-mongodb service/reviews-mongodb-hl \
  secret/reviews-mongodb-superuser secret/reviews-mongodb-tls networkpolicy/reviews-mongodb pvc/data-reviews-mongodb-0
check_eq "the pod runs mongo:7.0" mongo:7.0 kubectl -n shop get pod reviews-mongodb-0 -o jsonpath='{.spec.containers[0].image}'
check "mongod requires TLS with tls.pem, SCRAM-SHA-256 only" sh -c \
  "kubectl -n shop get statefulset reviews-mongodb -o jsonpath='{.spec.template.spec.containers[0].args}' |
   grep -F '\"--tlsMode\",\"requireTLS\",\"--tlsCertificateKeyFile\",\"/tls/tls.pem\"' | grep -qF 'authenticationMechanisms=SCRAM-SHA-256'"
check "the TLS Secret holds tls.pem = tls.crt + tls.key" sh -c \
  "s=\$(kubectl -n shop get secret reviews-mongodb-tls -o json);
   [ \"\$(echo \"\$s\" | jq -r '.data[\"tls.pem\"]' | base64 -d | sha256sum)\" = \
     \"\$( (echo \"\$s\" | jq -r '.data[\"tls.crt\"]' | base64 -d; echo \"\$s\" | jq -r '.data[\"tls.key\"]' | base64 -d) | sha256sum)\" ]"
check_eq "the superuser is root" root sh -c "kubectl -n shop get secret reviews-mongodb-superuser -o jsonpath='{.data.username}' | base64 -d"
check_eq "NetworkIsolated" True cond NetworkIsolated status
check "no credentials Secret before a server accepts them" sh -c "! kubectl -n shop get secret reviews-credentials"
SUPERUSER_PASSWORD=$(kubectl -n shop get secret reviews-mongodb-superuser -o jsonpath='{.data.password}' | base64 -d)

start=$SECONDS
check "kubectl delete shop/reviews (Delete) finishes" kubectl -n shop delete sdb reviews --timeout=30s
echo "     (after $((SECONDS - start)) s)"
check "the PVC is deleted" wait_for 20 sh -c "! kubectl -n shop get pvc data-reviews-mongodb-0"
check "the StatefulSet and the superuser Secret go with their owner" wait_for 20 sh -c \
  "! kubectl -n shop get statefulset/reviews-mongodb && ! kubectl -n shop get secret/reviews-mongodb-superuser"

kill -TERM "$OP_PID"; wait "$OP_PID" || true; OP_PID=""
check "the operator logged (so the next check means something)" test -s "$WORK/operator.log"
check "no superuser password in the operator's log" sh -c "! grep -qF -- '$SUPERUSER_PASSWORD' '$WORK/operator.log'"
echo "mongo e2e: $pass checks passed"
