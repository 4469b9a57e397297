// The CronJob controller, after kube-controller-manager's (cronjob v2):
// - the schedule is evaluated in spec.timeZone (IANA, from TZif files; UTC when unset) with
//   robfig/cron's semantics (e2e/cron); the most recent missed time since lastScheduleTime (or
//   creation) is run, unless it is more than startingDeadlineSeconds late (MissSchedule event);
// - Jobs are named `<cronjob>-<scheduled time in Unix minutes>`, from jobTemplate (labels,
//   annotations, spec), with the batch.kubernetes.io/cronjob-scheduled-timestamp annotation and a
//   controller ownerReference;
// - concurrencyPolicy Allow, Forbid (skip while a Job is active) and Replace (delete the active
//   Jobs first); suspend stops new runs;
// - status.active, lastScheduleTime and lastSuccessfulTime follow the owned Jobs; finished Jobs
//   beyond successfulJobsHistoryLimit / failedJobsHistoryLimit are deleted, oldest first (with their
//   pods, as garbage collection would);
// - a Job made by `kubectl create job --from=cronjob/X` (owned, not in status.active) is reported
//   with an UnexpectedJob event and otherwise left to the Job controller, as kube does;
// - `cronSchedules = false` (the --no-cronjob-schedules flag) keeps status in step but never fires.
// The next run is a delayed requeue on the injected clock, so tests step time exactly.
//
// Contract: a runtime::Reconciler keyed by CronJob "ns/name"; thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "e2e/cron/cron_schedule.h"
#include "e2e/workloads/context.h"
#include "e2e/workloads/read_your_writes.h"
#include "operator/runtime/controller.h"
#include "operator/runtime/event_recorder.h"

namespace sdb::workloads {

inline constexpr const char* kScheduledTimestampAnnotation = "batch.kubernetes.io/cronjob-scheduled-timestamp";

class CronJobController final : public runtime::Reconciler {
 public:
  CronJobController(Context& ctx, runtime::EventRecorder& events) : ctx_(ctx), events_(events) {}
  runtime::ReconcileResult reconcile(const runtime::Request& request, const runtime::ReconcileContext&) override;
  void wire(runtime::Controller& controller);

 private:
  Result<std::shared_ptr<const cron::TimeZone>> zone(const std::string& name);
  kube::KStatus deleteJob(const Json& cronJob, const Json& job);
  kube::KStatus cleanupHistory(const Json& cronJob, const std::vector<runtime::ObjectPtr>& jobs);

  Context& ctx_;
  runtime::EventRecorder& events_;
  ReadYourWrites rw_;
  std::mutex zonesMu_;
  std::map<std::string, std::shared_ptr<const cron::TimeZone>> zones_;
};

// The most recent activation in (earliest, now], where earliest is lastScheduleTime (or the
// creation time), moved up to now − startingDeadlineSeconds when that is later. `missed` gets the
// number of activations skipped over (kube warns past 100).
std::optional<int64_t> mostRecentScheduleTime(const cron::Schedule& schedule, const cron::TimeZone& zone,
                                              int64_t earliest, int64_t now, int64_t* missed);

// RFC 3339 with the zone's offset ("2024-05-16T03:00:00+02:00"; "Z" for UTC), as Go formats it.
std::string formatInZone(int64_t unix, const cron::TimeZone& zone);

}  // namespace sdb::workloads
