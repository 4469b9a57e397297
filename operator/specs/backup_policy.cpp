#include "operator/specs/backup_policy.h"

#include <algorithm>
#include <array>
#include <bitset>
#include <cctype>
#include <sstream>

#include "operator/specs/label_selector.h"

namespace sdb::specs {
namespace {

Error fieldError(const std::string& field, const std::string& message) { return invalidArgument(field + ": " + message); }

// Reads optional typed fields of `spec`, naming the field on a type mismatch.
struct Reader {
  const Json& spec;
  Result<std::string> str(const std::vector<std::string>& path, const std::string& fallback) const {
    const Json* v = jsonAt(spec, path);
    if (!v || v->is_null()) return fallback;
    if (!v->is_string()) return fieldError(name(path), "must be a string");
    return v->get<std::string>();
  }
  Result<int64_t> integer(const std::vector<std::string>& path, int64_t fallback, int64_t min, int64_t max) const {
    const Json* v = jsonAt(spec, path);
    if (!v || v->is_null()) return fallback;
    if (!v->is_number_integer()) return fieldError(name(path), "must be an integer");
    const int64_t n = v->get<int64_t>();
    if (n < min || n > max) {
      return fieldError(name(path), "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                                        ", got " + std::to_string(n));
    }
    return n;
  }
  Result<bool> boolean(const std::vector<std::string>& path, bool fallback) const {
    const Json* v = jsonAt(spec, path);
    if (!v || v->is_null()) return fallback;
    if (!v->is_boolean()) return fieldError(name(path), "must be a boolean");
    return v->get<bool>();
  }
  static std::string name(const std::vector<std::string>& path) {
    std::string out = "spec";
    for (const auto& p : path) out += "." + p;
    return out;
  }
};

#define SDB_ASSIGN(target, expr) \
  do {                           \
    auto r_ = (expr);            \
    if (!r_.ok()) return r_.error(); \
    target = *r_;                \
  } while (0)

// ---------------------------------------------------------------- cron

struct CronField {
  int min, max;
  std::vector<std::string> names;  // index = value - min (months, weekdays)
};

Result<std::vector<bool>> parseCronField(const std::string& text, const CronField& f, const std::string& field,
                                         bool* star) {
  std::vector<bool> set(static_cast<size_t>(f.max + 1), false);
  *star = text == "*" || text == "?";
  auto value = [&](const std::string& s) -> Result<int> {
    std::string upper;
    for (char c : s) upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    for (size_t i = 0; i < f.names.size(); ++i) {
      if (upper == f.names[i]) return f.min + static_cast<int>(i);
    }
    if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      return fieldError(field, "\"" + text + "\": \"" + s + "\" is not a number");
    }
    const int n = std::stoi(s.substr(0, 6));
    if (n < f.min || n > f.max) {
      return fieldError(field, "\"" + text + "\": " + s + " is outside " + std::to_string(f.min) + "-" + std::to_string(f.max));
    }
    return n;
  };
  std::stringstream parts(text);
  for (std::string part; std::getline(parts, part, ',');) {
    int step = 1;
    if (auto slash = part.find('/'); slash != std::string::npos) {
      auto s = value(part.substr(slash + 1));
      if (!s.ok() || *s <= 0) return fieldError(field, "\"" + text + "\": bad step \"" + part.substr(slash + 1) + "\"");
      step = *s;
      part = part.substr(0, slash);
    }
    int lo = f.min, hi = f.max;
    if (part != "*" && part != "?") {
      auto dash = part.find('-');
      auto a = value(part.substr(0, dash));
      if (!a.ok()) return a.error();
      lo = hi = *a;
      if (dash != std::string::npos) {
        auto b = value(part.substr(dash + 1));
        if (!b.ok()) return b.error();
        hi = *b;
      } else if (step > 1) {
        hi = f.max;
      }
      if (lo > hi) return fieldError(field, "\"" + text + "\": range " + part + " goes backwards");
    }
    for (int v = lo; v <= hi; v += step) set[static_cast<size_t>(v)] = true;
  }
  return set;
}

}  // namespace

std::string BackupPolicy::destinationDescription() const {
  if (usesS3()) return "s3://" + s3Bucket + "/" + s3Prefix;
  return "pvc/" + pvcClaimName + (pvcPath == "/" ? "" : pvcPath);
}

Result<BackupPolicy> parseBackupPolicy(const Json& object) {
  BackupPolicy p;
  p.ns = jsonString(object, {"metadata", "namespace"});
  p.name = jsonString(object, {"metadata", "name"});
  p.uid = jsonString(object, {"metadata", "uid"});
  if (const Json* g = jsonAt(object, {"metadata", "generation"}); g && g->is_number_integer()) p.generation = g->get<int64_t>();
  const Json* specPtr = jsonAt(object, {"spec"});
  if (!specPtr || !specPtr->is_object()) return fieldError("spec", "is required");
  const Reader r{*specPtr};

  if (const Json* names = jsonAt(*specPtr, {"targets", "names"}); names && !names->is_null()) {
    if (!names->is_array()) return fieldError("spec.targets.names", "must be a list of names");
    for (size_t i = 0; i < names->size(); ++i) {
      if (!(*names)[i].is_string() || (*names)[i].get<std::string>().empty()) {
        return fieldError("spec.targets.names[" + std::to_string(i) + "]", "must be a ServiceDatabase name");
      }
      p.targetNames.push_back((*names)[i].get<std::string>());
    }
  }
  if (const Json* sel = jsonAt(*specPtr, {"targets", "selector"}); sel && !sel->is_null()) {
    auto parsed = LabelSelector::fromJson(*sel, "spec.targets.selector");
    if (!parsed.ok()) return parsed.error();
    p.targetSelector = *sel;
  }
  if (p.targetNames.empty() && p.targetSelector.is_null()) {
    return fieldError("spec.targets", "needs names or a selector");
  }
  SDB_ASSIGN(p.schedule, r.str({"schedule"}, p.schedule));
  if (auto interval = scheduleInterval(p.schedule); !interval.ok()) return interval.error();
  SDB_ASSIGN(p.timeZone, r.str({"timeZone"}, p.timeZone));
  if (p.timeZone.empty() || p.timeZone.find("..") != std::string::npos || p.timeZone.front() == '/') {
    return fieldError("spec.timeZone", "\"" + p.timeZone + "\" is not an IANA time zone name");
  }
  SDB_ASSIGN(p.suspend, r.boolean({"suspend"}, false));
  SDB_ASSIGN(p.keySecretName, r.str({"encryption", "keySecretRef", "name"}, ""));
  if (p.keySecretName.empty()) return fieldError("spec.encryption.keySecretRef.name", "is required");
  SDB_ASSIGN(p.activeKeyId, r.str({"encryption", "activeKeyId"}, ""));

  const bool pvc = jsonAt(*specPtr, {"destination", "pvc"}) != nullptr;
  const bool s3 = jsonAt(*specPtr, {"destination", "s3"}) != nullptr;
  if (pvc == s3) return fieldError("spec.destination", "exactly one of spec.destination.pvc and spec.destination.s3 must be set");
  if (pvc) {
    SDB_ASSIGN(p.pvcClaimName, r.str({"destination", "pvc", "claimName"}, ""));
    if (p.pvcClaimName.empty()) return fieldError("spec.destination.pvc.claimName", "is required");
    SDB_ASSIGN(p.pvcPath, r.str({"destination", "pvc", "path"}, "/"));
    if (p.pvcPath.empty()) p.pvcPath = "/";
    if (p.pvcPath.front() != '/' || p.pvcPath.find("..") != std::string::npos) {
      return fieldError("spec.destination.pvc.path", "\"" + p.pvcPath + "\" must be an absolute path without \"..\"");
    }
  } else {
    SDB_ASSIGN(p.s3Bucket, r.str({"destination", "s3", "bucket"}, ""));
    if (p.s3Bucket.size() < 3 || p.s3Bucket.size() > 63) {
      return fieldError("spec.destination.s3.bucket", "bucket names have 3 to 63 characters");
    }
    SDB_ASSIGN(p.s3Prefix, r.str({"destination", "s3", "prefix"}, ""));
    SDB_ASSIGN(p.s3Endpoint, r.str({"destination", "s3", "endpoint"}, ""));
    if (!p.s3Endpoint.empty() && p.s3Endpoint.rfind("http://", 0) != 0 && p.s3Endpoint.rfind("https://", 0) != 0) {
      return fieldError("spec.destination.s3.endpoint", "must start with http:// or https://");
    }
    SDB_ASSIGN(p.s3Region, r.str({"destination", "s3", "region"}, ""));
    SDB_ASSIGN(p.s3ForcePathStyle, r.boolean({"destination", "s3", "forcePathStyle"}, false));
    SDB_ASSIGN(p.s3CredentialsSecretName, r.str({"destination", "s3", "credentialsSecretRef", "name"}, ""));
    if (p.s3CredentialsSecretName.empty()) return fieldError("spec.destination.s3.credentialsSecretRef.name", "is required");
  }

  if (const Json* ret = jsonAt(*specPtr, {"retention"}); ret && !ret->is_null()) {
    p.retention = {};
    int64_t v = 0;
    SDB_ASSIGN(v, r.integer({"retention", "keepLast"}, 0, 0, 1000));
    p.retention.keepLast = static_cast<int>(v);
    SDB_ASSIGN(v, r.integer({"retention", "keepDaily"}, 0, 0, 1000));
    p.retention.keepDaily = static_cast<int>(v);
    SDB_ASSIGN(v, r.integer({"retention", "keepWeekly"}, 0, 0, 1000));
    p.retention.keepWeekly = static_cast<int>(v);
    SDB_ASSIGN(v, r.integer({"retention", "keepMonthly"}, 0, 0, 1000));
    p.retention.keepMonthly = static_cast<int>(v);
    SDB_ASSIGN(p.retention.maxAge, r.str({"retention", "maxAge"}, ""));
    if (!p.retention.maxAge.empty()) {
      auto d = parseGoDuration(p.retention.maxAge);
      if (!d.ok()) return fieldError("spec.retention.maxAge", d.error().message);
      if (d->count() < 1) return fieldError("spec.retention.maxAge", "must be positive");
    }
  }
  SDB_ASSIGN(p.accessLogEvents, r.boolean({"accessLog", "events"}, true));
  SDB_ASSIGN(p.auditStoreName, r.str({"accessLog", "auditStoreRef", "name"}, ""));
  p.hasVerify = jsonAt(*specPtr, {"verify"}) != nullptr && !(*specPtr)["verify"].is_null();
  SDB_ASSIGN(p.verifySchedule, r.str({"verify", "schedule"}, p.verifySchedule));
  if (p.hasVerify) {
    if (auto i = scheduleInterval(p.verifySchedule, "spec.verify.schedule"); !i.ok()) return i.error();
  }
  SDB_ASSIGN(p.verifyQuery, r.str({"verify", "query"}, ""));
  int64_t backoff = 0;
  SDB_ASSIGN(backoff, r.integer({"jobTemplate", "backoffLimit"}, 2, 0, 10));
  p.backoffLimit = static_cast<int>(backoff);
  SDB_ASSIGN(p.activeDeadlineSeconds, r.integer({"jobTemplate", "activeDeadlineSeconds"}, 21600, 60, INT64_MAX));
  if (const Json* res = jsonAt(*specPtr, {"jobTemplate", "resources"}); res && !res->is_null()) {
    if (!res->is_object()) return fieldError("spec.jobTemplate.resources", "must be an object with requests and limits");
    p.resources = *res;
  }
  return p;
}

TargetMatch matchTarget(const BackupPolicy& policy, const ServiceDatabase& sdb, const Json& sdbLabels) {
  TargetMatch m;
  const bool listed = std::find(policy.targetNames.begin(), policy.targetNames.end(), sdb.name) != policy.targetNames.end();
  if (!sdb.backupPolicyName.empty() && sdb.backupPolicyName != policy.name) {
    if (listed) {
      m.conflict = true;
      m.message = "spec.targets.names lists ServiceDatabase \"" + sdb.name + "\", whose spec.backupPolicyRef names "
                  "BackupPolicy \"" + sdb.backupPolicyName + "\"; its own reference wins, so this policy does not back it up";
    }
    return m;
  }
  if (listed || sdb.backupPolicyName == policy.name) {
    m.backedUp = true;
    return m;
  }
  if (!policy.targetSelector.is_null()) {
    auto sel = LabelSelector::fromJson(policy.targetSelector, "spec.targets.selector");
    std::map<std::string, std::string> labels;
    if (sdbLabels.is_object()) {
      for (const auto& [k, v] : sdbLabels.items()) {
        if (v.is_string()) labels[k] = v.get<std::string>();
      }
    }
    m.backedUp = sel.ok() && sel->matches(labels);
  }
  return m;
}

Result<std::chrono::minutes> scheduleInterval(const std::string& scheduleIn, const std::string& field) {
  std::string schedule = scheduleIn;
  static const std::array<std::pair<const char*, const char*>, 7> kDescriptors = {{{"@yearly", "0 0 1 1 *"},
                                                                                    {"@annually", "0 0 1 1 *"},
                                                                                    {"@monthly", "0 0 1 * *"},
                                                                                    {"@weekly", "0 0 * * 0"},
                                                                                    {"@daily", "0 0 * * *"},
                                                                                    {"@midnight", "0 0 * * *"},
                                                                                    {"@hourly", "0 * * * *"}}};
  for (const auto& [d, expansion] : kDescriptors) {
    if (schedule == d) schedule = expansion;
  }
  std::vector<std::string> parts;
  std::stringstream in(schedule);
  for (std::string p; in >> p;) parts.push_back(p);
  if (parts.size() != 5) {
    return fieldError(field, "\"" + scheduleIn + "\" needs five fields (minute hour day-of-month month day-of-week) or a "
                             "descriptor such as @daily");
  }
  const CronField minute{0, 59, {}}, hour{0, 23, {}}, dom{1, 31, {}},
      month{1, 12, {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
      dow{0, 7, {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}};
  bool star[5];
  auto mins = parseCronField(parts[0], minute, field, &star[0]);
  auto hours = parseCronField(parts[1], hour, field, &star[1]);
  auto doms = parseCronField(parts[2], dom, field, &star[2]);
  auto months = parseCronField(parts[3], month, field, &star[3]);
  auto dows = parseCronField(parts[4], dow, field, &star[4]);
  for (auto* f : {&mins, &hours, &doms, &months, &dows}) {
    if (!f->ok()) return f->error();
  }
  if ((*dows)[7]) (*dows)[0] = true;
  // Fire minutes within a day, the same on every matching day.
  std::vector<int> daily;
  for (int h = 0; h < 24; ++h) {
    for (int m = 0; m < 60; ++m) {
      if ((*hours)[static_cast<size_t>(h)] && (*mins)[static_cast<size_t>(m)]) daily.push_back(h * 60 + m);
    }
  }
  int64_t maxGap = 0;
  for (size_t i = 1; i < daily.size(); ++i) maxGap = std::max<int64_t>(maxGap, daily[i] - daily[i - 1]);
  using namespace std::chrono;
  const sys_days start = sys_days{year{2024} / January / 1}, end = sys_days{year{2032} / January / 1};
  std::optional<int64_t> lastFire;
  for (sys_days d = start; d < end; d += days{1}) {
    const year_month_day ymd{d};
    const unsigned wd = weekday{d}.c_encoding();
    const bool domMatch = (*doms)[static_cast<unsigned>(ymd.day())];
    const bool dowMatch = (*dows)[wd];
    // Standard cron: when both day fields are restricted, either may match.
    const bool dayMatch = (star[2] || star[4]) ? (domMatch && dowMatch) : (domMatch || dowMatch);
    if (!dayMatch || !(*months)[static_cast<unsigned>(ymd.month())] || daily.empty()) continue;
    const int64_t base = (d - start).count() * 1440;
    if (lastFire) maxGap = std::max(maxGap, base + daily.front() - *lastFire);
    lastFire = base + daily.back();
  }
  if (!lastFire || maxGap == 0) {
    return fieldError(field, "\"" + scheduleIn + "\" never runs, or runs at most once in eight years");
  }
  return minutes(maxGap);
}

}  // namespace sdb::specs
