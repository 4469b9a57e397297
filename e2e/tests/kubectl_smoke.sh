#!/usr/bin/env bash
# Every installed kubectl minor (1.27 to 1.33) against one fresh local cluster: version, discovery,
# apply, get, delete.
source "$(dirname "$0")/lib.sh"
start_cluster
found=0
for v in 27 28 29 30 31 32 33; do
  kb=/usr/lib/google-cloud-sdk/bin/kubectl.1.$v
  [ -x "$kb" ] || { echo "skip 1.$v: $kb not installed"; continue; }
  found=$((found + 1))
  name=smoke-$v
  check "1.$v version" bash -c "'$kb' version -o json | grep -q '\"gitVersion\": \"v1.32'"
  check "1.$v api-resources" bash -c "'$kb' api-resources | grep -q '^configmaps'"
  check "1.$v apply" bash -c "printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: $name}\ndata: {k: v}\n' | '$kb' apply -f -"
  check "1.$v get" bash -c "'$kb' get configmap $name --no-headers | grep -q '^$name '"
  check "1.$v delete" "$kb" delete configmap "$name"
done
[ "$found" -gt 0 ] || { echo "no kubectl.1.x binary found"; exit 1; }
echo "$pass passed, 0 failed"
