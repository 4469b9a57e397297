#include "operator/runtime/instrumented_client.h"

namespace sdb::runtime {

template <class R>
R& InstrumentedKubeClient::count(R& result, const char* method, const char* okCode) {
  std::string code = okCode;
  if (!result.ok()) {
    const auto& e = result.error();
    code = e.is(kube::ApiErrorReason::kNetwork) ? "<error>" : std::to_string(e.httpCode);
  }
  metrics_.restRequest(code, method, host_);
  return result;
}

kube::KResult<Json> InstrumentedKubeClient::get(const kube::ResourceRef& r, const std::string& ns,
                                                const std::string& name, const std::string& subresource) {
  auto res = inner_.get(r, ns, name, subresource);
  return std::move(count(res, "GET", "200"));
}

kube::KResult<Json> InstrumentedKubeClient::list(const kube::ResourceRef& r, const std::string& ns,
                                                 const kube::ListOptions& opts) {
  auto res = inner_.list(r, ns, opts);
  return std::move(count(res, "GET", "200"));
}

kube::KResult<std::unique_ptr<kube::WatchStream>> InstrumentedKubeClient::watch(const kube::ResourceRef& r,
                                                                                const std::string& ns,
                                                                                const kube::WatchOptions& opts) {
  auto res = inner_.watch(r, ns, opts);
  return std::move(count(res, "GET", "200"));
}

kube::KResult<Json> InstrumentedKubeClient::create(const kube::ResourceRef& r, const std::string& ns, const Json& obj,
                                                   const kube::WriteOptions& opts, const std::string& name,
                                                   const std::string& subresource) {
  auto res = inner_.create(r, ns, obj, opts, name, subresource);
  return std::move(count(res, "POST", "201"));
}

kube::KResult<Json> InstrumentedKubeClient::update(const kube::ResourceRef& r, const std::string& ns, const Json& obj,
                                                   const kube::WriteOptions& opts, const std::string& subresource) {
  auto res = inner_.update(r, ns, obj, opts, subresource);
  return std::move(count(res, "PUT", "200"));
}

kube::KResult<Json> InstrumentedKubeClient::patch(const kube::ResourceRef& r, const std::string& ns,
                                                  const std::string& name, kube::PatchType type,
                                                  const std::string& body, const kube::PatchOptions& opts,
                                                  const std::string& subresource) {
  auto res = inner_.patch(r, ns, name, type, body, opts, subresource);
  return std::move(count(res, "PATCH", "200"));
}

kube::KResult<Json> InstrumentedKubeClient::remove(const kube::ResourceRef& r, const std::string& ns,
                                                   const std::string& name, const kube::DeleteOptions& opts) {
  auto res = inner_.remove(r, ns, name, opts);
  return std::move(count(res, "DELETE", "200"));
}

}  // namespace sdb::runtime
