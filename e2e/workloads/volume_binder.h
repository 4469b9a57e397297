// PersistentVolumeClaims without a provisioner: the local cluster's stand-in for the PV controller
// and a dynamic provisioner at once. A claim of an existing StorageClass is bound at once
// (volumeBindingMode Immediate) or once the scheduler has picked the node for its first pod
// (WaitForFirstConsumer): spec.volumeName "pvc-<uid>", the bind-completed annotations, status phase
// Bound with the access modes and capacity = the storage request. A claim without a class gets the
// default class (retroactive default StorageClass assignment); a claim naming a missing class, or
// the empty class, stays Pending with an event. Expanding the request of a bound claim whose class
// has allowVolumeExpansion updates status.capacity. No PersistentVolume objects exist (the kind is
// not served); where the data lives on disk is the kubelet's business.
//
// ensureDefaultStorageClass() makes `standard` (the default class, expandable, Immediate) when no
// StorageClass of that name exists.
//
// Contract: a runtime::Reconciler keyed by claim "ns/name"; thread-safe.
#pragma once

#include <optional>
#include <string>

#include "e2e/workloads/context.h"
#include "e2e/workloads/read_your_writes.h"
#include "operator/runtime/controller.h"
#include "operator/runtime/event_recorder.h"

namespace sdb::workloads {

inline constexpr const char* kDefaultStorageClassName = "standard";
inline constexpr const char* kProvisionerName = "servicedb.io/local-directory";

class VolumeBinder final : public runtime::Reconciler {
 public:
  VolumeBinder(Context& ctx, runtime::EventRecorder& events) : ctx_(ctx), events_(events) {}
  runtime::ReconcileResult reconcile(const runtime::Request& request, const runtime::ReconcileContext&) override;
  // Claim events, and StorageClass events (which re-examine the claims still Pending).
  void wire(runtime::Controller& controller);

 private:
  Context& ctx_;
  runtime::EventRecorder& events_;
  ReadYourWrites rw_;
};

Status ensureDefaultStorageClass(kube::KubeClient& client);

// A resource quantity ("1Gi", "500M", "1e3") as a number, for comparisons; nullopt if malformed.
std::optional<long double> parseQuantity(const std::string& quantity);

}  // namespace sdb::workloads
