#!/usr/bin/env bash
# Identities on the local node with real kubectl: TokenRequest (`kubectl create token`), the
# projected ServiceAccount volume and KUBERNETES_SERVICE_HOST/PORT, kubectl's own in-cluster config
# inside a pod, and the operator itself as a pod from the kustomize base (image name ->
# build/bin/servicedb-operator) reading its token and working on objects through kubernetes.default.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.sh"
require_root
start_cluster

check "kubectl create serviceaccount" k create serviceaccount robot
check "kubectl create token (TokenRequest)" bash -c "kubectl create token robot --duration=15m >$WORK/robot.token"
# RBAC: a ServiceAccount may do nothing until a binding says so (kubectl create role/rolebinding send
# protobuf, which the local cluster does not read for RBAC kinds: render and apply).
expect_fail "the token authenticates, and RBAC refuses what no binding grants" \
  'serviceaccounts "robot" is forbidden: User "system:serviceaccount:default:robot" cannot get resource "serviceaccounts" in API group "" in the namespace "default"' \
  bash -c "kubectl --token=\$(cat $WORK/robot.token) get sa robot"
check "a Role and RoleBinding for it" bash -c "{ kubectl create role sa-reader --verb=get --resource=serviceaccounts --dry-run=client -o yaml; echo ---; \
  kubectl create rolebinding robot-sa-reader --role=sa-reader --serviceaccount=default:robot --dry-run=client -o yaml; } | kubectl apply -f -"
check_eq "the token authenticates (kubectl --token)" "robot" bash -c "kubectl --token=\$(cat $WORK/robot.token) get sa robot -o jsonpath='{.metadata.name}'"
check_eq "and names its ServiceAccount in its claims" "system:serviceaccount:default:robot" bash -c \
  "cut -d. -f2 $WORK/robot.token | tr '_-' '/+' | base64 -d 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"sub\"])'"
expect_fail "a forged token is refused" 'Unauthorized' kubectl --token=eyJhbGciOiJIUzI1NiJ9.e30.AAAA get sa
check "deleting the ServiceAccount revokes its tokens" bash -c "kubectl delete sa robot && ! kubectl --token=\$(cat $WORK/robot.token) get sa 2>/dev/null"

# A pod: the projected volume, the environment, and kubectl with in-cluster config.
check "the default ServiceAccount may read pods (RBAC)" bash -c "{ kubectl create role pod-reader --verb=get,list --resource=pods --dry-run=client -o yaml; echo ---; \
  kubectl create rolebinding default-pod-reader --role=pod-reader --serviceaccount=default:default --dry-run=client -o yaml; } | kubectl apply -f -"
check "a pod that lists pods with its own token" bash -c "kubectl apply -f - <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: incluster}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: postgres:15
    command: [sh, -ec]
    args:
    - |
      ls /var/run/secrets/kubernetes.io/serviceaccount
      cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; echo
      echo host=\$KUBERNETES_SERVICE_HOST port=\$KUBERNETES_SERVICE_PORT
      curl -sS --cacert /var/run/secrets/kubernetes.io/serviceaccount/ca.crt \
        -H \"Authorization: Bearer \$(cat /var/run/secrets/kubernetes.io/serviceaccount/token)\" \
        https://kubernetes.default.svc/api/v1/namespaces/default/pods/incluster | grep -o '\"name\": *\"incluster\"' | head -1
      env -u KUBECONFIG kubectl get pods -o name
YAML"
check "it Succeeded" wait_phase incluster Succeeded 60
check "ca.crt, namespace and token are mounted" bash -c "kubectl logs incluster | head -4 | tr '\n' ' ' | grep -q '^ca.crt namespace token default '"
check "KUBERNETES_SERVICE_HOST is the kubernetes Service's clusterIP, port 443" bash -c \
  "kubectl logs incluster | grep -qx \"host=\$(kubectl get svc kubernetes -o jsonpath='{.spec.clusterIP}') port=443\""
check "curl with the token reached the API server by name over TLS" bash -c "kubectl logs incluster | grep -q '\"name\": *\"incluster\"'"
check "kubectl's in-cluster config lists pods" bash -c "kubectl logs incluster | grep -qx 'pod/incluster'"

# The operator as a pod, from the kustomize base (its Deployment's pod template).
check "CRDs and the operator's RBAC, ServiceAccount and namespace from the kustomize base" bash -c \
  "kubectl kustomize $SOURCE_DIR/charts/kustomize/base >$WORK/base.yaml && kubectl apply -f $WORK/base.yaml >/dev/null"
check "the operator pod, made from the Deployment's template" bash -c "python3 - $WORK/base.yaml <<'PY' | kubectl apply -f -
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d['kind'] == 'Deployment':
        t = d['spec']['template']
        args = [a for a in t['spec']['containers'][0]['args'] if not a.startswith('--log-format')]
        t['spec']['containers'][0]['args'] = args
        print(yaml.safe_dump({'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': 'servicedb-operator', 'namespace': d['metadata']['namespace'],
                              'labels': t['metadata']['labels']}, 'spec': t['spec']}))
PY"
check "it becomes Ready (httpGet /readyz on its named port, read-only root, uid 65532)" bash -c \
  "kubectl -n servicedb-system wait --for=condition=Ready pod/servicedb-operator --timeout=90s || { kubectl -n servicedb-system logs servicedb-operator | tail -20; exit 1; }"
check "a ServiceDatabase" bash -c "kubectl apply -f $SOURCE_DIR/crds/examples/servicedatabase-postgres-shared.yaml"
name=$(python3 -c "import yaml; print(yaml.safe_load(open('$SOURCE_DIR/crds/examples/servicedatabase-postgres-shared.yaml'))['metadata']['name'])")
check "the operator pod reads its token and reconciles it through kubernetes.default (it writes the status conditions)" bash -c \
  "for i in \$(seq 1 100); do [ -n \"\$(kubectl get sdb $name -o jsonpath='{.status.conditions[?(@.type==\"Stalled\")].reason}' 2>/dev/null)\" ] && exit 0; sleep 0.3; done; \
   kubectl -n servicedb-system logs servicedb-operator | tail -20; exit 1"
check "it holds the leader Lease in its own namespace (OPERATOR_NAMESPACE from fieldRef)" bash -c \
  "kubectl -n servicedb-system get lease -o name | grep -q servicedb-operator"
echo "$pass passed, 0 failed"
