// Where the controller reads objects from: the informer cache in the operator, or the API itself
// (one GET per read) in tests and one-shot runs that have no informers.
//
// Contract: implementations are thread-safe; returned objects are immutable and shared.
#pragma once

#include <memory>
#include <string>

#include "operator/kube/client.h"
#include "operator/runtime/informer.h"
#include "operator/runtime/manager.h"

namespace sdb::controllers::servicedatabase {

class ObjectReader {
 public:
  virtual ~ObjectReader() = default;
  // The object, or nullptr when absent (or when the read failed: callers that must distinguish
  // "absent" from "unknown" confirm with an uncached GET before acting).
  virtual runtime::ObjectPtr get(const std::string& ns, const std::string& name) const = 0;
};

class CacheReader final : public ObjectReader {
 public:
  explicit CacheReader(const runtime::KindCache& cache) : cache_(cache) {}
  runtime::ObjectPtr get(const std::string& ns, const std::string& name) const override { return cache_.get(ns, name); }

 private:
  const runtime::KindCache& cache_;
};

class LiveReader final : public ObjectReader {
 public:
  LiveReader(kube::KubeClient& client, kube::ResourceRef ref) : client_(client), ref_(std::move(ref)) {}
  runtime::ObjectPtr get(const std::string& ns, const std::string& name) const override {
    auto r = client_.get(ref_, ns, name);
    if (!r.ok()) return nullptr;
    Json obj = std::move(*r);
    if (obj.contains("metadata")) obj["metadata"].erase("managedFields");
    return std::make_shared<const Json>(std::move(obj));
  }

 private:
  kube::KubeClient& client_;
  kube::ResourceRef ref_;
};

}  // namespace sdb::controllers::servicedatabase
