#include "operator/main/manager_wiring.h"

#include <unistd.h>

#include <fstream>

#include "controllers/backuppolicy/wiring.h"
#include "controllers/placeholder/placeholder.h"
#include "controllers/servicedatabase/wiring.h"
#include "operator/core/log.h"
#include "operator/core/random.h"
#include "operator/runtime/manager.h"

namespace sdb::cli {

Result<std::string> resolveOperatorNamespace(const std::string& flag, const std::string& file) {
  if (!flag.empty()) return flag;
  std::ifstream in(file);
  std::string ns;
  if (in && std::getline(in, ns)) {
    while (!ns.empty() && (ns.back() == '\n' || ns.back() == '\r' || ns.back() == ' ')) ns.pop_back();
    if (!ns.empty()) return ns;
  }
  return invalidArgument("--operator-namespace: not set, and " + file +
                         " is not readable (not running in a cluster); pass --operator-namespace");
}

int runManagerWith(kube::KubeClient& client, const RunOptions& options) {
  runtime::installShutdownSignalHandlers();
  runtime::ManagerOptions mo;
  mo.watchNamespaces = options.watchNamespaces;
  mo.leaderElect = options.leaderElect;
  mo.metricsAddress = options.metricsAddress;
  mo.healthAddress = options.healthAddress;
  mo.shutdownTimeout = std::chrono::seconds(options.shutdownTimeoutSeconds);
  mo.resyncPeriod = options.syncPeriod;
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  mo.podName = host;
  if (options.leaderElect) {
    auto ns = resolveOperatorNamespace(options.operatorNamespace);
    if (!ns.ok()) {
      logStructured(spdlog::level::err, "cannot elect a leader", {{"error", ns.error().message}});
      return 2;
    }
    mo.leaderElection.leaseNamespace = *ns;
    mo.leaderElection.leaseName = options.leaseName;
    auto suffix = CryptoRandom::instance().hex(4);
    mo.leaderElection.identity = std::string(host) + "_" + (suffix.ok() ? *suffix : std::to_string(::getpid()));
  }
  runtime::Manager manager(client, mo);
  controllers::servicedatabase::ControllerOptions sdbOptions;
  sdbOptions.reconciler.engineRecheckInterval = options.engineRecheckInterval;
  sdbOptions.reconciler.restoreJob.operatorImage = options.operatorImage;
  if (auto ns = resolveOperatorNamespace(options.operatorNamespace); ns.ok()) {
    sdbOptions.dedicated.operatorNamespace = *ns;
  } else {
    logStructured(spdlog::level::warn, "dedicated instances are disabled", {{"reason", ns.error().message}});
  }
  sdbOptions.dedicated.operatorCidrs = options.operatorCidrs;
  if (!options.operatorImage.empty()) sdbOptions.reconciler.migrations.job.operatorImage = options.operatorImage;
  sdbOptions.dedicated.tls.validity = options.instanceCertValidity;
  for (const auto& p : options.postgresParameters) {
    const auto eq = p.find('=');
    sdbOptions.postgresInstance.extraSettings[p.substr(0, eq)] = p.substr(eq + 1);
  }
  sdbOptions.redisInstance.appendOnly = options.redisAppendOnly;
  sdbOptions.redisInstance.appendFsync = options.redisAppendFsync;
  sdbOptions.redisInstance.maxmemoryPolicy = options.redisMaxmemoryPolicy;
  // ServiceDatabase: the real controller (engines and modes it does not implement yet are reported
  // Stalled/NotImplemented on the object). The other kinds keep the placeholder until theirs land.
  auto serviceDatabases = controllers::servicedatabase::addServiceDatabaseController(manager, std::move(sdbOptions));
  controllers::backuppolicy::ControllerOptions bpOptions;
  bpOptions.reconciler.job.operatorImage = options.operatorImage;
  auto backupPolicies = controllers::backuppolicy::addBackupPolicyController(manager, std::move(bpOptions));
  auto placeholders =
      controllers::addPlaceholderControllers(manager, {kube::resources::kReadReplicas, kube::resources::kAuditStores});
  return manager.run();
}

}  // namespace sdb::cli
