// InstrumentedKubeClient: a KubeClient decorator counting every request in
// rest_client_requests_total{code,method,host} (client-go's metric). The code is the HTTP status the
// call ended with ("200", "201", "404", ...; "<error>" for network failures, as client-go does).
//
// Contract: thread-safe when the wrapped client is; the wrapped client and metrics must outlive it.
#pragma once

#include <string>

#include "operator/kube/client.h"
#include "operator/runtime/metrics.h"

namespace sdb::runtime {

class InstrumentedKubeClient final : public kube::KubeClient {
 public:
  InstrumentedKubeClient(kube::KubeClient& inner, RuntimeMetrics& metrics, std::string host)
      : inner_(inner), metrics_(metrics), host_(std::move(host)) {}

  kube::KResult<Json> get(const kube::ResourceRef& r, const std::string& ns, const std::string& name,
                          const std::string& subresource = "") override;
  kube::KResult<Json> list(const kube::ResourceRef& r, const std::string& ns, const kube::ListOptions& opts = {}) override;
  kube::KResult<std::unique_ptr<kube::WatchStream>> watch(const kube::ResourceRef& r, const std::string& ns,
                                                          const kube::WatchOptions& opts = {}) override;
  kube::KResult<Json> create(const kube::ResourceRef& r, const std::string& ns, const Json& obj,
                             const kube::WriteOptions& opts = {}, const std::string& name = "",
                             const std::string& subresource = "") override;
  kube::KResult<Json> update(const kube::ResourceRef& r, const std::string& ns, const Json& obj,
                             const kube::WriteOptions& opts = {}, const std::string& subresource = "") override;
  kube::KResult<Json> patch(const kube::ResourceRef& r, const std::string& ns, const std::string& name,
                            kube::PatchType type, const std::string& body, const kube::PatchOptions& opts = {},
                            const std::string& subresource = "") override;
  kube::KResult<Json> remove(const kube::ResourceRef& r, const std::string& ns, const std::string& name,
                             const kube::DeleteOptions& opts = {}) override;

 private:
  template <class R>
  R& count(R& result, const char* method, const char* okCode);

  kube::KubeClient& inner_;
  RuntimeMetrics& metrics_;
  std::string host_;
};

}  // namespace sdb::runtime
