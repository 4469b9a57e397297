#include "operator/migrate/summary.h"

namespace sdb::migrate {

const char* outcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kUpToDate: return "upToDate";
    case Outcome::kApplied: return "applied";
    case Outcome::kDryRun: return "dryRun";
    case Outcome::kFailed: return "failed";
    case Outcome::kRefused: return "refused";
  }
  return "failed";
}

int exitCodeFor(Outcome outcome) {
  switch (outcome) {
    case Outcome::kUpToDate:
    case Outcome::kApplied:
    case Outcome::kDryRun: return kExitOk;
    case Outcome::kRefused: return kExitRefused;
    case Outcome::kFailed: return kExitFailed;
  }
  return kExitFailed;
}

Json summaryJson(const RunReport& r) {
  Json j = {{"type", kSummaryType}, {"result", outcomeName(r.outcome)}};
  j["schemaVersion"] = r.schemaVersion ? Json(*r.schemaVersion) : Json(nullptr);
  Json applied = Json::array();
  for (const auto& a : r.applied)
    applied.push_back({{"version", a.version}, {"description", a.description}, {"file", a.fileName},
                       {"transactional", a.transactional}, {"durationMs", a.durationMs}});
  j["applied"] = std::move(applied);
  j["alreadyApplied"] = r.alreadyApplied;
  if (r.outcome == Outcome::kDryRun) j["pending"] = r.pending;
  if (!r.warnings.empty()) j["warnings"] = r.warnings;
  if (r.failure) {
    const auto& f = *r.failure;
    const auto& d = f.diagnostics;
    Json failure = {{"file", f.fileName}, {"version", f.version}, {"sqlstate", d.sqlstate}, {"message", d.message}};
    if (!d.detail.empty()) failure["detail"] = d.detail;
    if (!d.hint.empty()) failure["hint"] = d.hint;
    if (f.line > 0) failure["line"] = f.line;
    if (f.column > 0) failure["column"] = f.column;
    if (f.statement > 0) failure["statement"] = f.statement;
    failure["partialEffects"] = f.partialEffects;
    j["failure"] = std::move(failure);
  } else if (!r.error.empty()) {
    j["error"] = r.error;
  }
  return j;
}

RunReport refusedBeforeRunning(const std::string& error, std::vector<std::string> warnings) {
  RunReport r;
  r.outcome = Outcome::kRefused;
  r.error = error;
  r.warnings = std::move(warnings);
  return r;
}

}  // namespace sdb::migrate
