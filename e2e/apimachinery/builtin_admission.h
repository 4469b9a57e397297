// Defaulting and validation of the built-in workload kinds, as kube-apiserver does them, so that
// clients and controllers see the fields they rely on:
// - StatefulSet: replicas, podManagementPolicy, updateStrategy (RollingUpdate, partition 0),
//   revisionHistoryLimit, persistentVolumeClaimRetentionPolicy (Retain/Retain), volumeMode of
//   claim templates. `kubectl rollout status` refuses a StatefulSet without an updateStrategy type.
// - Deployment and ReplicaSet: replicas, strategy (RollingUpdate 25%/25%), revisionHistoryLimit,
//   progressDeadlineSeconds.
// - Job: completions/parallelism, backoffLimit 6, completionMode, suspend, podReplacementPolicy, and
//   on create the generated selector (batch.kubernetes.io/controller-uid) with the job-name and
//   controller-uid labels on the template (and on the Job when it has none).
// - CronJob: concurrencyPolicy, suspend, history limits.
// - PersistentVolumeClaim: volumeMode. StorageClass: reclaimPolicy, volumeBindingMode.
// Validation covers what our controllers depend on, worded as kube-apiserver words it: selectors
// present and matching the template, restartPolicy (Always for StatefulSets and Deployments,
// OnFailure or Never for Jobs), CronJob schedule and timeZone, PVC access modes and storage request.
//
// Contract: pure functions over the object; thread-safe.
#pragma once

#include <vector>

#include "e2e/apimachinery/registry.h"
#include "operator/core/json.h"
#include "operator/kube/api_error.h"

namespace sdb::apimachinery {

// `creating`: the object is new (metadata.uid and name are already set).
void defaultBuiltin(const ResourceInfo& info, Json& obj, bool creating);
// `creating`: selectors are immutable after create (builtin_rules.h), so their match with the
// template is checked on create only (kube reports both on a later mismatch; we report the rule).
std::vector<kube::StatusCause> validateBuiltin(const ResourceInfo& info, const Json& obj, bool creating);

}  // namespace sdb::apimachinery
