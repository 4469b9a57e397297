// The runtime's example controller (test-only, not part of the operator): it reconciles a Greeting
// (greeting_crd.yaml) by copying spec.message into a ConfigMap `<name>-greeting` that the Greeting
// owns (controller ownerReference), and reports status the kstatus way:
//   observedGeneration, configMapName, Ready=True (Reconciled) / Reconciling=False / Stalled=False,
//   or Stalled=True (reason ForeignConfigMap) when a ConfigMap of that name belongs to someone else.
// Level-triggered and idempotent: it reads the Greeting and the ConfigMap from the caches and applies
// the ConfigMap with server-side apply (field manager example-controller, force) only when a field it
// owns differs, so the steady state makes no API call. Every ConfigMap write is stamped with the
// writer's identity in the annotation example.servicedb.io/written-by, which the leader-election e2e
// test uses to prove that two leaders never wrote at the same time.
//
// Contract: reconcile() is thread-safe (the workqueue never runs one key twice at once).
#pragma once

#include <atomic>
#include <string>

#include "operator/core/clock.h"
#include "operator/kube/client.h"
#include "operator/runtime/controller.h"
#include "operator/runtime/manager.h"

namespace sdb::example {

inline const kube::ResourceRef kGreetings{"example.servicedb.io", "v1", "greetings", "Greeting", true};
inline constexpr const char* kWrittenByAnnotation = "example.servicedb.io/written-by";
inline constexpr const char* kFieldManager = "example-controller";

class GreetingReconciler final : public runtime::Reconciler {
 public:
  GreetingReconciler(kube::KubeClient& client, runtime::KindCache& greetings, runtime::KindCache& configMaps,
                     std::string identity, runtime::EventRecorder* events = nullptr, Clock& clock = SystemClock::instance());
  runtime::ReconcileResult reconcile(const runtime::Request& request, const runtime::ReconcileContext& context) override;

  // The status wanted for `greeting` (pure; conditions keep their transition times when unchanged).
  Json desiredStatus(const Json& greeting, const std::string& configMapName, bool ready, const std::string& reason,
                     const std::string& message, std::chrono::system_clock::time_point now) const;
  uint64_t configMapWrites() const { return cmWrites_.load(); }

 private:
  runtime::ReconcileResult writeStatus(const runtime::Request& request, const Json& greeting, const std::string& cmName,
                                       bool ready, const std::string& reason, const std::string& message);

  kube::KubeClient& client_;
  runtime::KindCache& greetings_;
  runtime::KindCache& configMaps_;
  std::string identity_;
  runtime::EventRecorder* events_;
  Clock& clock_;
  std::atomic<uint64_t> cmWrites_{0};
};

// Registers the controller (for Greetings, owning ConfigMaps) on the manager.
std::unique_ptr<GreetingReconciler> addGreetingController(runtime::Manager& manager, const std::string& identity);

}  // namespace sdb::example
