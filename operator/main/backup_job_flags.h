// What `servicedb-operator backup` does besides the backup when a BackupPolicy's CronJob runs it
// (specs/backup_job.h builds those flags): retention after a successful backup (--keep-*,
// --max-age), Kubernetes Events for access-log entries (--events with --policy), and the report
// ConfigMap the BackupPolicy controller reads (--report-configmap). Without these flags `backup`
// behaves as before: no pruning, no API calls.
//
// The Kubernetes client is the in-cluster one (the Job's ServiceAccount), or --kubeconfig for tests.
// Its Role allows exactly: get/patch of the report ConfigMap, create of Events.
//
// Contract: single-threaded; used once per process by cmd_backup.cpp.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "operator/backup/access_log.h"
#include "operator/backup/destination.h"
#include "operator/backup/retention.h"
#include "operator/kube/client.h"
#include "operator/main/flags.h"

namespace sdb::cli {

struct BackupJobFlags {
  int keepLast = -1, keepDaily = -1, keepWeekly = -1, keepMonthly = -1;  // -1: not given
  std::string maxAge;
  std::string policy, reportConfigMap, kubeconfig;
  bool events = false;

  void add(FlagSet& flags);           // retention and reporting
  void addReporting(FlagSet& flags);  // --policy, --events, --report-configmap, --kubeconfig
  // Usage errors name the flag.
  std::string validate() const;
  bool prunes() const { return keepLast >= 0 || keepDaily >= 0 || keepWeekly >= 0 || keepMonthly >= 0 || !maxAge.empty(); }
  backup::RetentionRules rules() const;
  bool needsKube() const { return !reportConfigMap.empty() || (events && !policy.empty()); }
};

// Sends each access-log entry as an Event on the BackupPolicy (involvedObject kind BackupPolicy,
// name --policy): Normal, or Warning for a failure; reason BackupWritten, BackupListed, BackupRead,
// BackupRestored or BackupDeleted; the message is the entry's JSON line.
class KubeEventSink final : public backup::AccessLogSink {
 public:
  KubeEventSink(kube::KubeClient& client, std::string ns, std::string policy)
      : client_(client), ns_(std::move(ns)), policy_(std::move(policy)) {}
  Status record(const backup::AccessLogEntry& entry) override;

 private:
  kube::KubeClient& client_;
  std::string ns_, policy_;
};

// The Job's Kubernetes client (in-cluster or --kubeconfig), when the flags need one.
Result<std::unique_ptr<kube::KubeClient>> backupJobKubeClient(const BackupJobFlags& flags);

// One run's outcome for the report ConfigMap (specs/backup_job.h: lastAttempt, lastSuccess, kept).
struct BackupRunReport {
  std::string time, id, result, message;  // result: Succeeded or Failed
  int64_t sizeBytes = -1;
  double durationSeconds = -1;
  std::optional<int64_t> kept;
};
Json backupRunJson(const BackupRunReport& r);
// Merge-patches the report ConfigMap: lastAttempt always, lastSuccess and kept on success.
Status patchBackupReport(kube::KubeClient& client, const std::string& ns, const std::string& name,
                         const BackupRunReport& report);

// Merge-patches the report ConfigMap with a restore drill's outcome (lastVerifiedRestore).
Status patchDrillReport(kube::KubeClient& client, const std::string& ns, const std::string& name,
                        const BackupRunReport& report);
// Merge-patches `data` (string values) into the report ConfigMap.
Status patchReport(kube::KubeClient& client, const std::string& ns, const std::string& name, const Json& data);

// After the engine's backup ran with exit `code` (0 written, 3 written with a key warning, else failed):
// on success, prune per the flags (reading the fresh backup's manifest for the report); then write the
// report ConfigMap when asked. Problems here are printed and reported, and never change the exit
// code: the backup itself is what the code is about (a pruning failure shows in lastAttempt.message).
void finishBackupJob(const BackupJobFlags& flags, kube::KubeClient* kube, backup::Destination& destination,
                     const backup::AccessLogContext& log, const std::string& backupId, int code,
                     std::chrono::system_clock::time_point started);

}  // namespace sdb::cli
