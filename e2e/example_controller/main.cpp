// example-controller: the runtime's example controller as a process (test-only; see
// greeting_reconciler.h). The same building blocks as `servicedb-operator run`: kubeconfig or
// in-cluster config, the HTTP client, informers, a leader-elected manager with /metrics and /readyz.
//   example-controller --kubeconfig FILE --lease-namespace NS [--identity ID] [flags]
// Its User-Agent is "example-controller/<identity>", so the local cluster's faults can target one
// replica among several.
#include <unistd.h>

#include <iostream>

#include "e2e/example_controller/greeting_reconciler.h"
#include "operator/core/log.h"
#include "operator/core/random.h"
#include "operator/kube/http_client.h"
#include "operator/kube/rest_config.h"
#include "operator/main/flags.h"

using namespace sdb;

int main(int argc, char** argv) {
  std::string kubeconfig, context, identity, leaseNamespace, leaseName = "example-controller-leader";
  std::string metricsAddress = "127.0.0.1:0", healthAddress = "127.0.0.1:0";
  std::vector<std::string> watchNamespaces;
  bool leaderElect = true;
  int leaseSeconds = 15, renewSeconds = 10, retrySeconds = 2, shutdownSeconds = 10;
  LogOptions log;
  cli::FlagSet flags("example-controller");
  flags.addString("kubeconfig", &kubeconfig, "path to a kubeconfig (default: $KUBECONFIG, in-cluster, ~/.kube/config)");
  flags.addString("context", &context, "kubeconfig context");
  flags.addString("identity", &identity, "leader-election identity (default: hostname_random)");
  flags.addBool("leader-elect", &leaderElect, "use a Lease so only one replica reconciles");
  flags.addString("lease-namespace", &leaseNamespace, "namespace of the Lease (required with --leader-elect)");
  flags.addString("lease-name", &leaseName, "name of the Lease");
  flags.addInt("lease-duration-seconds", &leaseSeconds, "Lease duration");
  flags.addInt("renew-deadline-seconds", &renewSeconds, "a leader that cannot renew within this steps down");
  flags.addInt("retry-period-seconds", &retrySeconds, "interval of acquire/renew attempts");
  flags.addStringList("watch-namespaces", &watchNamespaces, "namespaces to watch (default: all)");
  flags.addString("metrics-bind-address", &metricsAddress, "address of /metrics");
  flags.addString("health-probe-bind-address", &healthAddress, "address of /healthz and /readyz");
  flags.addInt("graceful-shutdown-timeout", &shutdownSeconds, "seconds to wait for in-flight reconciles");
  flags.addString("log-level", &log.level, "trace, debug, info, warn, error or off");
  auto parsed = flags.parse(std::vector<std::string>(argv + 1, argv + argc));
  if (!parsed.ok()) {
    std::cerr << "example-controller: " << parsed.error().message << "\n";
    return 2;
  }
  if (flags.helpRequested()) {
    std::cout << "Usage: example-controller [flags]\n\n" << flags.usage();
    return 0;
  }
  if (leaderElect && leaseNamespace.empty()) {
    std::cerr << "example-controller: --lease-namespace: required with --leader-elect\n";
    return 2;
  }
  if (!(renewSeconds < leaseSeconds && retrySeconds < renewSeconds && retrySeconds > 0)) {
    std::cerr << "example-controller: need 0 < --retry-period-seconds < --renew-deadline-seconds < --lease-duration-seconds\n";
    return 2;
  }
  if (auto s = setupLogging(log); !s.ok()) {
    std::cerr << "example-controller: " << s.error().message << "\n";
    return 2;
  }
  if (identity.empty()) {
    char host[256] = {0};
    ::gethostname(host, sizeof host - 1);
    auto suffix = CryptoRandom::instance().hex(4);
    identity = std::string(host) + "_" + (suffix.ok() ? *suffix : std::to_string(::getpid()));
  }
  auto config = kube::loadRestConfig(kubeconfig, context);
  if (!config.ok()) {
    logStructured(spdlog::level::err, "cannot load the Kubernetes config", {{"error", config.error().message}});
    return 1;
  }
  kube::HttpClientOptions co;
  co.userAgent = "example-controller/" + identity;
  auto client = kube::HttpKubeClient::fromConfig(*config, co);
  if (!client.ok()) {
    logStructured(spdlog::level::err, "cannot create the Kubernetes client", {{"error", client.error().message}});
    return 1;
  }
  runtime::installShutdownSignalHandlers();
  runtime::ManagerOptions mo;
  mo.cacheOnlyManagedChildren = false;  // its ConfigMaps are its own, not labelled managed-by servicedb-operator
  mo.watchNamespaces = watchNamespaces;
  mo.leaderElect = leaderElect;
  mo.metricsAddress = metricsAddress;
  mo.healthAddress = healthAddress;
  mo.shutdownTimeout = std::chrono::seconds(shutdownSeconds);
  mo.podName = identity;
  mo.leaderElection.leaseNamespace = leaseNamespace;
  mo.leaderElection.leaseName = leaseName;
  mo.leaderElection.identity = identity;
  mo.leaderElection.leaseDuration = std::chrono::seconds(leaseSeconds);
  mo.leaderElection.renewDeadline = std::chrono::seconds(renewSeconds);
  mo.leaderElection.retryPeriod = std::chrono::seconds(retrySeconds);
  runtime::Manager manager(**client, mo);
  auto reconciler = example::addGreetingController(manager, identity);
  logStructured(spdlog::level::info, "example controller", {{"identity", identity}, {"server", config->server}});
  return manager.run();
}
