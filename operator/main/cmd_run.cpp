// `servicedb-operator run`: the controller manager. Flags are parsed and checked here; the manager is
// wired in manager_wiring.cpp; the Kubernetes client comes from kube_client_factory.cpp.
#include <malloc.h>

#include <cstdlib>
#include <iostream>

#include "controllers/servicedatabase/redis_dedicated.h"
#include "operator/core/log.h"
#include "operator/kube/cpprest_transport.h"
#include "operator/main/commands.h"
#include "operator/main/flags.h"
#include "operator/main/kube_client_factory.h"
#include "operator/main/manager_wiring.h"
#include "operator/specs/migration_job.h"
#include "operator/specs/servicedatabase.h"

namespace sdb::cli {

int runManager(const std::vector<std::string>& args) {
  // The manager runs some 50 threads (informers, workers, cpprestsdk's pool); glibc would give
  // busy ones their own malloc arena each. Two arenas cost nothing measurable here and save about
  // 3.5 MiB of RSS with 200 ServiceDatabases (bench/servicedatabase). MALLOC_ARENA_MAX still wins.
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);
  // cpprestsdk's pool only runs I/O completion handlers; its default of 40 threads is most of the
  // manager's threads (89 -> 53 with 4) and 0.5 MiB of RSS.
  if (auto sized = kube::setCpprestThreadPoolSize(4); !sized.ok()) {
    std::cerr << "servicedb-operator run: " << sized.error().message << "\n";
    return 1;
  }
  LogOptions log;
  RunOptions run;
  FlagSet flags("run");
  flags.addString("kubeconfig", &run.kubeconfig, "path to a kubeconfig; empty means in-cluster config");
  flags.addString("context", &run.context, "kubeconfig context to use instead of current-context");
  flags.addStringList("watch-namespaces", &run.watchNamespaces, "comma-separated namespaces to watch; empty means all");
  flags.addString("operator-namespace", &run.operatorNamespace,
                  "namespace the operator runs in (default: from the in-cluster service-account file)");
  flags.addBool("leader-elect", &run.leaderElect, "use a Lease so only one replica reconciles");
  flags.addString("leader-election-id", &run.leaseName, "name of the Lease used for leader election");
  flags.addString("metrics-bind-address", &run.metricsAddress, "address of the /metrics endpoint (\"0\" disables it)");
  flags.addString("health-probe-bind-address", &run.healthAddress, "address of /healthz and /readyz");
  flags.addInt("graceful-shutdown-timeout", &run.shutdownTimeoutSeconds,
               "seconds to wait for in-flight reconciles on SIGTERM/SIGINT");
  std::string syncPeriod = "10m";
  flags.addString("sync-period", &syncPeriod,
                  "how often every cached object is reconciled again, as a Go duration (10m, 1h30m)");
  std::string engineRecheck = "5m";
  flags.addString("engine-recheck-interval", &engineRecheck,
                  "ServiceDatabase: skip the database server for an unchanged object within this long of a "
                  "success, as a Go duration; 0s observes the server on every reconcile. Keep it below "
                  "--sync-period so that every resync re-observes the server");
  std::string certValidity = "2160h";
  flags.addString("instance-cert-validity", &certValidity,
                  "dedicated instances: validity of a server certificate, as a Go duration; it is renewed after "
                  "two thirds of it (default 2160h = 90 days; short values are for tests)");
  flags.addStringList("operator-cidrs", &run.operatorCidrs,
                      "dedicated instances: comma-separated CIDRs their NetworkPolicy also admits, for an operator "
                      "running outside the pod network (development, e2e); empty in a cluster");
  flags.addStringList("postgres-parameters", &run.postgresParameters,
                      "dedicated PostgreSQL: comma-separated name=value settings added to every instance's "
                      "postgresql.conf (e.g. log_statement=mod); a change rolls the instances");
  flags.addBool("redis-appendonly", &run.redisAppendOnly,
                "dedicated Redis: AOF persistence (appendonly yes); false keeps only Redis' RDB snapshots");
  flags.addString("redis-appendfsync", &run.redisAppendFsync,
                  "dedicated Redis: when the AOF is fsynced: always, everysec or no");
  flags.addString("redis-maxmemory-policy", &run.redisMaxmemoryPolicy,
                  "dedicated Redis: what happens at maxmemory (half the memory limit): noeviction (writes fail "
                  "with OOM), allkeys-lru, allkeys-lfu, ... (Redis' maxmemory-policy)");
  const char* imageEnv = std::getenv("SERVICEDB_OPERATOR_IMAGE");
  run.operatorImage = imageEnv && *imageEnv ? imageEnv : specs::defaultOperatorImage();
  flags.addString("operator-image", &run.operatorImage,
                  "the operator's own image, which built-in migration Jobs run (default: $SERVICEDB_OPERATOR_IMAGE, "
                  "else " + specs::defaultOperatorImage() + "; the chart and the kustomize base set it to the "
                  "image they deploy)");
  flags.addString("log-level", &log.level, "trace, debug, info, warn, error or off");
  flags.addString("log-format", &log.format, "json or text");
  auto parsed = flags.parse(args);
  if (!parsed.ok()) {
    std::cerr << "servicedb-operator " << parsed.error().message << "\n";
    return 2;
  }
  if (flags.helpRequested()) {
    std::cout << "Usage: servicedb-operator run [flags]\n\n" << flags.usage();
    return 0;
  }
  if (run.shutdownTimeoutSeconds < 0) {
    std::cerr << "servicedb-operator run: --graceful-shutdown-timeout: must not be negative\n";
    return 2;
  }
  auto period = specs::parseGoDuration(syncPeriod);
  if (!period.ok() || period->count() < 1) {
    std::cerr << "servicedb-operator run: --sync-period: " << (period.ok() ? "must be at least 1s" : period.error().message)
              << "\n";
    return 2;
  }
  run.syncPeriod = *period;
  auto recheck = specs::parseGoDuration(engineRecheck);
  if (!recheck.ok()) {
    std::cerr << "servicedb-operator run: --engine-recheck-interval: " << recheck.error().message << "\n";
    return 2;
  }
  run.engineRecheckInterval = *recheck;
  auto validity = specs::parseGoDuration(certValidity);
  if (!validity.ok() || validity->count() < 60) {
    std::cerr << "servicedb-operator run: --instance-cert-validity: "
              << (validity.ok() ? "must be at least 1m" : validity.error().message) << "\n";
    return 2;
  }
  run.instanceCertValidity = *validity;
  for (const auto& p : run.postgresParameters) {
    if (p.find('=') == std::string::npos || p.front() == '=') {
      std::cerr << "servicedb-operator run: --postgres-parameters: \"" << p << "\" is not name=value\n";
      return 2;
    }
  }
  {
    controllers::servicedatabase::RedisDedicatedOptions redis;
    redis.appendOnly = run.redisAppendOnly;
    redis.appendFsync = run.redisAppendFsync;
    redis.maxmemoryPolicy = run.redisMaxmemoryPolicy;
    if (auto s = controllers::servicedatabase::validateRedisDedicatedOptions(redis); !s.ok()) {
      std::cerr << "servicedb-operator run: " << s.error().message << "\n";
      return 2;
    }
  }
  if (run.operatorImage.empty()) {
    std::cerr << "servicedb-operator run: --operator-image: must not be empty\n";
    return 2;
  }
  auto logged = setupLogging(log);
  if (!logged.ok()) {
    std::cerr << "servicedb-operator run: " << logged.error().message << "\n";
    return 2;
  }
  auto client = makeKubeClient(run);
  if (!client.ok()) {
    logStructured(spdlog::level::err, "cannot create the Kubernetes client", {{"error", client.error().message}});
    return 1;
  }
  return runManagerWith(**client, run);
}

}  // namespace sdb::cli
