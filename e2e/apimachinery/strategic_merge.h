// Strategic merge patch (application/strategic-merge-patch+json), as kube-apiserver applies it to
// built-in kinds, with the patch strategies and merge keys of type_schema.h:
// - maps merge key by key; null deletes a key;
// - lists with the "merge" strategy merge: maps by their merge key (containers by name, ports by
//   containerPort, env by name, volumes by name, volumeMounts by mountPath, conditions by type,
//   ownerReferences by uid, ...), scalars as a set (finalizers); other lists are replaced;
// - directives: `$patch: replace|delete` (in a map or a list item), `$retainKeys`,
//   `$deleteFromPrimitiveList/<field>` and `$setElementOrder/<field>` (kubectl sends these when it
//   computes a patch from the last-applied configuration);
// - merged lists keep the patch's order for the items it names and the live order for the rest.
// Errors are worded as kube-apiserver's (apimachinery's mergepatch): bad directive formats are 400,
// lists of lists 422, others (a missing merge key, ...) 500.
//
// Contract: pure function, thread-safe.
#pragma once

#include "e2e/apimachinery/type_schema.h"
#include "operator/kube/api_error.h"

namespace sdb::apimachinery {

kube::KResult<Json> applyStrategicMergePatch(const Json& original, const Json& patch, const TypeNode& type);

}  // namespace sdb::apimachinery
