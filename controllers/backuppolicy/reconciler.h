// The BackupPolicy reconciler (ARCHITECTURE.md §3; docs/api.md, "BackupPolicy"):
//
//   1. read the policy from the cache; gone or being deleted: nothing to do (its children carry
//      controller owner references to it and go with it; the backups at the destination stay);
//   2. parse it and its schedule (errors name the field: Stalled/InvalidSpec, nothing applied);
//   3. choose its targets among the ServiceDatabases of its namespace (specs::matchTarget; a listed
//      one that references another policy is a TargetConflict and is not backed up);
//   4. per target, apply the ServiceAccount, Role, RoleBinding, report ConfigMap and CronJob
//      (specs/backup_job.h) when the cached copy differs from the desired one (server-side apply,
//      fixed field manager; the report's data is the Job's and is never touched), and delete the
//      children of targets this policy no longer backs up. A same-named child that another owner
//      controls is never taken over (Stalled/ForeignObject naming it);
//   5. fold the report ConfigMaps into status.targets[], evaluate BackupHealthy (status.h), and
//      write status once (skipped when unchanged).
//
// Results: ok; requeueAfter when a healthy target would turn overdue; retry with backoff on API
// errors. A steady state makes no API write.
//
// Contract: thread-safe; the workqueue never reconciles one key on two workers at once. Reads go
// through `Readers` (the Manager's caches in the operator, live GETs and lists in tests).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "controllers/backuppolicy/status.h"
#include "operator/core/clock.h"
#include "operator/kube/client.h"
#include "operator/runtime/controller.h"
#include "operator/runtime/event_recorder.h"
#include "operator/runtime/informer.h"
#include "operator/specs/backup_job.h"

namespace sdb::controllers::backuppolicy {

// Not (yet) in kube/resource.h; the children's RBAC kinds.
inline const kube::ResourceRef kRoles{"rbac.authorization.k8s.io", "v1", "roles", "Role", true};
inline const kube::ResourceRef kRoleBindings{"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true};

inline constexpr const char* kFieldManager = "servicedb-operator";

// The kinds a policy owns, in the order they are applied (the CronJob last: its pods need the rest).
const std::vector<kube::ResourceRef>& childKinds();

struct Readers {
  // The object or nullptr (absent, or unknown).
  std::function<runtime::ObjectPtr(const kube::ResourceRef&, const std::string& ns, const std::string& name)> get;
  // Every object of a kind in a namespace (children: those the caches hold, carrying managed-by).
  std::function<std::vector<runtime::ObjectPtr>(const kube::ResourceRef&, const std::string& ns)> list;
};

struct ReconcilerOptions {
  std::string fieldManager = kFieldManager;
  specs::BackupJobOptions job;               // the operator's image (run --operator-image)
  Clock* clock = nullptr;                    // default SystemClock
  runtime::EventRecorder* events = nullptr;  // optional
};

class BackupPolicyReconciler final : public runtime::Reconciler {
 public:
  BackupPolicyReconciler(kube::KubeClient& client, Readers readers, ReconcilerOptions options = {});

  runtime::ReconcileResult reconcile(const runtime::Request& request, const runtime::ReconcileContext& context) override;

  uint64_t statusWrites() const { return statusWrites_.load(); }
  uint64_t childWrites() const { return childWrites_.load(); }

 private:
  struct Run;
  runtime::ReconcileResult finish(Run& run, const Outcome& outcome, runtime::ReconcileResult result);
  Result<std::chrono::minutes> intervalOf(const std::string& schedule);

  kube::KubeClient& client_;
  Readers readers_;
  ReconcilerOptions options_;
  Clock& clock_;
  std::mutex intervalsMu_;
  std::map<std::string, std::chrono::minutes> intervals_;  // scheduleInterval is a year's walk: memoised
  std::atomic<uint64_t> statusWrites_{0}, childWrites_{0};
};

}  // namespace sdb::controllers::backuppolicy
