#include "e2e/apimachinery_client/inprocess_client.h"

namespace sdb::apimachinery {
namespace {

// A watch over a store Watcher. next() blocks until an event, the end of the watch, or stop().
class InProcessWatchStream final : public kube::WatchStream {
 public:
  InProcessWatchStream(Store& store, std::shared_ptr<Watcher> w, int timeoutSeconds)
      : store_(store), w_(std::move(w)),
        end_(std::chrono::steady_clock::now() + std::chrono::seconds(timeoutSeconds > 0 ? timeoutSeconds : 1800)) {}
  ~InProcessWatchStream() override { store_.stopWatch(w_); }

  kube::KResult<std::optional<kube::WatchEvent>> next() override {
    while (std::chrono::steady_clock::now() < end_) {
      auto e = w_->next(std::chrono::milliseconds(100));
      if (e) {
        if (e->type == kube::WatchEvent::Type::kError) {
          return kube::fromHttpResponse(e->object.value("code", 500), e->object.dump());
        }
        return std::optional<kube::WatchEvent>(std::move(*e));
      }
      if (w_->closed()) break;
    }
    return std::optional<kube::WatchEvent>();
  }
  void stop() override { w_->close(); }

 private:
  Store& store_;
  std::shared_ptr<Watcher> w_;
  std::chrono::steady_clock::time_point end_;
};

}  // namespace

kube::KResult<Json> InProcessKubeClient::get(const kube::ResourceRef& r, const std::string& ns, const std::string& name,
                                             const std::string& subresource) {
  return store_.get(r, ns, name, subresource);
}

kube::KResult<Json> InProcessKubeClient::list(const kube::ResourceRef& r, const std::string& ns, const kube::ListOptions& opts) {
  return store_.list(r, ns, opts);
}

kube::KResult<std::unique_ptr<kube::WatchStream>> InProcessKubeClient::watch(const kube::ResourceRef& r,
                                                                             const std::string& ns,
                                                                             const kube::WatchOptions& opts) {
  auto w = store_.watch(r, ns, opts);
  if (!w.ok()) return w.error();
  return std::unique_ptr<kube::WatchStream>(std::make_unique<InProcessWatchStream>(store_, *w, opts.timeoutSeconds));
}

kube::KResult<Json> InProcessKubeClient::create(const kube::ResourceRef& r, const std::string& ns, const Json& obj,
                                                const kube::WriteOptions& opts, const std::string& name,
                                                const std::string& subresource) {
  if (!subresource.empty()) {
    kube::ApiError e = kube::fromHttpResponse(404, "");
    e.message = "the server could not find the requested resource (" + r.resource + "/" + name + "/" + subresource + ")";
    return e;
  }
  return store_.create(r, ns, obj, opts);
}

kube::KResult<Json> InProcessKubeClient::update(const kube::ResourceRef& r, const std::string& ns, const Json& obj,
                                                const kube::WriteOptions& opts, const std::string& subresource) {
  return store_.update(r, ns, jsonString(obj, {"metadata", "name"}), obj, opts, subresource);
}

kube::KResult<Json> InProcessKubeClient::patch(const kube::ResourceRef& r, const std::string& ns, const std::string& name,
                                               kube::PatchType type, const std::string& body,
                                               const kube::PatchOptions& opts, const std::string& subresource) {
  return store_.patch(r, ns, name, type, body, opts, subresource);
}

kube::KResult<Json> InProcessKubeClient::remove(const kube::ResourceRef& r, const std::string& ns, const std::string& name,
                                                const kube::DeleteOptions& opts) {
  return store_.remove(r, ns, name, opts);
}

}  // namespace sdb::apimachinery
