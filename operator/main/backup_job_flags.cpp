#include "operator/main/backup_job_flags.h"

#include <cstdio>
#include <iostream>

#include "operator/backup/prune.h"
#include "operator/backup/runner.h"
#include "operator/core/clock.h"
#include "operator/kube/http_client.h"
#include "operator/kube/rest_config.h"
#include "operator/specs/backup_job.h"
#include "operator/specs/servicedatabase.h"

namespace sdb::cli {

void BackupJobFlags::add(FlagSet& f) {
  f.addInt("keep-last", &keepLast, "retention after a successful backup: keep the newest N");
  f.addInt("keep-daily", &keepDaily, "retention: keep the newest backup of each of the last N days with backups");
  f.addInt("keep-weekly", &keepWeekly, "retention: ... of each of the last N ISO weeks with backups");
  f.addInt("keep-monthly", &keepMonthly, "retention: ... of each of the last N months with backups");
  f.addString("max-age", &maxAge, "retention: keep every backup younger than this Go duration (e.g. 2160h)");
  addReporting(f);
}

void BackupJobFlags::addReporting(FlagSet& f) {
  f.addString("policy", &policy, "the BackupPolicy that runs this backup (Events are recorded on it)");
  f.addBool("events", &events, "also send each access-log entry as a Kubernetes Event on --policy");
  f.addString("report-configmap", &reportConfigMap, "ConfigMap in the target's namespace to write the run's result to");
  f.addString("kubeconfig", &kubeconfig, "kubeconfig for --events/--report-configmap (default: in-cluster)");
}

std::string BackupJobFlags::validate() const {
  for (auto [name, v] : {std::pair{"--keep-last", keepLast}, {"--keep-daily", keepDaily}, {"--keep-weekly", keepWeekly},
                         {"--keep-monthly", keepMonthly}}) {
    if (v < -1 || v > 1000) return std::string(name) + ": must be 0 to 1000";
  }
  if (!maxAge.empty()) {
    auto d = specs::parseGoDuration(maxAge);
    if (!d.ok()) return "--max-age: " + d.error().message;
    if (d->count() < 1) return "--max-age: must be positive";
  }
  if (events && policy.empty()) return "--events needs --policy (the object the Events are recorded on)";
  return "";
}

backup::RetentionRules BackupJobFlags::rules() const {
  backup::RetentionRules r;
  r.keepLast = std::max(keepLast, 0);
  r.keepDaily = std::max(keepDaily, 0);
  r.keepWeekly = std::max(keepWeekly, 0);
  r.keepMonthly = std::max(keepMonthly, 0);
  if (!maxAge.empty()) r.maxAge = *specs::parseGoDuration(maxAge);
  return r;
}

Status KubeEventSink::record(const backup::AccessLogEntry& e) {
  std::string reason = "Backup" + e.action;
  reason[6] = static_cast<char>(std::toupper(static_cast<unsigned char>(reason[6])));
  const std::string ts = formatRfc3339(e.time);
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(e.time.time_since_epoch()).count();
  char suffix[40];
  std::snprintf(suffix, sizeof suffix, ".%llx", static_cast<unsigned long long>(nanos));
  Json ev = {{"apiVersion", "v1"},
             {"kind", "Event"},
             {"metadata", {{"name", policy_ + suffix}, {"namespace", ns_}}},
             {"involvedObject", {{"apiVersion", "servicedb.io/v1alpha1"}, {"kind", "BackupPolicy"}, {"name", policy_},
                                 {"namespace", ns_}}},
             {"reason", reason},
             {"message", backup::accessLogLine(e)},
             {"type", e.result == backup::access::kFailed ? "Warning" : "Normal"},
             {"source", {{"component", "servicedb-backup"}}},
             {"firstTimestamp", ts},
             {"lastTimestamp", ts},
             {"count", 1},
             {"reportingComponent", "servicedb-backup"},
             {"reportingInstance", e.actor}};
  ev["message"] = ev["message"].get<std::string>().substr(0, ev["message"].get<std::string>().size() - 1);
  auto r = client_.create(kube::resources::kEvents, ns_, ev, {});
  if (!r.ok()) return Error(ErrorCode::kUnavailable, "creating an Event: " + r.error().toString());
  return okStatus();
}

Result<std::unique_ptr<kube::KubeClient>> backupJobKubeClient(const BackupJobFlags& flags) {
  auto config = kube::loadRestConfig(flags.kubeconfig, "");
  if (!config.ok()) return config.error();
  auto client = kube::HttpKubeClient::fromConfig(*config);
  if (!client.ok()) return client.error();
  return std::unique_ptr<kube::KubeClient>(std::move(*client));
}

Json backupRunJson(const BackupRunReport& r) {
  Json j = {{"time", r.time}, {"result", r.result}};
  if (!r.id.empty()) j["id"] = r.id;
  if (r.sizeBytes >= 0) j["sizeBytes"] = r.sizeBytes;
  if (r.durationSeconds >= 0) j["durationSeconds"] = r.durationSeconds;
  if (!r.message.empty()) j["message"] = r.message;
  return j;
}

Status patchBackupReport(kube::KubeClient& client, const std::string& ns, const std::string& name,
                         const BackupRunReport& report) {
  Json data = {{specs::kReportLastAttempt, backupRunJson(report).dump()}};
  if (report.result == "Succeeded") {
    data[specs::kReportLastSuccess] = backupRunJson(report).dump();
    if (report.kept) data[specs::kReportKept] = std::to_string(*report.kept);
  }
  return patchReport(client, ns, name, data);
}

Status patchDrillReport(kube::KubeClient& client, const std::string& ns, const std::string& name,
                        const BackupRunReport& report) {
  return patchReport(client, ns, name, {{specs::kReportLastVerifiedRestore, backupRunJson(report).dump()}});
}

Status patchReport(kube::KubeClient& client, const std::string& ns, const std::string& name, const Json& data) {
  kube::PatchOptions opts;
  opts.fieldManager = "servicedb-backup";
  auto r = client.patch(kube::resources::kConfigMaps, ns, name, kube::PatchType::kMerge, Json{{"data", data}}.dump(), opts);
  if (!r.ok()) return Error(ErrorCode::kUnavailable, "writing the report to ConfigMap " + name + ": " + r.error().toString());
  return okStatus();
}

void finishBackupJob(const BackupJobFlags& flags, kube::KubeClient* kube, backup::Destination& dest,
                     const backup::AccessLogContext& log, const std::string& backupId, int code,
                     std::chrono::system_clock::time_point started) {
  const auto now = std::chrono::system_clock::now();
  BackupRunReport report;
  report.time = formatRfc3339(now);
  report.id = backupId;
  report.durationSeconds = std::chrono::duration<double>(now - started).count();
  if (code != 0 && code != 3) {
    report.result = "Failed";
    report.message = "servicedb-operator backup exited with " + std::to_string(code) + "; see the Job's log";
  } else {
    report.result = "Succeeded";
    if (code == 3) report.message = "written, but a key id that retained backups use is missing from the key Secret";
    if (auto m = backup::readManifestUnverified(dest, log.target, backupId); m.ok()) {
      report.sizeBytes = m->value("size", static_cast<int64_t>(-1));
      std::chrono::system_clock::time_point a, b;
      if (parseRfc3339(m->value("startedAt", ""), &a) && parseRfc3339(m->value("finishedAt", ""), &b)) {
        report.time = m->value("finishedAt", report.time);
        report.durationSeconds = std::chrono::duration<double>(b - a).count();
      }
    }
    if (flags.prunes()) {
      auto pruned = backup::pruneBackups(dest, log, flags.rules(), backupId, now);
      if (!pruned.ok()) {
        std::cerr << "servicedb-operator backup: retention: " << pruned.error().message << "\n";
        report.message += (report.message.empty() ? "" : "; ") + std::string("retention failed: ") + pruned.error().message;
      } else {
        report.kept = static_cast<int64_t>(pruned->kept.size());
        std::cerr << "servicedb-operator backup: retention (" << flags.rules().describe() << "): kept "
                  << pruned->kept.size() << ", deleted " << pruned->deleted.size() << "\n";
        for (const auto& f : pruned->failed) {
          std::cerr << "servicedb-operator backup: retention: could not delete " << f << "\n";
          report.message += (report.message.empty() ? "" : "; ") + std::string("could not delete ") + f;
        }
      }
    }
  }
  if (kube != nullptr && !flags.reportConfigMap.empty()) {
    const std::string ns = log.target.substr(0, log.target.find('/'));
    if (auto s = patchBackupReport(*kube, ns, flags.reportConfigMap, report); !s.ok()) {
      std::cerr << "servicedb-operator backup: warning: " << s.error().message << "\n";
    }
  }
}

}  // namespace sdb::cli
