#include "operator/main/kube_client_factory.h"

#include "operator/core/log.h"
#include "operator/kube/cpprest_transport.h"
#include "operator/kube/http_client.h"
#include "operator/kube/rest_config.h"

namespace sdb::cli {

Result<std::unique_ptr<kube::KubeClient>> makeKubeClient(const RunOptions& options) {
  auto config = kube::loadRestConfig(options.kubeconfig, options.context);
  if (!config.ok()) return config.error();
  if (kube::skipSystemTrustStoreLoad(*config)) {
    logStructured(spdlog::level::debug, "the system trust store is not loaded: the API server's CA is configured", {});
  }
  auto client = kube::HttpKubeClient::fromConfig(*config);
  if (!client.ok()) return client.error();
  logStructured(spdlog::level::info, "Kubernetes API", {{"server", config->server}, {"config", config->source}});
  return std::unique_ptr<kube::KubeClient>(std::move(*client));
}

}  // namespace sdb::cli
