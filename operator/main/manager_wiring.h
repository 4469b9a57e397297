// Wiring of `servicedb-operator run`: turns parsed flags into a runtime::Manager with the
// ServiceDatabase (controllers/servicedatabase) and BackupPolicy (controllers/backuppolicy)
// controllers and the placeholder controllers of the other kinds, and runs it. Separate from cmd_run.cpp (flag parsing and the HTTP client) so the wiring
// is testable over the in-process client.
//
// Contract: runManagerWith() blocks until SIGTERM/SIGINT (handlers installed here) and returns the
// exit code: 0 after a graceful shutdown, 1 on failure or lost leadership.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "operator/core/result.h"
#include "operator/kube/client.h"
#include "operator/specs/backup_job.h"

namespace sdb::cli {

struct RunOptions {
  std::string kubeconfig, context;
  std::string operatorNamespace;  // flag; else the in-cluster file
  std::vector<std::string> watchNamespaces;
  bool leaderElect = true;
  std::string leaseName = "servicedb-operator-leader";
  std::string metricsAddress = ":8080";
  std::string healthAddress = ":8081";
  int shutdownTimeoutSeconds = 30;
  std::chrono::seconds syncPeriod{std::chrono::minutes(10)};  // informer resync: every object reconciled again
  // ServiceDatabase: a reconcile with unchanged inputs skips the server within this long of a success
  // (ReconcilerOptions::engineRecheckInterval); 0 observes the server on every reconcile. Keep it
  // below syncPeriod so that every resync re-observes the server.
  std::chrono::seconds engineRecheckInterval{std::chrono::minutes(5)};
  // Dedicated instances.
  std::chrono::seconds instanceCertValidity{std::chrono::hours(24 * 90)};
  std::vector<std::string> operatorCidrs;
  std::vector<std::string> postgresParameters;  // name=value
  bool redisAppendOnly = true;
  std::string redisAppendFsync = "everysec";
  std::string redisMaxmemoryPolicy = "noeviction";
  // Built-in migration Jobs run this image (`servicedb-operator migrate`): the operator's own.
  std::string operatorImage;  // "" = specs::defaultOperatorImage()
};

inline constexpr const char* kServiceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

// The flag if set, else the first line of `file`; an error names both when neither is usable.
Result<std::string> resolveOperatorNamespace(const std::string& flag, const std::string& file = kServiceAccountNamespaceFile);

int runManagerWith(kube::KubeClient& client, const RunOptions& options);

}  // namespace sdb::cli
