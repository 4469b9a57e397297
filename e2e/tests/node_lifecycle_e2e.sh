#!/usr/bin/env bash
# The node's own lifecycle, judged with ip, nft and ps rather than our code: after SIGTERM no process,
# network namespace, link, route or nftables table of the cluster remains; a restart on the same data
# dir runs the pods again with their PVC data and the same Service addresses; after kill -9 of the
# local cluster its containers die with it and the next start clears what was left.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.sh"
require_root
start_cluster
n=$(slot)

check "a postgres pod with a PVC, a redis pod, and a Service" bash -c "kubectl create secret generic pg-auth --from-literal=password=pw && \
  { $(declare -f claim postgres_pod); claim data-db; echo ---; postgres_pod db data-db; } | kubectl apply -f - && \
  kubectl expose pod db --port=5432 --name=db && kubectl run cache --image=redis:7"
check "both Ready" bash -c "kubectl wait --for=condition=Ready pod/db pod/cache --timeout=90s"
svc=$(k get svc db -o jsonpath='{.spec.clusterIP}')
check "write a row" retry bash -c "PGPASSWORD=pw psql -h $svc -U postgres -Atc 'create table kept(v int); insert into kept values (7)'"

snapshot() {
  ip netns list | awk '{print $1}' | grep "^sdb$n-" | sort >"$WORK/netns.$1" || true
  ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E "^(sdb${n}v[0-9]+|sdbbr$n)\$" | sort >"$WORK/links.$1" || true
  : >"$WORK/pids.$1"
  while read -r ns; do ip netns pids "$ns" >>"$WORK/pids.$1"; done <"$WORK/netns.$1"
}
snapshot running
restarts_before=$(k get pod db -o jsonpath='{.status.containerStatuses[0].restartCount}')
check "two pod namespaces, two veths and the bridge exist" bash -c "[ \$(wc -l <$WORK/netns.running) = 2 ] && [ \$(wc -l <$WORK/links.running) = 3 ]"
check "with processes in them" test -s "$WORK/pids.running"
check "and the cluster's nftables table" bash -c "nft list tables | grep -qx 'table ip sdb$n'"

stop_cluster
check "SIGTERM: the local cluster exited cleanly" grep -q "stopping on signal 15" "$WORK/lc.log"
check "no process of its pods remains ($(wc -l <"$WORK/pids.running") were running)" bash -c \
  "for p in \$(cat $WORK/pids.running); do ps -p \$p -o pid=,args= && exit 1; done; exit 0"
check "no network namespace of the cluster remains" bash -c "! ip netns list | grep -q '^sdb$n-'"
check "no veth and no bridge of the cluster remain" bash -c "! ip -o link show | grep -qE ': (sdb${n}v[0-9]+|sdbbr$n)[:@]'"
check "no route to its Service range remains" bash -c "[ -z \"\$(ip route show 198.19.$n.0/24)\" ]"
check "no nftables table of the cluster remains" bash -c "! nft list tables | grep -qx 'table ip sdb$n'"
check "no mount of its pods remains" bash -c "! grep -q '$WORK/lc/node' /proc/mounts"

start_cluster
check_eq "a restart on the same data dir keeps the slot" "$n" slot
check "the pods run again" bash -c "kubectl wait --for=condition=Ready pod/db pod/cache --timeout=90s"
check_eq "the Service keeps its address" "$svc" k get svc db -o jsonpath='{.spec.clusterIP}'
check_eq "and the PVC its data" "7" retry bash -c "PGPASSWORD=pw psql -h $svc -U postgres -Atc 'select v from kept'"
check_eq "the restart counts as one (from $restarts_before)" "$((restarts_before + 1))" k get pod db -o jsonpath='{.status.containerStatuses[0].restartCount}'

snapshot again
kill -9 "$LC_PID"; wait "$LC_PID" 2>/dev/null || true; LC_PID=""
check "kill -9 of the local cluster: its containers die with it (servicedb-node-watchdog)" bash -c \
  "for i in \$(seq 1 50); do alive=0; for p in \$(cat $WORK/pids.again); do ps -p \$p >/dev/null && alive=1; done; [ \$alive = 0 ] && exit 0; sleep 0.1; done; exit 1"
check "and the watchdog removed its namespaces, links and nftables table" bash -c \
  "for i in \$(seq 1 50); do ! ip netns list | grep -q '^sdb$n-' && ! ip -o link show | grep -qE ': (sdb${n}v[0-9]+|sdbbr$n)[:@]' && \
   ! nft list tables | grep -qx 'table ip sdb$n' && exit 0; sleep 0.1; done; exit 1"
start_cluster
check "the next start runs the pods again" bash -c "kubectl wait --for=condition=Ready pod/db pod/cache --timeout=90s"
check_eq "one namespace per pod" "2" bash -c "ip netns list | grep -c '^sdb$n-'"
check_eq "with the data" "7" retry bash -c "PGPASSWORD=pw psql -h $svc -U postgres -Atc 'select v from kept'"
stop_cluster
check "and after a last SIGTERM nothing of the cluster remains" bash -c \
  "! ip netns list | grep -q '^sdb$n-' && ! ip -o link show | grep -qE ': (sdb${n}v[0-9]+|sdbbr$n)[:@]' && ! nft list tables | grep -qx 'table ip sdb$n'"
echo "$pass passed, 0 failed"
