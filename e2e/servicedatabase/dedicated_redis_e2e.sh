#!/usr/bin/env bash
# ServiceDatabase, Redis dedicated mode, end to end: the local cluster with its node (the instance is
# a real redis-server 7, NetworkPolicy enforced with nftables), the real `servicedb-operator run` on
# the host (admitted by --operator-cidrs, as the policy's ipBlock), real kubectl and redis-cli.
# - shop/cache (dedicated, service orders) starts its own instance and turns Ready (its readiness
#   probe is redis-cli as the admin over TLS); NetworkIsolated=True;
# - a one-shot pod of the owning service, with the Secret's uri and ca.crt, sets and reads a key
#   under its prefix; a foreign key, KEYS and FLUSHALL give NOPERM;
# - the instance listens on the TLS port only: no other listening socket in its network namespace,
#   and plain RESP to 6379 from the owning service's pod gets no answer;
# - a foreign service's pod cannot connect at all (the policy rejects it);
# - the instance pod deleted: the new one keeps the key and the service user (AOF, ACL file);
# - a new server certificate is served without a restart (CONFIG SET of the TLS files);
# - Delete removes the PVC; no password in the operator's log.
# Usage: dedicated_redis_e2e.sh SERVICEDB_OPERATOR
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
for ns in servicedb-system shop; do
  check "namespace $ns" sh -c "kubectl create namespace $ns --dry-run=client -o yaml | kubectl apply -f -"
done
"$OPERATOR" run --kubeconfig "$KUBECONFIG" --operator-namespace servicedb-system --leader-elect=false \
  --operator-cidrs "$(bridge_ip)/32" --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0 \
  >>"$WORK/operator.log" 2>&1 &
OP_PID=$!

check "kubectl apply shop/cache (redis, dedicated, Delete)" kubectl apply -f - <<'YAML'
apiVersion: servicedb.io/v1alpha1
kind: ServiceDatabase
metadata: {name: cache, namespace: shop}
spec: {service: orders, engine: redis, version: "7.0", storage: {size: 1Gi}, deletionPolicy: Delete}
YAML
check "shop/cache Ready" kubectl -n shop wait --for=condition=Ready sdb/cache --timeout=120s
check "its children exist" kubectl -n shop get statefulset/cache-redis service/cache-redis service/cache-redis-hl \
  configmap/cache-redis-config secret/cache-redis-superuser secret/cache-redis-acl secret/cache-redis-tls networkpolicy/cache-redis
check_eq "NetworkIsolated" True kubectl -n shop get sdb cache -o jsonpath='{.status.conditions[?(@.type=="NetworkIsolated")].status}'
check_eq "the endpoint is the Service's DNS name and the prefix" "cache-redis.shop.svc 6379 shop:cache:" \
  kubectl -n shop get sdb cache -o jsonpath='{.status.endpoint.host} {.status.endpoint.port} {.status.endpoint.database}'
check_eq "the init step (ACL file) completed and the server is ready" "acl:Completed redis:true" \
  kubectl -n shop get pod cache-redis-0 -o \
  jsonpath='{.status.initContainerStatuses[0].name}:{.status.initContainerStatuses[0].state.terminated.reason} {.status.containerStatuses[0].name}:{.status.containerStatuses[0].ready}'

secret_key() { kubectl -n shop get secret "$1" -o jsonpath="{.data.$2}" | base64 -d; }
secret_key cache-credentials 'ca\.crt' >"$WORK/ca.crt"
PASSWORD=$(secret_key cache-credentials password)
ADMIN_PASSWORD=$(secret_key cache-redis-superuser password)
check_eq "the Secret's uri" "rediss://shop.cache:$PASSWORD@cache-redis.shop.svc:6379" secret_key cache-credentials uri
SVCIP=$(kubectl -n shop get svc cache-redis -o jsonpath='{.spec.clusterIP}')
check "the served certificate verifies against ca.crt for the clusterIP" sh -c \
  "echo | openssl s_client -connect $SVCIP:6379 -CAfile '$WORK/ca.crt' -verify_ip $SVCIP -verify_return_error 2>&1 | grep -q 'Verify return code: 0'"

# A one-shot pod of the owning service: redis-cli inside the pod with the Secret's uri and ca.crt.
kubectl -n shop apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: cli-once, labels: {app.kubernetes.io/name: orders}}
spec:
  restartPolicy: Never
  securityContext: {runAsNonRoot: true, runAsUser: 999, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: cli
    image: redis:7
    command:
    - sh
    - -c
    - |
      c() { redis-cli --tls --cacert /bindings/cache/ca.crt -u "$REDIS_URL" --no-auth-warning "$@"; }
      # The node admits a new pod's address within a second of its start, as CNIs do: retry until then.
      for i in $(seq 1 50); do [ "$(c PING 2>/dev/null)" = PONG ] && break; sleep 0.2; done
      echo "set: $(c SET shop:cache:greeting hello)"
      echo "get: $(c GET shop:cache:greeting)"
      echo "foreign: $(c SET shop:billing:greeting hi)"
      echo "keys: $(c KEYS '*')"
      echo "flushall: $(c FLUSHALL)"
    env:
    - name: REDIS_URL
      valueFrom: {secretKeyRef: {name: cache-credentials, key: uri}}
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
    volumeMounts: [{name: cache, mountPath: /bindings/cache, readOnly: true}]
  volumes: [{name: cache, secret: {secretName: cache-credentials}}]
YAML
check "the one-shot pod of the owning service runs" wait_for 60 sh -c \
  "kubectl -n shop get pod cli-once -o jsonpath='{.status.phase}' | grep -qx Succeeded"
kubectl -n shop logs cli-once >"$WORK/cli.log"
cli_said() { sed -n "s/^$1: //p" "$WORK/cli.log"; }
check_eq "it sets a key under its prefix with the Secret's uri" OK cli_said set
check_eq "and reads it back" hello cli_said get
check "a foreign key gives NOPERM" sh -c "$(declare -f cli_said); WORK=$WORK cli_said foreign | grep -q '^NOPERM.*key'"
check "KEYS and FLUSHALL give NOPERM" sh -c "$(declare -f cli_said); WORK=$WORK; cli_said keys | grep -q '^NOPERM' && cli_said flushall | grep -q '^NOPERM'"

# Long-running client pods; connections start in their network namespaces (as node_netpol does).
kubectl apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: app, namespace: shop, labels: {app.kubernetes.io/name: orders}}
spec: {containers: [{name: sleep, image: redis:7, command: [sleep, infinity]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: foreign, namespace: shop, labels: {app.kubernetes.io/name: billing}}
spec: {containers: [{name: sleep, image: redis:7, command: [sleep, infinity]}]}
YAML
for p in app foreign; do check "shop/$p Ready" kubectl -n shop wait --for=condition=Ready "pod/$p" --timeout=60s; done
S=$(slot)
netns() { ip netns list | awk '{print $1}' | grep -- "^sdb$S-[0-9]*-shop\.$1\$"; }
cli_from() {  # cli_from POD ARGS...: redis-cli over TLS to the clusterIP as the app user
  local pod=$1; shift
  ip netns exec "$(netns "$pod")" timeout 10 redis-cli --tls --cacert "$WORK/ca.crt" -h "$SVCIP" -p 6379 \
    --user shop.cache --pass "$PASSWORD" --no-auth-warning "$@" 2>&1
}
check_eq "the owning service's pod reads the key over TLS" hello retry cli_from app GET shop:cache:greeting
check_eq "the instance listens on the TLS port only" "6379" sh -c \
  "ip netns exec $(netns cache-redis-0) ss -Hltn | awk '{print \$4}' | sed 's/.*://' | sort -u | tr '\n' ' ' | sed 's/ \$//'"
# Plain RESP with the right password: the TLS port answers nothing and closes the connection.
expect_fail "plain text from the owning service's pod gets no answer (no plain port)" "I/O error|closed|reset" \
  ip netns exec "$(netns app)" timeout 10 redis-cli -h "$SVCIP" -p 6379 --user shop.cache --pass "$PASSWORD" \
  --no-auth-warning PING
expect_fail "a foreign service's pod cannot connect at all" "Connection refused" \
  ip netns exec "$(netns foreign)" timeout 10 redis-cli --tls --cacert "$WORK/ca.crt" -h "$SVCIP" -p 6379 PING

# The instance pod restarted: the data (AOF) and the service user (ACL file) are kept.
uid0=$(kubectl -n shop get pod cache-redis-0 -o jsonpath='{.metadata.uid}')
check "delete the instance pod" kubectl -n shop delete pod cache-redis-0 --timeout=60s
check "a new pod becomes Ready" wait_for 60 sh -c \
  "kubectl -n shop get pod cache-redis-0 -o jsonpath='{.metadata.uid} {.status.containerStatuses[0].ready}' | grep -v '^$uid0 ' | grep -q ' true\$'"
# The Service follows the new pod's readiness a moment later (Endpoints, then every pod's table).
retry_20s() { for _ in $(seq 1 100); do "$@" 2>/dev/null && return 0; sleep 0.2; done; "$@"; }
# Retried on the answer, not the exit code: redis-cli may print "Connection refused" and still exit 0.
kept_hello() { [ "$(cli_from app GET shop:cache:greeting 2>&1)" = hello ]; }
check "the key and the app login survive the restart" retry_20s kept_hello

# A new server certificate is served without a restart.
served_serial() { echo | timeout 5 openssl s_client -connect "$SVCIP:6379" 2>/dev/null | openssl x509 -noout -serial; }
serial0=$(served_serial)
check "delete the TLS Secret (the operator issues a new certificate)" kubectl -n shop delete secret cache-redis-tls
check "the instance presents the new certificate" wait_for 60 sh -c "[ \"\$($(declare -f served_serial); SVCIP=$SVCIP served_serial)\" != '$serial0' ]"
check_eq "restartCount stays 0" 0 kubectl -n shop get pod cache-redis-0 -o jsonpath='{.status.containerStatuses[0].restartCount}'
check_eq "clients still verify it" hello retry cli_from app GET shop:cache:greeting

check "kubectl delete shop/cache (Delete)" kubectl -n shop delete sdb cache --timeout=60s
check "the PVC is deleted" wait_for 60 sh -c "! kubectl -n shop get pvc data-cache-redis-0"
kill -TERM "$OP_PID"; wait "$OP_PID" || true; OP_PID=""
check "no password in the operator's log" sh -c "! grep -qF -e '$PASSWORD' -e '$ADMIN_PASSWORD' '$WORK/operator.log'"
echo "dedicated redis e2e: $pass checks passed"
