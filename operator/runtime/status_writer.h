// Status writes and server-side apply that skip writes which would change nothing.
//
// updateStatusWithRetry: GET the object, let `compute` fill the desired status from it, compare with
// the stored status ignoring conditions' lastTransitionTime churn (statusSemanticallyEqual), and PUT
// /status only if they differ. On Conflict it re-reads and recomputes, up to `maxAttempts`.
//
// applyIfChanged: server-side apply (PATCH application/apply-patch+yaml, force, fixed field manager).
// The no-op test compares the desired fields with the live (usually cached) object: if every field we
// set is present in the live object with the same value (`isJsonSubset`), no request is made.
// We chose this over a hash annotation because it also repairs drift: when someone edits a field we
// own, the subset test fails and the next reconcile re-applies. A value the server normalises (e.g. a
// quantity "1Gi" stored as "1Gi" is fine; a defaulted form differing from ours) costs one extra,
// harmless apply per reconcile; builders should emit canonical forms.
//
// Contract: thread-safe (they only call the thread-safe client).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "operator/core/json.h"
#include "operator/kube/client.h"

namespace sdb::runtime {

struct StatusWriteOutcome {
  bool written = false;
  int attempts = 0;
  Json object;  // the object after the write (or as read, when skipped)
};

// `compute(object, status)`: `status` starts as a copy of object.status (or {}); mutate it.
using StatusCompute = std::function<void(const Json& object, Json& status)>;

kube::KResult<StatusWriteOutcome> updateStatusWithRetry(kube::KubeClient& client, const kube::ResourceRef& ref,
                                                        const std::string& ns, const std::string& name,
                                                        const StatusCompute& compute,
                                                        const std::string& fieldManager, int maxAttempts = 5);

// True when every field of `subset` appears in `superset` with an equal value (objects recursively,
// arrays element by element with equal length, scalars by equality).
bool isJsonSubset(const Json& subset, const Json& superset);

struct ApplyOutcome {
  bool applied = false;
  Json object;
};

// `desired` must carry apiVersion, kind, metadata.name (and namespace if namespaced). `live` is the
// current object from the cache, or nullopt if absent/unknown (then it always applies).
kube::KResult<ApplyOutcome> applyIfChanged(kube::KubeClient& client, const kube::ResourceRef& ref, const Json& desired,
                                           const std::optional<Json>& live, const std::string& fieldManager);

}  // namespace sdb::runtime
