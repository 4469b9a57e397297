// KubeClient over the local cluster's store, in-process: the fake Kubernetes client of unit tests.
// It is a thin adapter, so the fake has exactly the semantics the local API server serves.
//
// Contract: thread-safe (the store is). The store must outlive the client and its watch streams.
#pragma once

#include "e2e/apimachinery/store.h"
#include "operator/kube/client.h"

namespace sdb::apimachinery {

class InProcessKubeClient final : public kube::KubeClient {
 public:
  explicit InProcessKubeClient(Store& store) : store_(store) {}

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
  Store& store_;
};

}  // namespace sdb::apimachinery
