#!/usr/bin/env bash
# Workload controllers and the node together, with real kubectl: what the operator creates must run.
# - a StatefulSet of postgres:15 with a volumeClaimTemplate and a Secret volume turns Ready; psql by
#   the pod's stable DNS name; deleting the pod makes the controller recreate it, with the same data;
# - a StatefulSet of redis:7 answers PING through its Service;
# - a Job whose pod runs psql completes (kubectl wait --for=condition=complete) and its logs are
#   readable (kubectl logs job/...);
# - kubectl create job --from=cronjob/... runs its pod on the node to completion.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.sh"
require_root
start_cluster
export PGCONNECT_TIMEOUT=5

check "Secret pg-auth" bash -c "kubectl create secret generic pg-auth --from-literal=password=e2e-sts-pw --dry-run=client -o yaml | kubectl apply -f -"
check "Services db (clusterIP) and db-hl (headless)" bash -c "kubectl apply -f - <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: db}
spec: {selector: {app: db}, ports: [{name: postgres, port: 5432, targetPort: postgres}]}
---
apiVersion: v1
kind: Service
metadata: {name: db-hl}
spec: {clusterIP: None, selector: {app: db}, ports: [{port: 5432}]}
YAML"
check "a StatefulSet of postgres:15 with a volumeClaimTemplate and a Secret volume" bash -c "kubectl apply -f - <<'YAML'
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db-hl
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      securityContext: {fsGroup: 999}
      containers:
      - name: postgres
        image: postgres:15
        env:
        - name: POSTGRES_PASSWORD_FILE
          value: /etc/pgauth/password
        - {name: POSTGRES_USER, value: shop}
        - {name: POSTGRES_DB, value: shop}
        - {name: PGDATA, value: /var/lib/postgresql/data/pgdata}
        ports: [{name: postgres, containerPort: 5432}]
        readinessProbe:
          exec: {command: [pg_isready, -h, 127.0.0.1, -U, shop, -d, shop]}
          periodSeconds: 1
        volumeMounts:
        - {name: data, mountPath: /var/lib/postgresql/data}
        - {name: auth, mountPath: /etc/pgauth, readOnly: true}
      volumes:
      - name: auth
        secret: {secretName: pg-auth}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
YAML"
check "the controller made pod db-0 and claim data-db-0" retry bash -c "kubectl get pod db-0 && kubectl get pvc data-db-0"
check "db-0 becomes Ready" wait_ready db-0 120s
check "kubectl rollout status" kubectl rollout status statefulset/db --timeout=60s
uid0=$(kubectl get pod db-0 -o jsonpath='{.metadata.uid}')
svc=$(kubectl get svc db -o jsonpath='{.spec.clusterIP}')
pg_host() { PGPASSWORD=e2e-sts-pw psql "host=$svc user=shop dbname=shop" -X -Atc "$1"; }
check "psql from the host through the clusterIP (POSTGRES_USER, POSTGRES_DB, POSTGRES_PASSWORD_FILE)" retry bash -c \
  "$(declare -f pg_host); svc=$svc pg_host 'create table kept(v text); insert into kept values (\$\$before\$\$)'"

# A Job whose pod runs psql against the StatefulSet pod's stable DNS name.
psql_job() {  # psql_job NAME SQL
  cat <<YAML
apiVersion: batch/v1
kind: Job
metadata: {name: $1}
spec:
  backoffLimit: 2
  template:
    metadata: {labels: {app.kubernetes.io/name: shop-report}}
    spec:
      restartPolicy: Never
      containers:
      - name: psql
        image: postgres:15
        command: [psql, "host=db-0.db-hl.default.svc.cluster.local user=shop dbname=shop", -X, -At, -c, "$2"]
        env:
        - name: PGPASSWORD
          valueFrom: {secretKeyRef: {name: pg-auth, key: password}}
YAML
}
check "a Job running psql" bash -c "$(declare -f psql_job); psql_job report 'select v from kept' | kubectl apply -f -"
check "kubectl wait --for=condition=complete job/report" kubectl wait --for=condition=complete job/report --timeout=90s
check_eq "kubectl logs job/report shows the query's result" "before" kubectl logs job/report
check_eq "the Job counts one success" "1" kubectl get job report -o jsonpath='{.status.succeeded}'

# Deleting the pod: the StatefulSet controller recreates it, with the same claim and data.
check "kubectl delete pod db-0" kubectl delete pod db-0 --timeout=60s
check "the controller recreates db-0 (a new uid)" retry bash -c \
  "u=\$(kubectl get pod db-0 -o jsonpath='{.metadata.uid}') && [ -n \"\$u\" ] && [ \"\$u\" != $uid0 ]"
check "the new db-0 becomes Ready" wait_ready db-0 120s
check_eq "the data is still there" "before" retry bash -c "$(declare -f pg_host); svc=$svc pg_host 'select v from kept'"

# A StatefulSet of redis:7 answers PING through its Service.
check "a StatefulSet of redis:7 and its Service" bash -c "kubectl apply -f - <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: cache}
spec: {selector: {app: cache}, ports: [{name: redis, port: 6379, targetPort: redis}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: cache}
spec:
  serviceName: cache
  replicas: 1
  selector: {matchLabels: {app: cache}}
  template:
    metadata: {labels: {app: cache}}
    spec:
      containers:
      - name: redis
        image: redis:7
        args: [--save, '', --appendonly, 'no']
        ports: [{name: redis, containerPort: 6379}]
        readinessProbe:
          tcpSocket: {port: redis}
          periodSeconds: 1
YAML"
check "cache-0 becomes Ready" bash -c "$(declare -f retry); retry kubectl get pod cache-0 && kubectl wait --for=condition=Ready pod/cache-0 --timeout=60s"
cache=$(kubectl get svc cache -o jsonpath='{.spec.clusterIP}')
check_eq "redis-cli PING through the Service" "PONG" retry redis-cli -h "$cache" -p 6379 PING

# kubectl create job --from=cronjob: the Job's pod runs on the node.
check "a CronJob (suspended, so only the manual run happens)" bash -c "kubectl apply -f - <<'YAML'
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: '0 3 * * *'
  timeZone: Europe/Berlin
  suspend: true
  jobTemplate:
    spec:
      backoffLimit: 1
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: count
            image: postgres:15
            command: [psql, 'host=db user=shop dbname=shop', -X, -At, -c, 'select count(*) from kept']
            env:
            - name: PGPASSWORD
              valueFrom: {secretKeyRef: {name: pg-auth, key: password}}
YAML"
check "kubectl create job --from=cronjob/nightly" kubectl create job manual-1 --from=cronjob/nightly
check "kubectl wait --for=condition=complete job/manual-1" kubectl wait --for=condition=complete job/manual-1 --timeout=90s
check_eq "its pod ran on the node and printed the count" "1" kubectl logs job/manual-1
check_eq "the Job is owned by the CronJob" "CronJob/nightly" kubectl get job manual-1 \
  -o jsonpath='{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}'
echo "node workloads e2e: $pass checks passed"
