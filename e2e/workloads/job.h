// The Job controller, after kube-controller-manager's (NonIndexed completion mode):
// - pods `<job>-<random5>` from the template (which carries the job-name and controller-uid labels
//   the API server put there), controlled by the Job, with the batch.kubernetes.io/job-tracking
//   finalizer: a finished pod is first recorded in status.uncountedTerminatedPods, then released,
//   then counted in succeeded/failed, so counts survive pod deletion and a controller restart;
// - up to `parallelism` active pods, fewer when only `completions - succeeded` remain; without
//   completions (a work queue), no new pods once one succeeded, complete when all are done;
// - failed pods are replaced after a back-off (base × 2^(failures since the last success − 1),
//   capped), as seen from the control plane: with restartPolicy Never a failed pod is replaced, with
//   OnFailure the kubelet restarts containers and their restartCounts count against backoffLimit;
// - failed > backoffLimit → BackoffLimitExceeded; active longer than activeDeadlineSeconds →
//   DeadlineExceeded. First the FailureTarget condition, the active pods are deleted, then Failed
//   once none is left. Success: SuccessCriteriaMet, then Complete with completionTime. Deleted
//   (terminating) pods count as failed unless podReplacementPolicy is Failed;
// - suspend deletes the active pods (Suspended=True); resuming resets startTime;
// - ttlSecondsAfterFinished deletes the finished Job and its pods;
// - status: active, ready, terminating, succeeded, failed, startTime, completionTime, conditions,
//   uncountedTerminatedPods. `kubectl wait --for=condition=complete` works.
// Pods whose Job is gone (or replaced by a namesake) lose the tracking finalizer so they can go.
//
// Contract: a runtime::Reconciler keyed by Job "ns/name"; thread-safe.
#pragma once

#include <optional>

#include "e2e/workloads/context.h"
#include "e2e/workloads/read_your_writes.h"
#include "operator/runtime/controller.h"
#include "operator/runtime/event_recorder.h"

namespace sdb::workloads {

inline constexpr const char* kJobTrackingFinalizer = "batch.kubernetes.io/job-tracking";

class JobController final : public runtime::Reconciler {
 public:
  JobController(Context& ctx, runtime::EventRecorder& events) : ctx_(ctx), events_(events) {}
  runtime::ReconcileResult reconcile(const runtime::Request& request, const runtime::ReconcileContext&) override;
  void wire(runtime::Controller& controller);

 private:
  struct Counted {
    Json job;  // the Job after any status write of the counting protocol
    int64_t succeeded = 0, failed = 0;
  };
  kube::KResult<Counted> countFinishedPods(const Json& job, const std::vector<runtime::ObjectPtr>& pods);
  static bool podCountsAsFailed(const Json& job, const Json& pod);
  kube::KStatus releasePod(const Json& pod);
  kube::KStatus releaseOrphans(const std::string& ns, const std::string& name, const std::string& exceptUid);
  kube::KStatus createPods(const Json& job, int64_t count);
  kube::KStatus deletePods(const Json& job, std::vector<runtime::ObjectPtr> pods, size_t count);
  runtime::ReconcileResult finishedJob(const Json& job, const std::vector<runtime::ObjectPtr>& pods);
  std::optional<std::chrono::system_clock::time_point> backoffUntil(const Json& job,
                                                                    const std::vector<runtime::ObjectPtr>& pods) const;

  Context& ctx_;
  runtime::EventRecorder& events_;
  ReadYourWrites rw_;
};

// True when the Job has a Complete or Failed condition with status True.
bool isJobFinished(const Json& job);
// "Complete" or "Failed" when finished, "" otherwise.
std::string jobFinishedCondition(const Json& job);

}  // namespace sdb::workloads
