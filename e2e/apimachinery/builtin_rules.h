// Built-in kinds' normalisation and update rules, as kube-apiserver enforces them (validation, then
// the admission plugins), with its error texts:
// - Secret: stringData is folded into data (base64) and never stored; type defaults to Opaque and
//   is immutable; with `immutable: true`, data (and immutable itself) may not change;
// - ConfigMap: with `immutable: true`, data, binaryData (and immutable itself) may not change;
// - StatefulSet: only replicas, ordinals, template, updateStrategy,
//   persistentVolumeClaimRetentionPolicy and minReadySeconds may change;
// - Deployment: the selector is immutable;
// - Job: selector, template (except the scheduling directives of a suspended Job that never
//   started), completionMode, podFailurePolicy, backoffLimitPerIndex, managedBy and successPolicy
//   are immutable;
// - PersistentVolumeClaim: the spec is immutable except resources.requests of a Bound claim;
//   storage may not drop below status.capacity (kube 1.32's RecoverVolumeExpansionFailure, on by
//   default: between the capacity and the previous request is a recovery, not a shrink); growing it
//   needs a StorageClass with allowVolumeExpansion (403 from the PersistentVolumeClaimResize plugin).
// Complex values in "Invalid value" messages are rendered as JSON, as kube-apiserver 1.32 does
// (of its internal types, so field spellings may differ).
//
// Contract: pure functions, thread-safe.
#pragma once

#include <functional>
#include <optional>

#include "e2e/apimachinery/registry.h"
#include "operator/kube/api_error.h"

namespace sdb::apimachinery {

// Normalises a built-in object about to be stored (create or update).
void normalizeBuiltin(const ResourceInfo& info, Json& obj);

// Finds a cluster-scoped object by resource and name (for the PVC's StorageClass), or nullptr.
using ClusterLookup = std::function<const Json*(const std::string& resource, const std::string& name)>;

// The error kube-apiserver answers for an update of the main resource from `old` to `next`, if any.
std::optional<kube::ApiError> checkBuiltinUpdate(const ResourceInfo& info, const Json& next, const Json& old,
                                                 const ClusterLookup& lookup);

// A resource.Quantity in base units ("1Gi" -> 1073741824, "500m" -> 0.5); nullopt when malformed.
std::optional<long double> parseQuantity(const std::string& text);

}  // namespace sdb::apimachinery
