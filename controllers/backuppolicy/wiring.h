// Registers the BackupPolicy controller on a runtime::Manager: the primary kind from the BackupPolicy
// cache; its children (ServiceAccounts, Roles, RoleBindings, report ConfigMaps, CronJobs: managed-by
// caches, see Manager::cache) as owned kinds, so a Job's report or an edited CronJob reconciles the
// policy; and every change of a ServiceDatabase re-checks the policies of its namespace (a new
// database a selector matches, a label or backupPolicyRef change, a deletion).
//
// Contract: build before Manager::run(); the returned object owns the reconciler and must outlive run().
#pragma once

#include <memory>

#include "controllers/backuppolicy/reconciler.h"
#include "operator/runtime/manager.h"

namespace sdb::controllers::backuppolicy {

struct ControllerOptions {
  ReconcilerOptions reconciler;  // events default to the manager's recorder
  int workers = 2;
};

struct Registration {
  std::unique_ptr<BackupPolicyReconciler> reconciler;
};

std::unique_ptr<Registration> addBackupPolicyController(runtime::Manager& manager, ControllerOptions options = {});

}  // namespace sdb::controllers::backuppolicy
