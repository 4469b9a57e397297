#include "operator/migrate/plan.h"

#include <map>

namespace sdb::migrate {

Result<MigrationPlan> planMigrations(const std::vector<MigrationFile>& files, const std::vector<AppliedRow>& history,
                                     const PlanOptions& options) {
  MigrationPlan plan;
  std::vector<std::string> problems;
  std::map<Version, const AppliedRow*> applied;
  for (const AppliedRow& row : history) {
    auto v = parseVersion(row.version);
    if (!v.ok()) {
      problems.push_back("the history has a row whose version \"" + row.version + "\" does not parse");
      continue;
    }
    if (!applied.emplace(*v, &row).second) {
      problems.push_back("the history has version " + v->text() + " twice (\"" + applied[*v]->version + "\" and \"" +
                         row.version + "\")");
      continue;
    }
    if (!plan.highestApplied || *plan.highestApplied < *v) plan.highestApplied = *v;
  }

  std::map<Version, const MigrationFile*> byVersion;
  for (const MigrationFile& f : files) byVersion[f.version] = &f;
  for (const auto& [version, row] : applied) {
    if (byVersion.count(version)) continue;
    std::string msg = "version " + version.text() + " (" + row->fileName + ") is in the history but no file has it";
    if (options.allowMissing) plan.warnings.push_back(msg);
    else problems.push_back(msg + " (a wrong or trimmed ConfigMap? --allow-missing accepts it)");
  }

  for (const MigrationFile& f : files) {
    auto it = applied.find(f.version);
    if (it != applied.end()) {
      if (it->second->checksum == f.checksum) {
        ++plan.alreadyApplied;
      } else {
        problems.push_back(f.fileName + " has changed since it was applied: checksum applied " + it->second->checksum +
                           ", file now " + f.checksum + " (an applied migration must never change; add a new version)");
      }
      continue;
    }
    if (plan.highestApplied && f.version < *plan.highestApplied) {
      problems.push_back(f.fileName + " is not applied but a later version, " + plan.highestApplied->text() +
                         ", is: out-of-order migrations are refused (give it a version above " +
                         plan.highestApplied->text() + ")");
      continue;
    }
    plan.pending.push_back(f);
  }

  if (!problems.empty()) {
    std::string msg = "refusing to migrate: ";
    for (size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
    return Error(ErrorCode::kFailedPrecondition, msg);
  }
  return plan;
}

}  // namespace sdb::migrate
