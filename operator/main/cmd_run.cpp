// `servicedb-operator run`: the controller manager. Flags are parsed and checked here; the manager
// itself is wired up by the runtime issue. Until then it says so and exits 1 rather than pretending.
#include <iostream>

#include "operator/core/log.h"
#include "operator/main/commands.h"
#include "operator/main/flags.h"

namespace sdb::cli {

int runManager(const std::vector<std::string>& args) {
  LogOptions log;
  std::string kubeconfig, context, operatorNamespace, metricsAddr = ":8080", healthAddr = ":8081";
  std::vector<std::string> watchNamespaces;
  bool leaderElect = true;
  FlagSet flags("run");
  flags.addString("kubeconfig", &kubeconfig, "path to a kubeconfig; empty means in-cluster config");
  flags.addString("context", &context, "kubeconfig context to use instead of current-context");
  flags.addStringList("watch-namespaces", &watchNamespaces, "comma-separated namespaces to watch; empty means all");
  flags.addString("operator-namespace", &operatorNamespace, "namespace the operator runs in (default: from the in-cluster file)");
  flags.addBool("leader-elect", &leaderElect, "use a Lease so only one replica reconciles");
  flags.addString("metrics-bind-address", &metricsAddr, "address of the /metrics endpoint");
  flags.addString("health-probe-bind-address", &healthAddr, "address of /healthz and /readyz");
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
  auto logged = setupLogging(log);
  if (!logged.ok()) {
    std::cerr << "servicedb-operator run: " << logged.error().message << "\n";
    return 2;
  }
  std::cerr << "servicedb-operator run: the controller manager is not implemented yet (issue: Kubernetes client and "
               "controller runtime)\n";
  return 1;
}

}  // namespace sdb::cli
