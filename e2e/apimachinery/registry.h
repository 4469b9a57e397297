// The resources the local cluster serves: built-in kinds (a fixed table) and custom resources
// (registered from Established CRDs). Discovery documents, routing and validation read it.
//
// Contract: thread-safe; lookups return copies (ResourceInfo is a small value).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "operator/kube/resource.h"
#include "operator/schema/crd.h"

namespace sdb::apimachinery {

struct ResourceInfo {
  kube::ResourceRef ref;
  std::string singular;
  std::string listKind;
  std::vector<std::string> shortNames;
  std::vector<std::string> categories;
  std::vector<std::string> verbs;
  bool statusSubresource = false;
  bool scaleSubresource = false;  // a CRD declares one; not served nor advertised (e2e/README.md)
  bool logSubresource = false;    // pods/log
  bool tokenSubresource = false;  // serviceaccounts/token
  bool hasSpec = false;           // generation moves with spec changes
  std::shared_ptr<const schema::Crd> crd;  // set for custom resources
};

class Registry {
 public:
  Registry();  // built-in kinds

  std::optional<ResourceInfo> byResource(const std::string& group, const std::string& version,
                                         const std::string& resource) const;
  std::optional<ResourceInfo> byKind(const std::string& group, const std::string& kind) const;
  std::vector<ResourceInfo> all() const;

  // Registers (or replaces) every served version of a CRD; returns the infos registered.
  std::vector<ResourceInfo> addCrd(std::shared_ptr<const schema::Crd> crd);
  void removeCrd(const std::string& crdName);

 private:
  mutable std::mutex mu_;
  std::vector<ResourceInfo> infos_;
};

}  // namespace sdb::apimachinery
