#!/usr/bin/env bash
# Lifecycle as real kubectl sees it (one version per run): garbage collection through
# ownerReferences with each propagation policy (--cascade=background|foreground|orphan), and
# namespace deletion. Usage: kubectl_lifecycle_e2e.sh KUBECTL_BINARY
KUBECTL_BIN=$1
source "$(dirname "$0")/lib.sh"
k() { "$KUBECTL_BIN" "$@"; }
jp() { "$KUBECTL_BIN" get "$@"; }
start_cluster

# An owner Deployment and dependents that point at it by uid.
owner() {  # owner NAME: creates a Deployment, prints its uid
  printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: %s}\nspec: {selector: {matchLabels: {app: %s}}, template: {metadata: {labels: {app: %s}}, spec: {containers: [{name: c, image: x}]}}}\n' "$1" "$1" "$1" \
    | "$KUBECTL_BIN" apply -f - >/dev/null
  "$KUBECTL_BIN" get deploy "$1" -o jsonpath='{.metadata.uid}'
}
dependent() {  # dependent NAME OWNER OWNER_UID [block] [finalizer]
  local block=${4:-false} fin=""
  [ -n "${5:-}" ] && fin=", finalizers: [$5]"
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: %s, uid: "%s", blockOwnerDeletion: %s}]%s}\n' \
    "$1" "$2" "$3" "$block" "$fin" | "$KUBECTL_BIN" apply -f - >/dev/null
}
gone() {  # gone KIND/NAME [namespace]: waits up to 10 s for it to disappear
  "$KUBECTL_BIN" wait --for=delete "$1" ${2:+-n "$2"} --timeout=10s
}

uid=$(owner bg)
dependent bg-child bg "$uid"
check "delete --cascade=background" k delete deploy bg --cascade=background
check "the dependent is collected" gone cm/bg-child

uid=$(owner fg)
dependent fg-blocking fg "$uid" true '"example.io/slow"'
dependent fg-plain fg "$uid" false
check "delete --cascade=foreground returns while dependents remain" k delete deploy fg --cascade=foreground --wait=false
check_eq "the owner waits with the foregroundDeletion finalizer" "foregroundDeletion" jp deploy fg -o 'jsonpath={.metadata.finalizers[*]}'
check "a non-blocking dependent goes" gone cm/fg-plain
check "the blocking dependent is being deleted" bash -c "[ -n \"\$('$KUBECTL_BIN' get cm fg-blocking -o jsonpath='{.metadata.deletionTimestamp}')\" ]"
check_eq "and still holds the owner" "fg" jp deploy fg -o 'jsonpath={.metadata.name}'
check "its finalizer removed" k patch cm fg-blocking --type json -p '[{"op":"remove","path":"/metadata/finalizers"}]'
check "the owner goes" gone deploy/fg

uid=$(owner orph)
dependent orph-child orph "$uid" true
check "delete --cascade=orphan" k delete deploy orph --cascade=orphan
check "the owner is gone" gone deploy/orph
check_eq "the dependent stays, without its owner reference" "orph-child|" jp cm orph-child -o 'jsonpath={.metadata.name}|{.metadata.ownerReferences}'

uid=$(owner held)
dependent held-child held "$uid"
check "an owner with a finalizer of its own" k patch deploy held --type merge -p '{"metadata":{"finalizers":["example.io/cleanup"]}}'
check "is deleted in the background" k delete deploy held --wait=false
sleep 1
check_eq "its dependents stay while it exists" "held-child" jp cm held-child -o 'jsonpath={.metadata.name}'
check "its finalizer removed" k patch deploy held --type merge -p '{"metadata":{"finalizers":null}}'
check "then they go" gone cm/held-child

# Namespace deletion.
# (apply, not the `create namespace|configmap|secret` generators: kubectl 1.33 sends those as
# protobuf, which the local cluster does not read; see e2e/README.md.)
check "a namespace with content" bash -c "printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: doomed}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain, namespace: doomed}\ndata: {a: b}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: doomed}\nstringData: {a: b}\n' | '$KUBECTL_BIN' apply -f -"
check "content with a finalizer" bash -c "printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: guarded, finalizers: [example.io/guard]}\n' | '$KUBECTL_BIN' -n doomed apply -f -"
check "delete namespace --wait=false" k delete namespace doomed --wait=false
check_eq "the namespace is Terminating" "Terminating" jp namespace doomed -o 'jsonpath={.status.phase}'
expect_fail "no new content in a terminating namespace" 'forbidden: unable to create new content in namespace doomed because it is being terminated' \
  bash -c "printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: late}\n' | '$KUBECTL_BIN' -n doomed apply -f -"
check "unfinalized content goes" bash -c "'$KUBECTL_BIN' -n doomed wait --for=delete configmap/plain secret/s --timeout=10s"
check "the conditions say what remains" bash -c "for i in \$(seq 50); do '$KUBECTL_BIN' get ns doomed -o jsonpath='{.status.conditions[?(@.type==\"NamespaceFinalizersRemaining\")].message}' | grep -q 'example.io/guard in 1 resource instances' && exit 0; sleep 0.2; done; exit 1"
check "the finalized object's finalizer removed" k -n doomed patch configmap guarded --type merge -p '{"metadata":{"finalizers":null}}'
check "the namespace goes" gone namespace/doomed

stop_cluster
echo "$pass passed, 0 failed"
