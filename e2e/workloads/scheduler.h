// The local cluster's scheduler: binds every pending pod to the single node (spec.nodeName) and
// sets its PodScheduled condition, as kube-scheduler does through the binding subresource. Like
// kube-scheduler's volume binding, a pod whose PersistentVolumeClaims are missing or unbound is left
// Unschedulable (PodScheduled=False with the reason), and a claim of a WaitForFirstConsumer class is
// given the volume.kubernetes.io/selected-node annotation so the binder binds it first.
//
// Pods naming another schedulerName are left alone. The condition is written before nodeName, so a
// kubelet that acts on nodeName finds PodScheduled=True already.
//
// Contract: a runtime::Reconciler keyed by pod "ns/name"; thread-safe.
#pragma once

#include "e2e/workloads/context.h"
#include "e2e/workloads/read_your_writes.h"
#include "operator/runtime/controller.h"
#include "operator/runtime/event_recorder.h"

namespace sdb::workloads {

class Scheduler final : public runtime::Reconciler {
 public:
  Scheduler(Context& ctx, runtime::EventRecorder& events) : ctx_(ctx), events_(events) {}
  runtime::ReconcileResult reconcile(const runtime::Request& request, const runtime::ReconcileContext&) override;
  // Pod events (unbound pods only) and claim events (the pods that use the claim).
  void wire(runtime::Controller& controller);

 private:
  Context& ctx_;
  runtime::EventRecorder& events_;
  ReadYourWrites rw_;
};

// Names of the PersistentVolumeClaims a pod's volumes use.
std::vector<std::string> podClaimNames(const Json& pod);

}  // namespace sdb::workloads
