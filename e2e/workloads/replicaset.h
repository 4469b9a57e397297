// The ReplicaSet controller, after kube-controller-manager's: keeps `replicas` active pods
// (`<rs>-<random5>` from the template, controlled by the ReplicaSet), deleting surplus pods
// unscheduled, pending and not-ready ones and the newest first; adopts orphans matching its selector;
// status replicas, fullyLabeledReplicas, readyReplicas, availableReplicas (minReadySeconds on the
// injected clock) and observedGeneration. Deployments drive rollouts by scaling ReplicaSets.
//
// Contract: a runtime::Reconciler keyed by ReplicaSet "ns/name"; thread-safe.
#pragma once

#include "e2e/workloads/context.h"
#include "e2e/workloads/read_your_writes.h"
#include "operator/runtime/controller.h"
#include "operator/runtime/event_recorder.h"

namespace sdb::workloads {

class ReplicaSetController final : public runtime::Reconciler {
 public:
  ReplicaSetController(Context& ctx, runtime::EventRecorder& events) : ctx_(ctx), events_(events) {}
  runtime::ReconcileResult reconcile(const runtime::Request& request, const runtime::ReconcileContext&) override;
  void wire(runtime::Controller& controller);

 private:
  Context& ctx_;
  runtime::EventRecorder& events_;
  ReadYourWrites rw_;
};

}  // namespace sdb::workloads
