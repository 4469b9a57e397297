# Shared by the node's e2e suites (source after lib.sh): root check, manifests, waiting.
# The node needs root (namespaces, veth, bridge, nftables, mounts); without it a suite says so and
# ctest reports it skipped (exit 77, SKIP_RETURN_CODE).
require_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "SKIP: the local node needs root (network namespaces, veth, bridge, nftables, mounts); this run is not root"
    exit 77
  fi
}

k() { kubectl "$@"; }

# The cluster's slot, bridge and names, as the node recorded them.
slot() { cat "$WORK/lc/node/slot"; }
bridge_ip() { echo "198.18.$(slot).1"; }

wait_ready() {  # wait_ready POD [timeout]
  kubectl wait --for=condition=Ready "pod/$1" --timeout="${2:-60s}"
}

wait_phase() {  # wait_phase POD PHASE [seconds]
  local pod=$1 want=$2 limit=${3:-60} got=""
  for _ in $(seq 1 $((limit * 5))); do
    got=$(kubectl get pod "$pod" -o jsonpath='{.status.phase}' 2>/dev/null || true)
    [ "$got" = "$want" ] && return 0
    sleep 0.2
  done
  echo "pod $pod is $got, not $want"; kubectl get pod "$pod" -o yaml | sed -n '/^status:/,$p'; return 1
}

wait_waiting_reason() {  # wait_waiting_reason POD REASON [seconds]
  local pod=$1 want=$2 limit=${3:-30} got=""
  for _ in $(seq 1 $((limit * 5))); do
    got=$(kubectl get pod "$pod" -o jsonpath='{.status.containerStatuses[0].state.waiting.reason}' 2>/dev/null || true)
    [ "$got" = "$want" ] && return 0
    sleep 0.2
  done
  echo "pod $pod waits with '$got', not '$want'"; kubectl get pod "$pod" -o yaml | sed -n '/^status:/,$p'; return 1
}

# A postgres:15 pod with a password from a Secret and data on a PVC; extra volumes/args optional.
postgres_pod() {  # postgres_pod NAME CLAIM [LABEL]
  cat <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $1
  labels: {app: ${3:-$1}}
spec:
  securityContext: {fsGroup: 999}
  containers:
  - name: postgres
    image: postgres:15
    env:
    - name: POSTGRES_PASSWORD
      valueFrom: {secretKeyRef: {name: pg-auth, key: password}}
    - {name: PGDATA, value: /var/lib/postgresql/data/pgdata}
    ports: [{name: postgres, containerPort: 5432}]
    readinessProbe:
      exec: {command: [pg_isready, -h, 127.0.0.1, -U, postgres]}
      periodSeconds: 1
    volumeMounts:
    - {name: data, mountPath: /var/lib/postgresql/data}
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: $2}
YAML
}

claim() {  # claim NAME
  printf 'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: %s}\nspec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n' "$1"
}

# Services follow readiness a moment after it is reported (as kube-proxy does): connections retry.
retry() {  # retry COMMAND...: up to 5 s
  for _ in $(seq 1 25); do "$@" 2>/dev/null && return 0; sleep 0.2; done
  "$@"
}
