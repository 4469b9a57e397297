#!/usr/bin/env bash
# The local node with real kubectl: postgres:15 pods with a PVC and Secret volumes become Ready;
# psql logs in through the Service's clusterIP from the host and over verify-full TLS from another
# pod by DNS name; the key-file rule bites without fsGroup; two pods both listen on 5432; deleting a
# pod kills its processes and a new one finds the same data; a killed process restarts; logs.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.sh"
require_root
start_cluster
export PGCONNECT_TIMEOUT=5

# TLS material from openssl (an outside tool): a CA and a server certificate for the Service's names.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=e2e-ca \
  -keyout "$WORK/ca.key" -out "$WORK/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=pg -keyout "$WORK/tls.key" -out "$WORK/tls.csr" 2>/dev/null
printf 'subjectAltName=DNS:pg,DNS:pg.default,DNS:pg.default.svc,DNS:pg.default.svc.cluster.local\n' >"$WORK/san.ext"
openssl x509 -req -in "$WORK/tls.csr" -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" -CAcreateserial -days 2 \
  -extfile "$WORK/san.ext" -out "$WORK/tls.crt" 2>/dev/null

check "kubectl create secret (a protobuf body from kubectl 1.32+)" k create secret generic pg-auth --from-literal=password=e2e-secret-pw
check "TLS secret" k create secret generic pg-tls --from-file=tls.crt="$WORK/tls.crt" --from-file=tls.key="$WORK/tls.key" --from-file=ca.crt="$WORK/ca.crt"
tls_pod() {  # tls_pod NAME FSGROUP(yes|no)
  postgres_pod "$1" "data-$1" pg | python3 -c '
import sys, yaml
pod = yaml.safe_load(sys.stdin)
spec = pod["spec"]
if sys.argv[1] == "no": del spec["securityContext"]
spec["hostname"] = pod["metadata"]["name"]; spec["subdomain"] = "pg-hl"
c = spec["containers"][0]
c["args"] = ["-c", "ssl=on", "-c", "ssl_cert_file=/etc/pgtls/tls.crt", "-c", "ssl_key_file=/etc/pgtls/tls.key"]
c["volumeMounts"].append({"name": "tls", "mountPath": "/etc/pgtls", "readOnly": True})
spec["volumes"].append({"name": "tls", "secret": {"secretName": "pg-tls", "defaultMode": 0o600}})
print(yaml.safe_dump(pod))' "$2"
}
check "PVCs" bash -c "{ $(declare -f claim); claim data-pg-0; echo ---; claim data-pg-1; echo ---; claim data-nofs; } | kubectl apply -f -"
check "Services: pg (clusterIP) and pg-hl (headless)" bash -c "kubectl apply -f - <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: pg}
spec: {selector: {app: pg}, ports: [{name: postgres, port: 5432, targetPort: postgres}]}
---
apiVersion: v1
kind: Service
metadata: {name: pg-hl}
spec: {clusterIP: None, selector: {app: pg}, ports: [{port: 5432}]}
YAML"
check "a postgres:15 pod with a PVC and Secret volumes" bash -c "$(declare -f postgres_pod tls_pod); tls_pod pg-0 yes | kubectl apply -f -"
check "it becomes Ready" wait_ready pg-0 90s
check "the Secret volume's key is root-owned and group-readable (fsGroup)" bash -c \
  "dir=\$(ls -d $WORK/lc/node/pods/\$(kubectl get pod pg-0 -o jsonpath='{.metadata.uid}')/volumes/secret/tls/..?*_*) && \
   [ \"\$(stat -c '%a %u %g' \$dir/tls.key)\" = '640 0 999' ]"
svc=$(k get svc pg -o jsonpath='{.spec.clusterIP}')
check "the clusterIP is in the cluster's range" bash -c "[[ $svc == 198.19.$(slot).* ]]"
check "psql from the host through the clusterIP (TLS required)" retry bash -c \
  "PGPASSWORD=e2e-secret-pw psql 'host=$svc user=postgres sslmode=require' -Atc 'create table kept(v text); insert into kept values (\$\$before\$\$)'"
check_eq "the server sees the host at the bridge address" "$(bridge_ip)" bash -c \
  "PGPASSWORD=e2e-secret-pw psql 'host=$svc user=postgres sslmode=require' -Atc 'select host(inet_client_addr())'"

# A client pod: psql by DNS name with verify-full, the short and the long name, and the
# StatefulSet-style pod name under the headless Service.
check "a client pod runs psql over verify-full TLS by DNS name and completes" bash -c "kubectl apply -f - <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  restartPolicy: Never
  containers:
  - name: psql
    image: postgres:15
    command: [sh, -ec]
    args:
    - |
      psql 'host=pg user=postgres sslmode=verify-full sslrootcert=/tls/ca.crt' -Atc 'select v from kept'
      psql 'host=pg.default.svc.cluster.local user=postgres sslmode=verify-full sslrootcert=/tls/ca.crt' -Atc 'select ssl from pg_stat_ssl where pid = pg_backend_pid()'
      getent hosts pg-0.pg-hl.default.svc.cluster.local
      psql 'host=pg user=postgres sslmode=require' -Atc 'select host(inet_client_addr())'
    env: [{name: PGPASSWORD, valueFrom: {secretKeyRef: {name: pg-auth, key: password}}}]
    volumeMounts: [{name: tls, mountPath: /tls}]
  volumes: [{name: tls, secret: {secretName: pg-tls, items: [{key: ca.crt, path: ca.crt}]}}]
YAML"
check "the client pod Succeeded" wait_phase client Succeeded 60
client_ip=$(k get pod client -o jsonpath='{.status.podIP}')
pg0_ip=$(k get pod pg-0 -o jsonpath='{.status.podIP}')
check "its log shows the row, TLS, the pod name's address and its own address as the server saw it" bash -c \
  "kubectl logs client >$WORK/client.log; grep -qx before $WORK/client.log && grep -qx t $WORK/client.log && \
   grep -q '^$pg0_ip .*pg-0.pg-hl.default.svc.cluster.local' $WORK/client.log && grep -qx '$client_ip' $WORK/client.log"

# PostgreSQL's key-file rule: without fsGroup the key (0600, root) is unreadable for uid 999.
check "a pod without fsGroup" bash -c "$(declare -f postgres_pod tls_pod); tls_pod nofs no | sed 's/claimName: data-nofs/claimName: data-nofs/' | kubectl apply -f -"
check "it never becomes Ready: postgres cannot read its key" bash -c \
  "pat='could not load (server certificate|private key) file \"/etc/pgtls/tls.(crt|key)\": Permission denied'; \
   for i in \$(seq 1 60); do { kubectl logs nofs; kubectl logs nofs --previous; } 2>/dev/null | grep -qE \"\$pat\" && exit 0; sleep 0.5; done; \
   kubectl logs nofs; exit 1"
check_eq "and stays not ready" "False" k get pod nofs -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}'
check "delete it" k delete pod nofs

# Two postgres pods on 5432 each, in their own network namespaces.
check "a second postgres pod" bash -c "$(declare -f postgres_pod tls_pod); tls_pod pg-1 yes | kubectl apply -f -"
check "it becomes Ready too" wait_ready pg-1 90s
pg1_ip=$(k get pod pg-1 -o jsonpath='{.status.podIP}')
check_eq "pg-0 answers on its address, port 5432" "$pg0_ip" bash -c "PGPASSWORD=e2e-secret-pw psql 'host=$pg0_ip user=postgres sslmode=require' -Atc 'select host(inet_server_addr())'"
check_eq "pg-1 answers on its address, port 5432" "$pg1_ip" bash -c "PGPASSWORD=e2e-secret-pw psql 'host=$pg1_ip user=postgres sslmode=require' -Atc 'select host(inet_server_addr())'"
check "both pods' postmasters are distinct processes, each in its own network namespace" bash -c \
  "a=\$(ip netns list | awk '{print \$1}' | grep -- '-pg-0$\|\.pg-0$'); b=\$(ip netns list | awk '{print \$1}' | grep -- '\.pg-1$'); \
   [ -n \"\$a\" ] && [ -n \"\$b\" ] && [ -n \"\$(ip netns pids \$a)\" ] && [ -n \"\$(ip netns pids \$b)\" ]"
check "the Service now balances over both" bash -c "nft list table ip sdb$(slot) | grep -qE 'dnat (ip )?to numgen random mod 2'"

# A killed process restarts, restartCount moves, --previous shows the earlier run.
ns0=$(ip netns list | awk '{print $1}' | grep -- '\.pg-0$')
# No PID namespace: postmaster.pid on the claim's directory names the host pid.
postmaster=$(head -1 "$WORK/lc/node/pvc/pvc-$(k get pvc data-pg-0 -o jsonpath='{.metadata.uid}')/pgdata/postmaster.pid")
check "kill -9 of pg-0's postmaster (pid $postmaster)" kill -9 "$postmaster"
check "restartCount becomes 1" bash -c "for i in \$(seq 1 50); do [ \"\$(kubectl get pod pg-0 -o jsonpath='{.status.containerStatuses[0].restartCount}')\" = 1 ] && exit 0; sleep 0.2; done; exit 1"
check "the pod is Ready again" bash -c "sleep 1; kubectl wait --for=condition=Ready pod/pg-0 --timeout=60s"
check_eq "lastState says how it ended" "137" k get pod pg-0 -o jsonpath='{.status.containerStatuses[0].lastState.terminated.exitCode}'
check "kubectl logs --previous shows the first run" bash -c "kubectl logs pg-0 --previous | grep -q 'PostgreSQL init process complete'"
check "kubectl logs shows the second" bash -c "kubectl logs pg-0 | grep -q 'Skipping initialization'"

# kubectl delete pod: graceful, the processes go; the same data comes back in a new pod.
pids=$(ip netns pids "$ns0" | tr '\n' ' ')
check "kubectl delete pod pg-0 waits for the node" k delete pod pg-0 --timeout=60s
check "none of its processes remain ($pids)" bash -c "for p in $pids; do ps -p \$p >/dev/null && { ps -fp \$p; exit 1; }; done; exit 0"
check "nor its network namespace" bash -c "! ip netns list | grep -q -- '\.pg-0$'"
check "a new pg-0 on the same claim" bash -c "$(declare -f postgres_pod tls_pod); tls_pod pg-0 yes | kubectl apply -f -"
check "becomes Ready" wait_ready pg-0 90s
check_eq "with the same data" "before" retry bash -c "PGPASSWORD=e2e-secret-pw psql 'host=$svc user=postgres sslmode=require' -Atc 'select v from kept' 2>/dev/null || PGPASSWORD=e2e-secret-pw psql 'host=$(k get pod pg-0 -o jsonpath='{.status.podIP}') user=postgres sslmode=require' -Atc 'select v from kept'"

# kubectl logs -f follows a container until it ends.
check "a pod that counts" bash -c "kubectl run counter --image=postgres:15 --restart=Never --command -- sh -c 'for i in 1 2 3 4 5; do echo line \$i; sleep 0.3; done'"
check "logs -f prints every line and returns when the container ends" bash -c \
  "for i in \$(seq 1 50); do kubectl get pod counter -o jsonpath='{.status.containerStatuses[0].state.running}' | grep -q startedAt && break; sleep 0.1; done; \
   timeout 20 kubectl logs -f counter >$WORK/follow.log && [ \"\$(grep -c '^line' $WORK/follow.log)\" = 5 ]"
echo "$pass passed, 0 failed"
