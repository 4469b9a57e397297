// The placeholder controller: one per servicedb.io kind whose real controller does not exist yet. It
// reports that honestly on the object's status instead of pretending:
//   Stalled=True (NotImplemented), Ready=False (NotImplemented), Reconciling=False (NotImplemented),
//   observedGeneration = metadata.generation.
// The status is written once; later reconciles see the cached object already carries it and make no
// API call. It also serves as the runtime's example controller (issue 5).
//
// Contract: reconcile() is thread-safe (the workqueue never runs one key twice at once).
#pragma once

#include <atomic>
#include <cctype>
#include <memory>
#include <string>
#include <vector>

#include "operator/core/clock.h"
#include "operator/core/json.h"
#include "operator/kube/client.h"
#include "operator/runtime/controller.h"
#include "operator/runtime/event_recorder.h"
#include "operator/runtime/manager.h"

namespace sdb::controllers {

class PlaceholderReconciler final : public runtime::Reconciler {
 public:
  PlaceholderReconciler(kube::KubeClient& client, runtime::KindCache& cache, kube::ResourceRef resource,
                        Clock& clock = SystemClock::instance(), runtime::EventRecorder* events = nullptr);
  runtime::ReconcileResult reconcile(const runtime::Request& request, const runtime::ReconcileContext& context) override;

  // The status this controller wants for `object`, given its current status (pure).
  Json desiredStatus(const Json& object, std::chrono::system_clock::time_point now) const;
  uint64_t writes() const { return writes_.load(); }

 private:
  kube::KubeClient& client_;
  runtime::KindCache& cache_;
  kube::ResourceRef resource_;
  Clock& clock_;
  runtime::EventRecorder* events_;
  std::atomic<uint64_t> writes_{0};
};

// Registers a placeholder controller for each of `kinds` (default: every servicedb.io kind) on the
// manager. The reconcilers are owned by the returned vector, which must outlive the manager's run().
std::vector<std::unique_ptr<PlaceholderReconciler>> addPlaceholderControllers(
    runtime::Manager& manager,
    const std::vector<kube::ResourceRef>& kinds = {kube::resources::kServiceDatabases, kube::resources::kBackupPolicies,
                                                   kube::resources::kReadReplicas, kube::resources::kAuditStores});

}  // namespace sdb::controllers
