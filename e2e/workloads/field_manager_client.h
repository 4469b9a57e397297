// A KubeClient decorator that names the field manager of every write that does not name one, so
// the managedFields of objects the workload controllers write show "kube-controller-manager" as on
// a real cluster (and server-side apply conflicts name it), not "unknown".
//
// Contract: thread-safe if the wrapped client is; it must outlive this object.
#pragma once

#include <string>

#include "operator/kube/client.h"

namespace sdb::workloads {

class FieldManagerClient final : public kube::KubeClient {
 public:
  FieldManagerClient(kube::KubeClient& inner, std::string manager) : inner_(inner), manager_(std::move(manager)) {}

  kube::KResult<Json> get(const kube::ResourceRef& r, const std::string& ns, const std::string& name,
                          const std::string& sub = "") override {
    return inner_.get(r, ns, name, sub);
  }
  kube::KResult<Json> list(const kube::ResourceRef& r, const std::string& ns, const kube::ListOptions& o = {}) override {
    return inner_.list(r, ns, o);
  }
  kube::KResult<std::unique_ptr<kube::WatchStream>> watch(const kube::ResourceRef& r, const std::string& ns,
                                                          const kube::WatchOptions& o = {}) override {
    return inner_.watch(r, ns, o);
  }
  kube::KResult<Json> create(const kube::ResourceRef& r, const std::string& ns, const Json& obj,
                             const kube::WriteOptions& o = {}, const std::string& name = "",
                             const std::string& sub = "") override {
    return inner_.create(r, ns, obj, named(o), name, sub);
  }
  kube::KResult<Json> update(const kube::ResourceRef& r, const std::string& ns, const Json& obj,
                             const kube::WriteOptions& o = {}, const std::string& sub = "") override {
    return inner_.update(r, ns, obj, named(o), sub);
  }
  kube::KResult<Json> patch(const kube::ResourceRef& r, const std::string& ns, const std::string& name,
                            kube::PatchType type, const std::string& body, const kube::PatchOptions& o = {},
                            const std::string& sub = "") override {
    return inner_.patch(r, ns, name, type, body, named(o), sub);
  }
  kube::KResult<Json> remove(const kube::ResourceRef& r, const std::string& ns, const std::string& name,
                             const kube::DeleteOptions& o = {}) override {
    return inner_.remove(r, ns, name, o);
  }

 private:
  template <class O>
  O named(O o) const {
    if (o.fieldManager.empty()) o.fieldManager = manager_;
    return o;
  }
  kube::KubeClient& inner_;
  std::string manager_;
};

}  // namespace sdb::workloads
