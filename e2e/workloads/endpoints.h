// The Endpoints controller: for every Service with a selector, an Endpoints object of the same name
// listing the selected pods that have an IP. Ready pods go to `addresses`, the others to
// `notReadyAddresses` (all to `addresses` with publishNotReadyAddresses). Terminating pods and pods
// that finished for good (by their restartPolicy) are left out. Each address carries nodeName,
// targetRef and, for a pod whose subdomain is the Service (a StatefulSet's headless Service), its
// hostname. Ports resolve named targetPorts against the pod's container ports, so pods may land in
// different subsets; a headless Service without ports gets port-less subsets. Labels follow the
// Service's (plus service.kubernetes.io/headless). Services without a selector are left to their
// owners; the Endpoints of a deleted Service are deleted.
//
// Pod events enqueue only the Services of the pod's namespace whose selector matches the pod
// before or after the change, and only when something the endpoints show changed.
//
// Contract: a runtime::Reconciler keyed by Service "ns/name"; thread-safe.
#pragma once

#include "e2e/workloads/context.h"
#include "e2e/workloads/read_your_writes.h"
#include "operator/runtime/controller.h"

namespace sdb::workloads {

class EndpointsController final : public runtime::Reconciler {
 public:
  explicit EndpointsController(Context& ctx) : ctx_(ctx) {}
  runtime::ReconcileResult reconcile(const runtime::Request& request, const runtime::ReconcileContext&) override;
  void wire(runtime::Controller& controller);

  // The subsets for `service` over `pods` (pure; exposed for tests).
  static Json computeSubsets(const Json& service, const std::vector<runtime::ObjectPtr>& pods);

 private:
  Context& ctx_;
  ReadYourWrites rw_;
};

}  // namespace sdb::workloads
