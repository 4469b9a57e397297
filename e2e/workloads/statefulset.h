// The StatefulSet controller, after kube-controller-manager's:
// - pods `<name>-<ordinal>` for ordinals [ordinals.start, start+replicas), with the template's
//   labels plus statefulset.kubernetes.io/pod-name, apps.kubernetes.io/pod-index and
//   controller-revision-hash; hostname = pod name, subdomain = serviceName; a controller
//   ownerReference; one volume per claim template pointing at its claim;
// - claims `<template>-<name>-<ordinal>` created before their pod, labelled with the template's
//   labels and the selector's matchLabels, never owned by the pod unless
//   persistentVolumeClaimRetentionPolicy says Delete (whenDeleted: owned by the StatefulSet;
//   whenScaled: owned by the condemned pod), so garbage collection removes them as kube does;
// - OrderedReady: one pod at a time, the next only when every earlier one is Running and Ready (and
//   available for minReadySeconds); scale down from the highest ordinal, one at a time, only when
//   the others are healthy. Parallel: all at once;
// - a missing pod is recreated, and a Failed or Succeeded one is deleted and recreated;
// - revisions as ControllerRevisions `<name>-<hash>` (hash of the template, stable across restarts),
//   revisionHistoryLimit honoured; RollingUpdate deletes the highest-ordinal pod not at the update
//   revision, waits for it to come back healthy, and stops at the partition; pods below the
//   partition are recreated at the current revision; OnDelete replaces a pod only when it is deleted;
// - status: replicas, readyReplicas, availableReplicas, currentReplicas, updatedReplicas,
//   currentRevision, updateRevision, observedGeneration, collisionCount;
// - orphan pods named for the set and matching its selector are adopted.
//
// Contract: a runtime::Reconciler keyed by StatefulSet "ns/name"; thread-safe.
#pragma once

#include "e2e/workloads/context.h"
#include "e2e/workloads/read_your_writes.h"
#include "operator/runtime/controller.h"
#include "operator/runtime/event_recorder.h"

namespace sdb::workloads {

class StatefulSetController final : public runtime::Reconciler {
 public:
  StatefulSetController(Context& ctx, runtime::EventRecorder& events) : ctx_(ctx), events_(events) {}
  runtime::ReconcileResult reconcile(const runtime::Request& request, const runtime::ReconcileContext&) override;
  void wire(runtime::Controller& controller);

  struct Revisions {
    std::string currentName, updateName;
    Json currentTemplate, updateTemplate;
  };

 private:
  kube::KResult<Revisions> syncRevisions(const Json& sts);
  kube::KStatus truncateHistory(const Json& sts, const Revisions& revs);
  kube::KStatus ensureClaims(const Json& sts, int64_t ordinal, const Json* pod, bool condemned);
  kube::KStatus createPod(const Json& sts, int64_t ordinal, const Revisions& revs);
  kube::KStatus deletePod(const Json& sts, const Json& pod, const std::string& reason);
  std::vector<runtime::ObjectPtr> ownedPods(const Json& sts);

  Context& ctx_;
  runtime::EventRecorder& events_;
  ReadYourWrites rw_;
};

// "<sts>-<n>" → n when the pod's name is that of a member of `stsName`; -1 otherwise.
int64_t statefulPodOrdinal(const std::string& stsName, const std::string& podName);

}  // namespace sdb::workloads
