#!/usr/bin/env bash
# BackupPolicy end to end: the local cluster with its node (the backup Job's pod runs our own
# servicedb-operator binary as the operator image, pg_dump against a dedicated PostgreSQL instance),
# CronJobs kept from firing on their own (--no-cronjob-schedules), the real operator, real kubectl.
# - shop/orders (dedicated) turns Ready, and the migration login gives it a table with rows;
# - BackupPolicy nightly (PVC destination, keepLast 3) creates the target's ServiceAccount, Role,
#   RoleBinding, report ConfigMap and CronJob, and turns Ready with BackupHealthy True;
# - `kubectl create job --from=cronjob/...` completes; the encrypted backup and its manifest are in
#   the claim's directory, the stream is ours (SDBKUP01) with no pg_dump header or row in the clear,
#   and the access log has its `written` line naming the Job's ServiceAccount;
# - status.targets[0] moves (lastSuccess.id is the backup's id, kept 1), through the report the Job
#   patched with its own ServiceAccount (audit log: allowed by the policy's RoleBinding);
# - the Job's ServiceAccount can read no Secret; an edited CronJob is put back;
# - shop/orders-copy with spec.restore.fromBackup (that backup) turns Ready after its restore Job,
#   Restored=True names the backup, its app login reads the same 1000 rows, the access log has the
#   restore;
# - spec.verify adds a drill CronJob; a drill Job restores the latest backup into a throwaway
#   database, checks it and drops it, and status.targets[0].lastVerifiedRestore and RestoreVerified
#   show it; with the backup's stream tampered, the next drill fails naming the chunk, RestoreVerified
#   turns False with a Warning event, and the target keeps its rows; a ServiceDatabase restored from
#   the tampered backup stalls with RestoreFailed naming the chunk from its Job's pod log;
# - retention over a simulated series (older backups planted under older ids): a new backup prunes
#   exactly what keepLast 1 and keepDaily 3 let go, with a `deleted` access-log entry for each;
# - deletionPolicy Snapshot: deleting shop/orders leaves one more complete backup (a final backup
#   Job from nightly's CronJob), and a Snapshot ServiceDatabase no policy backs up waits with
#   Stalled/SnapshotWithoutBackupPolicy until set to Delete.
# Usage: backup_e2e.sh SERVICEDB_OPERATOR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../tests/lib.sh"
source "$here/../tests/node_lib.sh"
require_root
OPERATOR=${1:?usage: $0 servicedb-operator}
source "$here/operator_lib.sh"
IMAGE=ghcr.io/servicedb/servicedb-operator
LC_FLAGS="--no-cronjob-schedules --operator-image $IMAGE --operator-binary $OPERATOR"
T0=$SECONDS

start_cluster
check "apply the CRDs" kubectl apply -f "$SOURCE_DIR/crds/"
check "CRDs established" kubectl wait --for=condition=Established crd --all --timeout=20s
for ns in servicedb-system shop; do
  check "namespace $ns" sh -c "kubectl create namespace $ns --dry-run=client -o yaml | kubectl apply -f -"
done
"$OPERATOR" run --kubeconfig "$KUBECONFIG" --operator-namespace servicedb-system --leader-elect=false \
  --operator-cidrs "$(bridge_ip)/32" --operator-image "$IMAGE:e2e" \
  --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0 >>"$WORK/operator.log" 2>&1 &
OP_PID=$!

check "kubectl apply shop/orders (dedicated)" kubectl apply -f - <<YAML
apiVersion: servicedb.io/v1alpha1
kind: ServiceDatabase
metadata: {name: orders, namespace: shop}
spec: {service: orders, engine: postgres, version: "15", storage: {size: 1Gi}, deletionPolicy: Delete}
YAML
check "shop/orders Ready" kubectl -n shop wait --for=condition=Ready sdb/orders --timeout=120s
job_completes() {  # job_completes NAME: the Job completes within 120 s, or its pods' logs are shown
  if ! kubectl -n shop wait --for=condition=complete "job/$1" --timeout=120s >"$WORK/out" 2>&1; then
    echo "FAIL job $1 did not complete"; kubectl -n shop get job "$1" -o jsonpath='{.status}'; echo
    for p in $(kubectl -n shop get pods -l "job-name=$1" -o name); do kubectl -n shop logs "$p" || true; done
    tail -n 20 "$WORK/operator.log"; exit 1
  fi
  echo "ok   job $1 complete"; pass=$((pass + 1))
}
secret_key() { kubectl -n shop get secret "$1" -o jsonpath="{.data.$2}" | base64 -d; }
secret_key orders-credentials 'ca\.crt' >"$WORK/ca.crt"
SVCIP=$(kubectl -n shop get svc orders-postgres -o jsonpath='{.spec.clusterIP}')
MIGPASSWORD=$(secret_key orders-migration-credentials password)
migrator() {
  PGCONNECT_TIMEOUT=5 PGPASSWORD="$MIGPASSWORD" psql -X -tA -v ON_ERROR_STOP=1 \
    "host=orders-postgres.shop.svc hostaddr=$SVCIP port=5432 dbname=shop_orders user=shop_orders_migrator sslmode=verify-full sslrootcert=$WORK/ca.crt" -c "$1"
}
check "the migration login creates a table with 1000 rows" \
  migrator "create table items (id int primary key, name text); insert into items select g, 'plaintext-marker-' || g from generate_series(1, 1000) g"

# 256-bit key, PVC destination, the policy.
KEY=$(openssl rand -hex 32)
check "backup key Secret and claim" kubectl apply -f - <<YAML
apiVersion: v1
kind: Secret
metadata: {name: backup-keys, namespace: shop}
stringData: {k1: "$KEY"}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: backups, namespace: shop}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
YAML
check "BackupPolicy nightly" kubectl apply -f - <<YAML
apiVersion: servicedb.io/v1alpha1
kind: BackupPolicy
metadata: {name: nightly, namespace: shop}
spec:
  targets: {names: [orders]}
  schedule: "0 2 * * *"
  encryption: {keySecretRef: {name: backup-keys}, activeKeyId: k1}
  destination: {pvc: {claimName: backups}}
  retention: {keepLast: 3}
YAML
check "nightly Ready" kubectl -n shop wait --for=condition=Ready bp/nightly --timeout=30s
CHILD=orders-backup-nightly
check "the target's children exist" kubectl -n shop get serviceaccount/$CHILD role/$CHILD rolebinding/$CHILD \
  configmap/$CHILD cronjob/$CHILD
check_eq "the CronJob runs the operator's image, Forbid" "$IMAGE:e2e Forbid" \
  kubectl -n shop get cronjob $CHILD -o jsonpath='{.spec.jobTemplate.spec.template.spec.containers[0].image} {.spec.concurrencyPolicy}'
check_eq "BackupHealthy True before the first backup (a new target)" "True BackupsRecent" \
  kubectl -n shop get bp nightly -o jsonpath='{.status.conditions[?(@.type=="BackupHealthy")].status} {.status.conditions[?(@.type=="BackupHealthy")].reason}'
check_eq "printer columns: destination and target count" "pvc/backups 1" \
  kubectl -n shop get bp nightly -o jsonpath='{.status.destination} {.status.targetCount}'

# One run, by hand.
check "kubectl create job --from=cronjob/$CHILD b1" kubectl -n shop create job --from=cronjob/$CHILD b1
check_eq "b1 carries the CronJob's podFailurePolicy (kubectl's protobuf body, decoded)" \
  "$(kubectl -n shop get cronjob $CHILD -o jsonpath='{.spec.jobTemplate.spec.podFailurePolicy}')" \
  kubectl -n shop get job b1 -o jsonpath='{.spec.podFailurePolicy}'
job_completes b1
check "status.targets[0].lastSuccess.result Succeeded" \
  kubectl -n shop wait --for=jsonpath='{.status.targets[0].lastSuccess.result}'=Succeeded bp/nightly --timeout=20s
ID=$(kubectl -n shop get bp nightly -o jsonpath='{.status.targets[0].lastSuccess.id}')
check "the id is set" test -n "$ID"
check_eq "kept, and the attempt is the success" "1 $ID" \
  kubectl -n shop get bp nightly -o jsonpath='{.status.targets[0].kept} {.status.targets[0].lastAttempt.id}'
check "size and duration reported" sh -c "kubectl -n shop get bp nightly -o jsonpath='{.status.targets[0].lastSuccess.sizeBytes} {.status.targets[0].lastSuccess.durationSeconds}' | grep -E '^[1-9][0-9]* [0-9.e-]+$'"

# The destination: the claim's directory on the node.
PVC_UID=$(kubectl -n shop get pvc backups -o jsonpath='{.metadata.uid}')
DEST=$(find "$WORK/lc/node" -maxdepth 3 -type d -name "pvc-$PVC_UID" | head -n 1)
check "the claim's directory exists on the node" test -d "$DEST"
check "the backup's files are there" sh -c "find '$DEST' -name '*$ID*' | grep ."
STREAM=$(find "$DEST" -name "*$ID*" -type f -size +1k | head -n 1)
check_eq "the stream is ours (SDBKUP01), not a pg_dump archive (PGDMP)" SDBKUP01 head -c 8 "$STREAM"
check "no PGDMP archive header and no row in plaintext anywhere under the claim" \
  sh -c "! grep -rqa -e PGDMP -e plaintext-marker '$DEST'"
LOGLINE=$(find "$DEST" -path '*access-log*' -name "*-written-$ID.json" | head -n 1)
check "the access log has a written entry for the backup" test -n "$LOGLINE"
check_eq "the entry names the action, the backup and the Job's ServiceAccount" \
  "written $ID system:serviceaccount:shop:$CHILD succeeded shop/orders" \
  python3 -c "import json,sys; e=json.load(open(sys.argv[1])); print(e['action'], e['backupId'], e['actor'], e['result'], e['target'])" "$LOGLINE"

# Least privilege: the report was patched by the Job's own ServiceAccount, which reads no Secret.
check "audit log: the Job's ServiceAccount patched its report ConfigMap, allowed by its RoleBinding" \
  sh -c "grep '\"username\":\"system:serviceaccount:shop:$CHILD\"' '$WORK/lc/audit.log' | grep '\"verb\":\"patch\"' | grep '\"name\":\"$CHILD\"' | grep -q 'RoleBinding'"
TOKEN=$(kubectl -n shop create token $CHILD)
SERVER=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')
check_eq "the Job's ServiceAccount cannot read the key Secret" 403 \
  curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$SERVER/api/v1/namespaces/shop/secrets/backup-keys"
check_eq "nor another ConfigMap" 403 \
  curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$SERVER/api/v1/namespaces/shop/configmaps/orders-postgres-config"

# Drift: an edited CronJob is put back.
check "edit the CronJob's schedule" kubectl -n shop patch cronjob $CHILD --type merge -p '{"spec":{"schedule":"* * * * *"}}'
check "the operator puts the schedule back" \
  kubectl -n shop wait --for=jsonpath='{.spec.schedule}'='0 2 * * *' cronjob/$CHILD --timeout=20s
check_eq "BackupHealthy True after the backup" True \
  kubectl -n shop get bp nightly -o jsonpath='{.status.conditions[?(@.type=="BackupHealthy")].status}'

# Restore: a new dedicated ServiceDatabase bootstrapped from that backup, Ready only afterwards.
# Job b1 goes first: the local node hands a Completed pod's address to new pods while that pod is
# still listed, and then connections to the reused address can reach the old pod's namespace.
check "delete job b1 and its pod" kubectl -n shop delete job b1 --cascade=background --wait=true
check "b1's pod is gone" wait_for 30 sh -c "[ -z \"\$(kubectl -n shop get pods -l job-name=b1 -o name)\" ]"
check "kubectl apply shop/orders-copy (spec.restore.fromBackup)" kubectl apply -f - <<YAML
apiVersion: servicedb.io/v1alpha1
kind: ServiceDatabase
metadata: {name: orders-copy, namespace: shop}
spec:
  service: orders-copy
  engine: postgres
  version: "15"
  storage: {size: 1Gi}
  deletionPolicy: Delete
  restore: {fromBackup: {policy: nightly, backupId: "$ID", target: shop/orders}}
YAML
copy_state() { kubectl -n shop get sdb orders-copy -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}/{.status.conditions[?(@.type=="Stalled")].status}'; }
until__=$((SECONDS + 150)) retried__=0
while [ "$(copy_state)" != "True/False" ]; do
  # Known local-node flake (see the report of this suite): the restore pod's connection to the new
  # instance's Service is sometimes refused for a while. The documented retry: delete the Job.
  if [ "$(copy_state)" = "False/True" ] && [ $retried__ -lt 2 ] && \
     kubectl -n shop logs job/orders-copy-restore 2>/dev/null | grep -q "Connection refused"; then
    retried__=$((retried__ + 1)); echo "     (restore Job refused a connection; deleting it to retry, $retried__/2)"
    kubectl -n shop delete job orders-copy-restore --cascade=background --wait=true >/dev/null
    wait_for 30 sh -c "[ \"\$(kubectl -n shop get sdb orders-copy -o jsonpath='{.status.conditions[?(@.type==\"Stalled\")].status}')\" = False ]" || true
    continue
  fi
  if [ "$(copy_state)" = "False/True" ] || [ $SECONDS -ge $until__ ]; then
    echo "FAIL shop/orders-copy did not turn Ready"; kubectl -n shop get sdb orders-copy -o jsonpath='{.status.conditions}'; echo
    kubectl -n shop logs job/orders-copy-restore || true
    [ -z "${BACKUP_E2E_HOLD:-}" ] || { echo "$KUBECONFIG" >/tmp/bk2-hold; sleep "$BACKUP_E2E_HOLD"; }
    exit 1
  fi
  sleep 0.5
done
echo "ok   shop/orders-copy Ready"; pass=$((pass + 1))
check_eq "Restored names the backup" "True RestoredFromBackup yes" sh -c \
  "kubectl -n shop get sdb orders-copy -o jsonpath='{.status.conditions[?(@.type==\"Restored\")].status} {.status.conditions[?(@.type==\"Restored\")].reason} {.status.conditions[?(@.type==\"Restored\")].message}' | sed 's/ restored .*$ID.*/ yes/'"
check_eq "the restore Job completed" True \
  kubectl -n shop get job orders-copy-restore -o jsonpath='{.status.conditions[?(@.type=="Complete")].status}'
secret_key orders-copy-credentials 'ca\.crt' >"$WORK/ca-copy.crt"
COPYIP=$(kubectl -n shop get svc orders-copy-postgres -o jsonpath='{.spec.clusterIP}')
APPPASSWORD=$(secret_key orders-copy-credentials password)
APPUSER=$(secret_key orders-copy-credentials username)
COPYDB=$(kubectl -n shop get sdb orders-copy -o jsonpath='{.status.endpoint.database}')
check_eq "the copy's app login reads the restored rows (equal data)" "1000 plaintext-marker-1000" \
  env PGCONNECT_TIMEOUT=5 PGPASSWORD="$APPPASSWORD" psql -X -tA -F ' ' -v ON_ERROR_STOP=1 \
  "host=orders-copy-postgres.shop.svc hostaddr=$COPYIP port=5432 dbname=$COPYDB user=$APPUSER sslmode=verify-full sslrootcert=$WORK/ca-copy.crt" \
  -c "select count(*), max(name) filter (where id = 1000) from items"
RESTORELOG=$(find "$DEST" -path '*access-log*' -name "*-restored-$ID.json" | head -n 1)
check "the access log has a restored entry for the backup" test -n "$RESTORELOG"

# --- Restore drill (spec.verify) ---
check "add spec.verify to nightly (a query that returns a row only with all 1000 rows)" \
  kubectl -n shop patch bp nightly --type merge \
  -p '{"spec":{"verify":{"schedule":"0 5 * * 0","query":"SELECT count(*) FROM items HAVING count(*) = 1000"}}}'
DRILL=orders-drill-nightly
check "the drill CronJob appears, on spec.verify.schedule" \
  wait_for 20 sh -c "[ \"\$(kubectl -n shop get cronjob $DRILL -o jsonpath='{.spec.schedule}' 2>/dev/null)\" = '0 5 * * 0' ]"
check_eq "RestoreVerified Unknown before the first drill" "Unknown NoDrillYet" \
  kubectl -n shop get bp nightly -o jsonpath='{.status.conditions[?(@.type=="RestoreVerified")].status} {.status.conditions[?(@.type=="RestoreVerified")].reason}'
check "kubectl create job --from=cronjob/$DRILL d1" kubectl -n shop create job --from=cronjob/$DRILL d1
job_completes d1
check "status.targets[0].lastVerifiedRestore.result Succeeded" \
  kubectl -n shop wait --for=jsonpath='{.status.targets[0].lastVerifiedRestore.result}'=Succeeded bp/nightly --timeout=20s
check_eq "the drill verified the latest backup" "$ID" \
  kubectl -n shop get bp nightly -o jsonpath='{.status.targets[0].lastVerifiedRestore.id}'
check "its message: the tables of contents match and the query returned a row" sh -c \
  "kubectl -n shop get bp nightly -o jsonpath='{.status.targets[0].lastVerifiedRestore.message}' | grep -E '^[1-9][0-9]* table-of-contents entries match; the query returned 1 row'"
check "RestoreVerified True" \
  kubectl -n shop wait --for=jsonpath='{.status.conditions[?(@.type=="RestoreVerified")].status}'=True bp/nightly --timeout=20s
check_eq "the throwaway database is gone" 0 \
  migrator "select count(*) from pg_database where datname like 'servicedb_drill_%'"
check "the access log has the drill's restore, naming the requester" sh -c \
  "grep -l '\"requester\":\"BackupPolicy shop/nightly restore drill\"' \$(find '$DEST' -path '*access-log*' -name '*-restored-$ID.json') | grep -q ."

# --- A tampered backup: the drill's restore Job fails naming the chunk, the target untouched ---
cp "$STREAM" "$WORK/stream.orig"
SIZE=$(stat -c %s "$STREAM")
printf '\x01' | dd of="$STREAM" bs=1 seek=$((SIZE / 2)) conv=notrunc status=none
check "kubectl create job --from=cronjob/$DRILL d2 (the backup is tampered)" kubectl -n shop create job --from=cronjob/$DRILL d2
check "status.targets[0].lastVerifiedRestore.result Failed" \
  kubectl -n shop wait --for=jsonpath='{.status.targets[0].lastVerifiedRestore.result}'=Failed bp/nightly --timeout=60s
check "its message names the chunk" sh -c \
  "kubectl -n shop get bp nightly -o jsonpath='{.status.targets[0].lastVerifiedRestore.message}' | grep -E 'chunk [0-9]+: authentication failed'"
check "the Job's log names the chunk" sh -c \
  "for p in \$(kubectl -n shop get pods -l job-name=d2 -o name); do kubectl -n shop logs \$p; done | grep -E 'chunk [0-9]+: authentication failed'"
check_eq "RestoreVerified False (RestoreDrillFailed)" "False RestoreDrillFailed" \
  kubectl -n shop get bp nightly -o jsonpath='{.status.conditions[?(@.type=="RestoreVerified")].status} {.status.conditions[?(@.type=="RestoreVerified")].reason}'
check "a Warning event RestoreDrillFailed on the policy" sh -c \
  "kubectl -n shop get events --field-selector involvedObject.name=nightly,reason=RestoreDrillFailed -o name | grep -q ."
check_eq "the target is untouched: 1000 rows" 1000 migrator "select count(*) from items"
check_eq "no throwaway database is left" 0 \
  migrator "select count(*) from pg_database where datname like 'servicedb_drill_%'"
check "delete job d2" kubectl -n shop delete job d2 --cascade=background --wait=true
check "kubectl apply shop/orders-bad (spec.restore.fromBackup of the tampered backup)" kubectl apply -f - <<YAML
apiVersion: servicedb.io/v1alpha1
kind: ServiceDatabase
metadata: {name: orders-bad, namespace: shop}
spec:
  service: orders-bad
  engine: postgres
  version: "15"
  storage: {size: 1Gi}
  deletionPolicy: Delete
  restore: {fromBackup: {policy: nightly, backupId: "$ID", target: shop/orders}}
YAML
check "its restore Job fails: Stalled RestoreFailed" wait_for 180 sh -c \
  "[ \"\$(kubectl -n shop get sdb orders-bad -o jsonpath='{.status.conditions[?(@.type==\"Stalled\")].reason}')\" = RestoreFailed ]"
check "the condition names the chunk (from the Job's pod log)" sh -c \
  "kubectl -n shop get sdb orders-bad -o jsonpath='{.status.conditions[?(@.type==\"Stalled\")].message}' | grep -E 'chunk [0-9]+: authentication failed'"
check_eq "orders-bad is not Ready and not Restored" "False False" \
  kubectl -n shop get sdb orders-bad -o jsonpath='{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Restored")].status}'
check_eq "the source is untouched: 1000 rows" 1000 migrator "select count(*) from items"
check "delete shop/orders-bad" kubectl -n shop delete sdb orders-bad --wait=true --timeout=60s
cp "$WORK/stream.orig" "$STREAM"

# --- Retention over a simulated series ---
# Earlier backups planted as copies under older ids (retention reads ids and manifests, not the data):
# with keepLast 1 and keepDaily 3, a new backup b2 keeps itself, the newest of yesterday and the one of
# two days ago, and deletes b1 (older the same day), yesterday's earlier one and the older days'.
SERIES=$(dirname "$STREAM")
day() { date -u -d "$1 days ago" +%Y%m%d; }
D1_LATE="$(day 1)T100000Z-0000d1a1" D1_EARLY="$(day 1)T080000Z-0000d1b2" D2="$(day 2)T090000Z-0000d2c3"
D4="$(day 4)T090000Z-0000d4d4" D9="$(day 9)T090000Z-0000d9e5"
for id in "$D1_LATE" "$D1_EARLY" "$D2" "$D4" "$D9"; do
  cp "$STREAM" "$SERIES/$id.sdbk" && cp "$SERIES/$ID.manifest.json" "$SERIES/$id.manifest.json"
done
check "retention keepLast 1, keepDaily 3" \
  kubectl -n shop patch bp nightly --type merge -p '{"spec":{"retention":{"keepLast":1,"keepDaily":3}}}'
check "the CronJob carries the new rules" wait_for 20 sh -c \
  "kubectl -n shop get cronjob $CHILD -o jsonpath='{.spec.jobTemplate.spec.template.spec.containers[0].args}' | grep -q '\"--keep-daily\",\"3\"'"
check "kubectl create job --from=cronjob/$CHILD b2" kubectl -n shop create job --from=cronjob/$CHILD b2
job_completes b2
check "lastSuccess moves to b2's backup" wait_for 20 sh -c \
  "[ \"\$(kubectl -n shop get bp nightly -o jsonpath='{.status.targets[0].lastSuccess.id}')\" != '$ID' ]"
B2=$(kubectl -n shop get bp nightly -o jsonpath='{.status.targets[0].lastSuccess.id}')
kept_ids() { find "$SERIES" -maxdepth 1 -name '*.manifest.json' -printf '%f\n' | sed 's/\.manifest\.json$//' | sort | tr '\n' ' '; }
check_eq "kept: b2, the newest of yesterday, the one of two days ago" \
  "$(printf '%s\n' "$B2" "$D1_LATE" "$D2" | sort | tr '\n' ' ')" kept_ids
check "their streams are there, the pruned ones' are gone" sh -c \
  "[ -f '$SERIES/$B2.sdbk' ] && [ -f '$SERIES/$D2.sdbk' ] && [ ! -e '$SERIES/$D9.sdbk' ] && [ ! -e '$SERIES/$ID.sdbk' ]"
for id in "$ID" "$D1_EARLY" "$D4" "$D9"; do
  check "the access log has the deletion of $id" sh -c "ls '$SERIES/access-log/' | grep -q -- '-deleted-$id.json'"
done
check_eq "status: kept 3" 3 kubectl -n shop get bp nightly -o jsonpath='{.status.targets[0].kept}'
check "keepLast 10 again" kubectl -n shop patch bp nightly --type merge -p '{"spec":{"retention":{"keepLast":10,"keepDaily":0}}}'
check "the CronJob carries it" wait_for 20 sh -c \
  "kubectl -n shop get cronjob $CHILD -o jsonpath='{.spec.jobTemplate.spec.template.spec.containers[0].args}' | grep -q '\"--keep-last\",\"10\"'"
check "delete job b2" kubectl -n shop delete job b2 --cascade=background --wait=true

# --- Snapshot deletion ---
# deletionPolicy Snapshot: deleting shop/orders first runs a final backup Job made from nightly's
# CronJob (one more complete backup of shop/orders, one more `written` access-log entry), then drops
# it as Delete does. A Snapshot ServiceDatabase that no policy backs up stays pending with
# Stalled/SnapshotWithoutBackupPolicy until it is set to Delete.
snap_backups() { find "$DEST" -path '*/shop/orders/*' -not -path '*/access-log/*' -name '*.manifest.json' | wc -l; }
snap_written() { find "$DEST" -path '*/shop/orders/access-log/*' -name '*-written-*.json' | wc -l; }
SNAP_BACKUPS=$(snap_backups) SNAP_WRITTEN=$(snap_written)
check "shop/orders has complete backups before" test "$SNAP_BACKUPS" -ge 1
check "set deletionPolicy Snapshot on shop/orders" \
  kubectl -n shop patch sdb orders --type merge -p '{"spec":{"deletionPolicy":"Snapshot"}}'
check "FinalBackupReady True (nightly's CronJob would take it)" \
  kubectl -n shop wait --for=condition=FinalBackupReady sdb/orders --timeout=30s
if ! kubectl -n shop delete sdb orders --wait=true --timeout=180s >"$WORK/out" 2>&1; then
  echo "FAIL shop/orders was not deleted"; cat "$WORK/out"
  kubectl -n shop get sdb orders -o jsonpath='{.status.conditions}'; echo
  kubectl -n shop logs job/orders-final-backup || true
  tail -n 20 "$WORK/operator.log"; exit 1
fi
echo "ok   kubectl delete sdb/orders (after its final backup)"; pass=$((pass + 1))
check "shop/orders is gone" wait_for 30 sh -c "! kubectl -n shop get sdb orders >/dev/null 2>&1"
check_eq "one more complete backup of shop/orders (manifest present)" "$((SNAP_BACKUPS + 1))" snap_backups
check_eq "one more written entry in the access log" "$((SNAP_WRITTEN + 1))" snap_written
check "the operator logged the final backup Job" grep -q 'created the final backup Job' "$WORK/operator.log"

check "kubectl apply shop/scratch (Snapshot, no BackupPolicy)" kubectl apply -f - <<YAML
apiVersion: servicedb.io/v1alpha1
kind: ServiceDatabase
metadata: {name: scratch, namespace: shop}
spec: {service: scratch, engine: postgres, version: "15", storage: {size: 1Gi}, deletionPolicy: Snapshot}
YAML
check "shop/scratch has the finalizer" wait_for 30 sh -c \
  "kubectl -n shop get sdb scratch -o jsonpath='{.metadata.finalizers}' | grep -q servicedb.io/finalizer"
check "kubectl delete sdb/scratch --wait=false" kubectl -n shop delete sdb scratch --wait=false
check "the deletion is refused: Stalled SnapshotWithoutBackupPolicy" wait_for 30 sh -c \
  "kubectl -n shop get sdb scratch -o jsonpath='{.status.conditions[?(@.type==\"Stalled\")].status} {.status.conditions[?(@.type==\"Stalled\")].reason}' | grep -qx 'True SnapshotWithoutBackupPolicy'"
check "the message says how to proceed" sh -c \
  "kubectl -n shop get sdb scratch -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].message}' | grep -q 'spec.deletionPolicy to Retain'"
check "shop/scratch is still there" kubectl -n shop get sdb scratch
check "set deletionPolicy Delete on shop/scratch" \
  kubectl -n shop patch sdb scratch --type merge -p '{"spec":{"deletionPolicy":"Delete"}}'
check "shop/scratch goes away" wait_for 60 sh -c "! kubectl -n shop get sdb scratch >/dev/null 2>&1"
# --- end of Snapshot deletion ---

echo "$pass checks passed in $((SECONDS - T0)) s"
