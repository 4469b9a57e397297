#!/usr/bin/env bash
# The workload controllers judged by real kubectl (one version per run), with no kubelet: pods stay
# Pending until the test writes their status through the status subresource, as a kubelet would.
# StatefulSet pods, claims, owners and order; recreation; Endpoints; rollout status; scaling;
# `create job --from=cronjob`; `wait --for=condition=complete`; Deployments; a restart.
# Usage: workloads_e2e.sh KUBECTL_BINARY
KUBECTL_BIN=$1
source "$(dirname "$0")/lib.sh"
k() { "$KUBECTL_BIN" "$@"; }
LC_FLAGS="--no-cronjob-schedules --node=false"  # the control plane alone: the test plays the kubelet
# With no kubelet, pods deleted gracefully would stay Terminating for ever (as on a node that is gone).
# This loop plays the node's part: it confirms every termination, as a kubelet does with grace 0.
finish_terminating_pods() {
  while kill -0 "$LC_PID" 2>/dev/null; do
    for p in $(k get pods -o jsonpath='{range .items[?(@.metadata.deletionTimestamp)]}{.metadata.name}{" "}{end}' 2>/dev/null); do
      k delete pod "$p" --grace-period=0 --force --wait=false >/dev/null 2>&1 || true
    done
    sleep 0.5
  done
}
start_cluster
finish_terminating_pods &
jp() { k get "$1" -o jsonpath="$2"; }
# The kubelet's part: Running and Ready with an address.
ready() {
  k patch pod "$1" --subresource=status --type=merge -p \
    "{\"status\":{\"phase\":\"Running\",\"podIP\":\"$2\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"2024-01-01T00:00:00Z\"}]}}"
}
until_true() {  # until_true SECONDS command...: polls until the command succeeds
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do [ $SECONDS -ge $deadline ] && return 1; sleep 0.1; done
}

check "a fresh cluster has the default StorageClass" bash -c "[ \"\$('$KUBECTL_BIN' get sc standard -o jsonpath='{.metadata.annotations.storageclass\.kubernetes\.io/is-default-class}/{.allowVolumeExpansion}')\" = true/true ]"
cat >"$WORK/sts.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{name: pg, port: 5432, targetPort: pg}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: postgres, image: "postgres:15", ports: [{name: pg, containerPort: 5432}]}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
EOF
check "apply a StatefulSet and its headless Service" k apply -f "$WORK/sts.yaml"
check "pod db-0 appears" until_true 20 k get pod db-0
check "db-0 is labelled as a member" bash -c "[ \"\$('$KUBECTL_BIN' get pods -l statefulset.kubernetes.io/pod-name=db-0,apps.kubernetes.io/pod-index=0 -o name)\" = pod/db-0 ]"
check "db-0 is controlled by the StatefulSet" bash -c "[ \"\$('$KUBECTL_BIN' get pod db-0 -o jsonpath='{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].controller}')\" = StatefulSet/db/true ]"
check "db-0 has its identity (hostname, subdomain)" bash -c "[ \"\$('$KUBECTL_BIN' get pod db-0 -o jsonpath='{.spec.hostname}.{.spec.subdomain}')\" = db-0.db ]"
check "db-0 is scheduled on the node" until_true 20 bash -c "[ \"\$('$KUBECTL_BIN' get pod db-0 -o jsonpath='{.spec.nodeName}')\" = servicedb-node ]"
check "db-0 carries the revision hash" bash -c "'$KUBECTL_BIN' get pod db-0 -o jsonpath='{.metadata.labels.controller-revision-hash}' | grep -q '^db-'"
check "claim data-db-0 is Bound with 1Gi" until_true 20 bash -c "[ \"\$('$KUBECTL_BIN' get pvc data-db-0 -o jsonpath='{.status.phase}/{.status.capacity.storage}')\" = Bound/1Gi ]"
check "the claim is not owned by the pod" bash -c "[ -z \"\$('$KUBECTL_BIN' get pvc data-db-0 -o jsonpath='{.metadata.ownerReferences}')\" ]"
check "db-0 mounts its claim" bash -c "[ \"\$('$KUBECTL_BIN' get pod db-0 -o jsonpath='{.spec.volumes[0].persistentVolumeClaim.claimName}')\" = data-db-0 ]"
expect_fail "db-1 waits for db-0 to be Ready (OrderedReady)" 'NotFound|not found' k get pod db-1
check "db-0 becomes Running and Ready (status subresource)" ready db-0 198.18.0.10
check "then db-1 appears" until_true 20 k get pod db-1
check "Endpoints list db-0 with its hostname" until_true 20 bash -c "[ \"\$('$KUBECTL_BIN' get endpoints db -o jsonpath='{.subsets[0].addresses[0].ip}/{.subsets[0].addresses[0].hostname}/{.subsets[0].ports[0].port}')\" = 198.18.0.10/db-0/5432 ]"
check "db-1 becomes Ready" ready db-1 198.18.0.11
check "rollout status completes" k rollout status sts/db --timeout=30s
check "status shows 2 ready replicas" bash -c "[ \"\$('$KUBECTL_BIN' get sts db -o jsonpath='{.status.readyReplicas}/{.status.currentReplicas}/{.status.updatedReplicas}')\" = 2/2/2 ]"
check "Endpoints list both pods" until_true 20 bash -c "[ \"\$('$KUBECTL_BIN' get endpoints db -o jsonpath='{.subsets[0].addresses[*].ip}')\" = '198.18.0.10 198.18.0.11' ]"
check "rollout history lists the revision" bash -c "'$KUBECTL_BIN' rollout history sts/db | grep -qE '^1 '"
uid=$(jp pod/db-1 '{.metadata.uid}')
check "delete pod db-1" k delete pod db-1 --grace-period=0 --force --wait=false  # no kubelet: the test ends the pod
check "db-1 is recreated (a new uid)" until_true 20 bash -c "u=\$('$KUBECTL_BIN' get pod db-1 -o jsonpath='{.metadata.uid}') && [ -n \"\$u\" ] && [ \"\$u\" != '$uid' ]"
check "the recreated db-1 is not ready, so Endpoints list it as not ready or not at all" until_true 20 bash -c "[ \"\$('$KUBECTL_BIN' get endpoints db -o jsonpath='{.subsets[0].addresses[*].ip}')\" = 198.18.0.10 ]"
check "scale down to 1" k patch sts db --type=merge -p '{"spec":{"replicas":1}}'
# The controller deletes db-1 gracefully; with no kubelet the test confirms the termination, as a node would.
check "db-1 is terminating" until_true 20 bash -c "[ -n \"\$('$KUBECTL_BIN' get pod db-1 -o jsonpath='{.metadata.deletionTimestamp}' 2>/dev/null)\" ] || ! '$KUBECTL_BIN' get pod db-1"
k delete pod db-1 --grace-period=0 --force --wait=false >/dev/null 2>&1 || true
check "db-1 goes, its claim stays (Retain)" until_true 20 bash -c "! '$KUBECTL_BIN' get pod db-1 && '$KUBECTL_BIN' get pvc data-db-1"
check "a template change rolls out from the top" k patch sts db --type=merge -p '{"spec":{"template":{"metadata":{"annotations":{"rev":"2"}}}}}'
check "db-0 is replaced at the new revision" until_true 20 bash -c "[ \"\$('$KUBECTL_BIN' get pod db-0 -o jsonpath='{.metadata.labels.controller-revision-hash}')\" = \"\$('$KUBECTL_BIN' get sts db -o jsonpath='{.status.updateRevision}')\" ]"

# Jobs and CronJobs.
cat >"$WORK/cron.yaml" <<'EOF'
apiVersion: batch/v1
kind: CronJob
metadata: {name: backup}
spec:
  schedule: "0 3 * * *"
  timeZone: Europe/Berlin
  jobTemplate:
    metadata: {labels: {app: backup}}
    spec:
      backoffLimit: 2
      template:
        spec:
          restartPolicy: Never
          containers: [{name: dump, image: "postgres:15", command: [pg_dump, --version]}]
EOF
check "apply a CronJob in a time zone" k apply -f "$WORK/cron.yaml"
expect_fail "an unknown time zone is refused" 'spec.timeZone: Invalid value: "Mars/Base": unknown time zone Mars/Base' \
  bash -c "sed 's#Europe/Berlin#Mars/Base#; s#name: backup#name: bad#' '$WORK/cron.yaml' | '$KUBECTL_BIN' apply -f -"
expect_fail "an invalid schedule is refused" 'spec.schedule: Invalid value: "61 \* \* \* \*"' \
  bash -c "sed 's#0 3 \\* \\* \\*#61 * * * *#; s#name: backup#name: bad#' '$WORK/cron.yaml' | '$KUBECTL_BIN' apply -f -"
minor=$(k version -o json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["clientVersion"]["minor"])')
# kubectl 1.32 and later send typed create requests as protobuf (client-go's default for built-in
# kinds since 1.32), which the local cluster does not decode yet (e2e/README.md). For them the same
# Job, built by kubectl itself, goes in as JSON.
create_from() {  # create_from JOB FROM
  if [ "$minor" -lt 32 ]; then k create job "$1" --from="$2"; else
    echo "note: kubectl 1.$minor sends protobuf; creating kubectl's own Job object as JSON instead"
    k create job "$1" --from="$2" --dry-run=client -o json | k create -f -
  fi
}
check "create job --from=cronjob" create_from manual cronjob/backup
check "the Job is controlled by the CronJob" bash -c "[ \"\$('$KUBECTL_BIN' get job manual -o jsonpath='{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}')\" = CronJob/backup ]"
check "the Job got its generated selector" bash -c "'$KUBECTL_BIN' get job manual -o jsonpath='{.spec.selector.matchLabels}' | grep -q controller-uid"
check "the Job has a pod" until_true 20 bash -c "[ -n \"\$('$KUBECTL_BIN' get pods -l job-name=manual -o name)\" ]"
pod=$(k get pods -l job-name=manual -o jsonpath='{.items[0].metadata.name}')
check "the pod is named after the Job" bash -c "echo '$pod' | grep -qE '^manual-[a-z0-9]{5}$'"
check "status shows it active" until_true 20 bash -c "[ \"\$('$KUBECTL_BIN' get job manual -o jsonpath='{.status.active}')\" = 1 ]"
k wait --for=condition=complete job/manual --timeout=30s >"$WORK/wait.out" 2>&1 &
wait_pid=$!
check "the pod succeeds (status subresource)" k patch pod "$pod" --subresource=status --type=merge -p '{"status":{"phase":"Succeeded"}}'
check "wait --for=condition=complete returns" wait $wait_pid
check "the Job counts one success" bash -c "[ \"\$('$KUBECTL_BIN' get job manual -o jsonpath='{.status.succeeded}/{.status.active}')\" = 1/0 ]"
if [ "$(jp job/manual '{.metadata.ownerReferences[0].controller}')" = true ]; then
  check "the CronJob reports the manual Job" until_true 20 bash -c "'$KUBECTL_BIN' get events --field-selector involvedObject.name=backup,reason=UnexpectedJob -o name | grep -q ."
else
  echo "skip the CronJob reports the manual Job: kubectl 1.$minor's ownerReference is not a controller reference, so (as in kube) the CronJob does not see the Job"
fi
check "with schedules off the CronJob has not fired" bash -c "[ -z \"\$('$KUBECTL_BIN' get cronjob backup -o jsonpath='{.status.lastScheduleTime}')\" ]"
expect_fail "a Job that would restart Always is refused" 'spec.template.spec.restartPolicy: Unsupported value: "Always"' \
  bash -c "printf 'apiVersion: batch/v1\nkind: Job\nmetadata: {name: bad}\nspec: {template: {spec: {restartPolicy: Always, containers: [{name: c, image: x}]}}}\n' | '$KUBECTL_BIN' apply -f -"

# Deployments.
if [ "$minor" -lt 32 ]; then
  check "create a Deployment" k create deployment web --image=redis:7 --replicas=2
else
  check "create a Deployment (kubectl's object, as JSON)" bash -c "'$KUBECTL_BIN' create deployment web --image=redis:7 --replicas=2 --dry-run=client -o json | '$KUBECTL_BIN' create -f -"
fi
check "it gets 2 pods with a pod-template-hash" until_true 20 bash -c "[ \$('$KUBECTL_BIN' get pods -l app=web -o name | wc -l) = 2 ] && '$KUBECTL_BIN' get pods -l app=web -o jsonpath='{.items[0].metadata.labels.pod-template-hash}' | grep -q ."
for p in $(k get pods -l app=web -o jsonpath='{.items[*].metadata.name}'); do ready "$p" 198.18.1.$((RANDOM % 200 + 2)) >/dev/null; done
check "rollout status completes" k rollout status deploy/web --timeout=30s
check "status conditions Available and Progressing" bash -c "[ \"\$('$KUBECTL_BIN' get deploy web -o jsonpath='{.status.conditions[?(@.type==\"Available\")].status}/{.status.conditions[?(@.type==\"Progressing\")].reason}')\" = True/NewReplicaSetAvailable ]"

# A restart keeps everything and the controllers pick up where they were.
kill -TERM "$LC_PID"; wait "$LC_PID" 2>/dev/null || true
start_cluster
finish_terminating_pods &
check "after a restart, deleting a pod still recreates it" k delete pod db-0 --grace-period=0 --force --wait=false
check "db-0 is back" until_true 20 k get pod db-0
stop_cluster
echo "$pass passed, 0 failed"
