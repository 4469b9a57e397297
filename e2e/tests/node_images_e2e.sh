#!/usr/bin/env bash
# The node's image table and pod spec with real kubectl: redis:7 answers PING through its Service
# from the host and from a pod; postgres:16 and mongo:7 fail with their stated reasons; runAsNonRoot
# against the image's root user; a liveness probe restarts its container; a ConfigMap volume is
# updated in place through the ..data swap; a psql "job" pod completes and its logs stay readable.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.sh"
require_root
start_cluster

check "a redis:7 pod and its Service" bash -c "kubectl apply -f - <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: redis-0, labels: {app: redis}}
spec:
  containers:
  - name: redis
    image: redis:7
    args: [--appendonly, 'yes']
    ports: [{name: redis, containerPort: 6379}]
    readinessProbe: {tcpSocket: {port: redis}, periodSeconds: 1}
    volumeMounts: [{name: data, mountPath: /data}]
  volumes: [{name: data, emptyDir: {}}]
---
apiVersion: v1
kind: Service
metadata: {name: redis}
spec: {selector: {app: redis}, ports: [{port: 6379, targetPort: redis}]}
YAML"
check "it becomes Ready (tcpSocket probe)" wait_ready redis-0 60s
rsvc=$(k get svc redis -o jsonpath='{.spec.clusterIP}')
check_eq "PING through the clusterIP from the host" "PONG" retry redis-cli -h "$rsvc" ping
check_eq "the args reached redis-server" "appendonly yes" bash -c "redis-cli -h $rsvc config get appendonly | tr '\n' ' ' | sed 's/ \$//'"
check_eq "it runs as the image's redis user (999), not root" "999" bash -c \
  "ps -o uid= -p \$(ip netns pids \$(ip netns list | awk '{print \$1}' | grep -- '\.redis-0\$') | head -1) | tr -d ' '"
check "PING from another pod by Service name (redis-cli in the redis image)" bash -c \
  "kubectl run ping --image=redis:7 --restart=Never --command -- redis-cli -h redis ping && for i in \$(seq 1 50); do \
   [ \"\$(kubectl get pod ping -o jsonpath='{.status.phase}')\" = Succeeded ] && break; sleep 0.2; done; kubectl logs ping | grep -qx PONG"

# Images the node cannot run say why, and never run something else instead.
check "postgres:16 and mongo:7 pods" bash -c "kubectl run pg16 --image=postgres:16 && kubectl run mongo --image=mongo:7"
check "postgres:16 waits with ErrImagePull" wait_waiting_reason pg16 ErrImagePull
check "naming the major version" bash -c "kubectl get pod pg16 -o jsonpath='{.status.containerStatuses[0].state.waiting.message}' | grep -q 'only PostgreSQL 15 is installed'"
check "mongo:7 waits with ErrImagePull" wait_waiting_reason mongo ErrImagePull
check "because there is no mongod" bash -c "kubectl get pod mongo -o jsonpath='{.status.containerStatuses[0].state.waiting.message}' | grep -q 'there is no mongod'"
check "kubectl get pods shows the reasons" bash -c "kubectl get pods pg16 mongo --no-headers | awk '{print \$3}' | sort -u | grep -qx ErrImagePull"
check "the Failed event says so too" bash -c "kubectl get events --field-selector involvedObject.name=pg16,reason=Failed -o jsonpath='{.items[*].message}' | grep -q 'only PostgreSQL 15'"
check_eq "and nothing was started for them" "" bash -c "ip netns pids \$(ip netns list | awk '{print \$1}' | grep -- '\.pg16\$') 2>/dev/null"

# runAsNonRoot is checked against the image's default user.
check "a postgres:15 pod with runAsNonRoot and no runAsUser" bash -c \
  "kubectl run nonroot --image=postgres:15 --overrides='{\"spec\":{\"securityContext\":{\"runAsNonRoot\":true}}}'"
check "is refused: CreateContainerConfigError" wait_waiting_reason nonroot CreateContainerConfigError
check "with the kubelet's message" bash -c "kubectl get pod nonroot -o jsonpath='{.status.containerStatuses[0].state.waiting.message}' | grep -q 'container has runAsNonRoot and image will run as root'"

# A liveness probe that fails restarts the container.
check "a pod whose liveness probe fails after a while" bash -c "kubectl apply -f - <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: live}
spec:
  containers:
  - name: c
    image: postgres:15
    command: [sh, -c, 'touch /tmp/alive; sleep 2; rm /tmp/alive; sleep 600']
    livenessProbe: {exec: {command: [test, -f, /tmp/alive]}, periodSeconds: 1, failureThreshold: 2}
YAML"
check "restartCount moves" bash -c "for i in \$(seq 1 100); do [ \"\$(kubectl get pod live -o jsonpath='{.status.containerStatuses[0].restartCount}')\" -ge 1 ] && exit 0; sleep 0.2; done; exit 1"
check "the Unhealthy event names the probe" bash -c "kubectl get events --field-selector involvedObject.name=live,reason=Unhealthy -o jsonpath='{.items[*].message}' | grep -q 'Liveness probe failed'"

# A ConfigMap volume follows updates (the ..data swap), an env var does not.
check "a ConfigMap and a pod that reads it from a volume" bash -c "kubectl create configmap settings --from-literal=mode=slow && kubectl apply -f - <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: reader}
spec:
  containers:
  - name: c
    image: postgres:15
    command: [sh, -c, 'while true; do echo \"file=\$(cat /cfg/mode) env=\$MODE\"; sleep 0.3; done']
    env: [{name: MODE, valueFrom: {configMapKeyRef: {name: settings, key: mode}}}]
    volumeMounts: [{name: cfg, mountPath: /cfg}]
  volumes: [{name: cfg, configMap: {name: settings}}]
YAML"
check "it runs" wait_ready reader 60s
check "update the ConfigMap" bash -c "kubectl create configmap settings --from-literal=mode=fast --dry-run=client -o yaml | kubectl apply -f -"
check "the file changes in the running container, the environment does not" bash -c \
  "for i in \$(seq 1 50); do kubectl logs reader --tail=1 | grep -qx 'file=fast env=slow' && exit 0; sleep 0.2; done; kubectl logs reader --tail=3; exit 1"

# A one-shot psql pod (what a Job's pod is) completes; its logs stay readable.
check "a postgres server and a psql pod that queries it once" bash -c "kubectl create secret generic pg-auth --from-literal=password=pw && \
  { $(declare -f claim postgres_pod); claim data-db; echo ---; postgres_pod db data-db; } | kubectl apply -f - && \
  kubectl expose pod db --port=5432 --name=db"
check "the server is Ready" wait_ready db 90s
check "the psql pod" bash -c "kubectl run once --image=postgres:15 --restart=Never --env=PGPASSWORD=pw --command -- psql -h db -U postgres -Atc 'select 40 + 2'"
check "completes (Succeeded, exit code 0)" wait_phase once Succeeded 60
check_eq "its logs are readable after it ended" "42" kubectl logs once
check_eq "Completed in kubectl get" "Completed" bash -c "kubectl get pod once --no-headers | awk '{print \$3}'"

# Init containers run first, one by one; their work is there for the containers.
check "a pod with two init containers and an emptyDir" bash -c "kubectl apply -f - <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: inits}
spec:
  initContainers:
  - {name: first, image: postgres:15, command: [sh, -c, 'sleep 1; echo one > /work/steps'], volumeMounts: [{name: work, mountPath: /work}]}
  - {name: second, image: postgres:15, command: [sh, -c, 'echo two >> /work/steps'], volumeMounts: [{name: work, mountPath: /work}]}
  containers:
  - {name: main, image: postgres:15, workingDir: /work, command: [sh, -c, 'cat steps; echo cwd=\$(pwd); sleep 600'], volumeMounts: [{name: work, mountPath: /work}]}
  volumes: [{name: work, emptyDir: {}}]
YAML"
check "kubectl shows it initializing (Init:0/2)" bash -c "for i in \$(seq 1 25); do kubectl get pod inits --no-headers | grep -q 'Init:0/2' && exit 0; sleep 0.1; done; exit 1"
check "then Running" wait_ready inits 60s
check_eq "the containers saw the init containers' work, in order, in their workingDir" "one two cwd=/work" bash -c "kubectl logs inits | tr '\n' ' ' | sed 's/ \$//'"
check_eq "both init containers completed" "Completed Completed" k get pod inits -o jsonpath='{.status.initContainerStatuses[*].state.terminated.reason}'

# A container that keeps failing backs off.
check "a container that exits 1 at once" bash -c "kubectl run crasher --image=postgres:15 --command -- sh -c 'echo failing; exit 1'"
check "waits in CrashLoopBackOff after its first restart" wait_waiting_reason crasher CrashLoopBackOff 30
check "with the back-off in its message" bash -c "kubectl get pod crasher -o jsonpath='{.status.containerStatuses[0].state.waiting.message}' | grep -q '^back-off 10s restarting failed container=crasher pod=crasher_default('"
check_eq "and its last exit recorded" "1 Error" bash -c "kubectl get pod crasher -o jsonpath='{.status.containerStatuses[0].lastState.terminated.exitCode} {.status.containerStatuses[0].lastState.terminated.reason}'"
echo "$pass passed, 0 failed"
