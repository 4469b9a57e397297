#include "controllers/servicedatabase/backup_cronjob.h"

#include <algorithm>
#include <vector>

#include "operator/specs/labels.h"

namespace sdb::controllers::servicedatabase {

kube::KResult<BackupCronJob> findBackupCronJob(kube::KubeClient& client, const specs::ServiceDatabase& sdb) {
  BackupCronJob out;
  out.selector = std::string(specs::kLabelDatabase) + "=" + sdb.name + "," + specs::kLabelServicedbComponent +
                 "=backup," + specs::kLabelManagedBy + "=" + specs::kManagedByOperator;
  kube::ListOptions lo;
  lo.labelSelector = out.selector;
  auto list = client.list(kube::resources::kCronJobs, sdb.ns, lo);
  if (!list.ok()) return list.error();
  auto byPolicy = [&](const Json& cj) {
    const Json* refs = jsonAt(cj, {"metadata", "ownerReferences"});
    if (!refs || !refs->is_array()) return false;
    for (const auto& r : *refs) {
      if (jsonString(r, {"kind"}) == "BackupPolicy" && jsonString(r, {"name"}) == sdb.backupPolicyName) return true;
    }
    return false;
  };
  auto before = [&](const Json& a, const Json& b) {
    if (byPolicy(a) != byPolicy(b)) return byPolicy(a);
    return jsonString(a, {"metadata", "name"}) < jsonString(b, {"metadata", "name"});
  };
  for (const auto& cj : (*list)["items"]) {
    if (!out.cronJob || before(cj, *out.cronJob)) out.cronJob = cj;
  }
  return out;
}

}  // namespace sdb::controllers::servicedatabase
