// Helpers over Pod objects and pod templates shared by the workload controllers: the pod states the
// control plane reads (as kube-controller-manager reads them), pods built from templates, template
// hashes, owned-object lookups and status writes.
//
// Contract: pure functions are thread-safe; the write helpers call the given (thread-safe) client.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "e2e/apimachinery/selectors.h"
#include "operator/core/json.h"
#include "operator/kube/client.h"
#include "operator/runtime/controller.h"
#include "operator/runtime/informer.h"

namespace sdb::workloads {

using runtime::ObjectPtr;
using TimePoint = std::chrono::system_clock::time_point;

std::string podPhase(const Json& pod);
bool isPodTerminating(const Json& pod);  // deletionTimestamp set
bool isPodFinished(const Json& pod);     // Succeeded or Failed
bool isPodActive(const Json& pod);       // neither finished nor terminating
bool isPodReady(const Json& pod);        // condition Ready=True
bool isPodRunningAndReady(const Json& pod);
// Ready for at least minReadySeconds at `now` (the Ready condition's lastTransitionTime).
bool isPodAvailable(const Json& pod, int64_t minReadySeconds, TimePoint now);
// When the pod will become available, if it is ready but not yet for minReadySeconds.
std::optional<TimePoint> podAvailableAt(const Json& pod, int64_t minReadySeconds);
// Sum of restartCount over init and app containers.
int64_t podRestarts(const Json& pod);

// A stable hash of a pod template, encoded as Kubernetes encodes template hashes (FNV-1a 32 over the
// canonical JSON, its decimal form mapped onto "bcdfghjklmnpqrstvwxz2456789"). `collisionCount`
// perturbs it as kube does.
std::string templateHash(const Json& podTemplate, int64_t collisionCount = 0);

// A Pod from a template (labels, annotations, finalizers, spec), controlled by `owner`.
Json podFromTemplate(const Json& podTemplate, const Json& owner);

// Objects in `informer` whose controller ownerReference names `ownerUid`.
std::vector<ObjectPtr> controlledBy(const runtime::Informer& informer, const std::string& ownerUid);
// Objects in namespace `ns` of `informer` matching `selector` (via the label index when the selector
// pins a label to a value).
std::vector<ObjectPtr> selectedIn(const runtime::Informer& informer, const std::string& ns, const Json& selectorJson);

int64_t intAt(const Json& obj, const std::vector<std::string>& path, int64_t fallback);
TimePoint parseTime(const std::string& rfc3339, TimePoint fallback = {});

// Writes `status` to `cached` through /status unless it is already there (comparing with
// conditions' timestamps ignored). Uses the cached resourceVersion, so a concurrent change answers
// Conflict; the caller then retries from the newer object. Returns the stored object (or `cached`).
kube::KResult<Json> writeStatus(kube::KubeClient& client, const kube::ResourceRef& ref, const Json& cached,
                                const Json& status);

// A requeue at wall time `t`, measured from a fresh reading of `clock` (a reconcile may have taken a
// while, or a test may have moved a fake clock meanwhile); at least a millisecond.
runtime::ReconcileResult requeueAt(const Clock& clock, TimePoint t);

// The result for a failed write. A Conflict, NotFound or AlreadyExists is a race with another
// writer that the cache has not shown yet: retry at once, after a millisecond of real time for the
// informer to catch up (not on the rate limiter, whose delays run on the injected clock and would
// stall under a test's fake clock). Anything else is retried with the usual per-key back-off.
runtime::ReconcileResult failed(const kube::ApiError& error);

// Deletes with a UID precondition, so a same-named successor is never hit. NotFound counts as done.
kube::KResult<Json> deleteExact(kube::KubeClient& client, const kube::ResourceRef& ref, const Json& obj,
                                const std::string& propagationPolicy = "");

}  // namespace sdb::workloads
