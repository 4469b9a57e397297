#!/usr/bin/env bash
# `servicedb-operator run --kubeconfig FILE` with a bad file exits 1 with an error naming the field.
set -u
bin=$1
d=$(mktemp -d /tmp/sdb-badkc.XXXXXX)
trap 'rm -rf "$d"' EXIT
printf 'clusters:\n- name: c\n  cluster: {}\ncontexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n' >"$d/kc"
out=$("$bin" run --kubeconfig "$d/kc" 2>&1); code=$?
echo "$out"
[ "$code" = 1 ] || { echo "exit code $code, want 1"; exit 1; }
grep -qF "kubeconfig $d/kc: clusters[\\\"c\\\"].cluster.server: required" <<<"$out" || { echo "the error does not name the field"; exit 1; }
out=$("$bin" run --kubeconfig "$d/missing" 2>&1); code=$?
echo "$out"
[ "$code" = 1 ] && grep -qF "$d/missing" <<<"$out" || { echo "a missing file is not named"; exit 1; }
