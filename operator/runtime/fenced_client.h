// FencedKubeClient: a KubeClient decorator that refuses every write once fenced. The manager fences
// its controllers' client the moment leadership is lost, so no reconcile that is still running (or
// starts from an already-dequeued key) can send a write after the step-down: only requests already on
// the wire can land, and those are bounded by the request timeout, which must stay below
// leaseDuration - renewDeadline (leader_election.h). Reads pass through.
//
// Contract: thread-safe; the inner client must outlive it. A fenced write returns kForbidden with
// httpCode 0 (not retryable; nothing was sent).
#pragma once

#include <atomic>
#include <string>

#include "operator/kube/client.h"

namespace sdb::runtime {

class FencedKubeClient final : public kube::KubeClient {
 public:
  explicit FencedKubeClient(kube::KubeClient& inner) : inner_(inner) {}
  void fence() { fenced_ = true; }
  bool fenced() const { return fenced_.load(); }

  kube::KResult<Json> get(const kube::ResourceRef& r, const std::string& ns, const std::string& name,
                          const std::string& subresource = "") override {
    return inner_.get(r, ns, name, subresource);
  }
  kube::KResult<Json> list(const kube::ResourceRef& r, const std::string& ns, const kube::ListOptions& opts = {}) override {
    return inner_.list(r, ns, opts);
  }
  kube::KResult<std::unique_ptr<kube::WatchStream>> watch(const kube::ResourceRef& r, const std::string& ns,
                                                          const kube::WatchOptions& opts = {}) override {
    return inner_.watch(r, ns, opts);
  }
  kube::KResult<Json> create(const kube::ResourceRef& r, const std::string& ns, const Json& obj,
                             const kube::WriteOptions& opts = {}, const std::string& name = "",
                             const std::string& subresource = "") override {
    if (fenced_) return refused("create", r);
    return inner_.create(r, ns, obj, opts, name, subresource);
  }
  kube::KResult<Json> update(const kube::ResourceRef& r, const std::string& ns, const Json& obj,
                             const kube::WriteOptions& opts = {}, const std::string& subresource = "") override {
    if (fenced_) return refused("update", r);
    return inner_.update(r, ns, obj, opts, subresource);
  }
  kube::KResult<Json> patch(const kube::ResourceRef& r, const std::string& ns, const std::string& name,
                            kube::PatchType type, const std::string& body, const kube::PatchOptions& opts = {},
                            const std::string& subresource = "") override {
    if (fenced_) return refused("patch", r);
    return inner_.patch(r, ns, name, type, body, opts, subresource);
  }
  kube::KResult<Json> remove(const kube::ResourceRef& r, const std::string& ns, const std::string& name,
                             const kube::DeleteOptions& opts = {}) override {
    if (fenced_) return refused("delete", r);
    return inner_.remove(r, ns, name, opts);
  }

 private:
  static kube::ApiError refused(const char* verb, const kube::ResourceRef& r) {
    kube::ApiError e;
    e.reason = kube::ApiErrorReason::kForbidden;
    e.httpCode = 0;
    e.message = std::string(verb) + " " + r.groupResource() + ": not sent; this replica lost leadership (writes are fenced)";
    return e;
  }
  kube::KubeClient& inner_;
  std::atomic<bool> fenced_{false};
};

}  // namespace sdb::runtime
