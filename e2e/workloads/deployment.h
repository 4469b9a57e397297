// The Deployment controller, after kube-controller-manager's: one ReplicaSet per pod template,
// `<deployment>-<pod-template-hash>`, whose template and selector carry the pod-template-hash label;
// revisions in the deployment.kubernetes.io/revision annotation (on the ReplicaSets and the
// Deployment), so `kubectl rollout history` and `rollout undo` work.
// - RollingUpdate: the new ReplicaSet grows within maxSurge and old ones shrink within
//   maxUnavailable (unhealthy old pods first); Recreate: old ReplicaSets go to zero, and the new one
//   grows once their pods are gone;
// - paused Deployments only report status; old ReplicaSets beyond revisionHistoryLimit (scaled to
//   zero) are deleted;
// - status: replicas, updatedReplicas, readyReplicas, availableReplicas, unavailableReplicas,
//   observedGeneration, collisionCount and the conditions Available (MinimumReplicasAvailable /
//   MinimumReplicasUnavailable) and Progressing (NewReplicaSetCreated, ReplicaSetUpdated,
//   NewReplicaSetAvailable, ProgressDeadlineExceeded after progressDeadlineSeconds on the injected
//   clock), so `kubectl rollout status` works.
//
// Contract: a runtime::Reconciler keyed by Deployment "ns/name"; thread-safe.
#pragma once

#include "e2e/workloads/context.h"
#include "e2e/workloads/read_your_writes.h"
#include "operator/runtime/controller.h"
#include "operator/runtime/event_recorder.h"

namespace sdb::workloads {

class DeploymentController final : public runtime::Reconciler {
 public:
  DeploymentController(Context& ctx, runtime::EventRecorder& events) : ctx_(ctx), events_(events) {}
  runtime::ReconcileResult reconcile(const runtime::Request& request, const runtime::ReconcileContext&) override;
  void wire(runtime::Controller& controller);

 private:
  kube::KResult<Json> scale(const Json& deployment, const Json& rs, int64_t replicas);
  kube::KResult<Json> createReplicaSet(const Json& deployment, const std::string& hash, int64_t revision, int64_t replicas);

  Context& ctx_;
  runtime::EventRecorder& events_;
  ReadYourWrites rw_;
};

// An intstr (25%, "25%" or 3) against a total: percentages round up for surge, down for unavailability.
int64_t resolveIntOrPercent(const Json& value, int64_t total, bool roundUp, int64_t fallback);

}  // namespace sdb::workloads
