#include "controllers/servicedatabase/ca_store.h"

#include "operator/core/base64.h"
#include "operator/core/log.h"
#include "operator/specs/credentials_secret.h"
#include "operator/specs/labels.h"

namespace sdb::controllers::servicedatabase {

namespace res = kube::resources;

CaStore::CaStore(kube::KubeClient& client, const ObjectReader* cache, std::string ns, std::string fieldManager,
                 std::string secretName)
    : client_(client), cache_(cache), ns_(std::move(ns)), fieldManager_(std::move(fieldManager)),
      name_(std::move(secretName)) {}

PResult<pki::KeyPair> CaStore::fromSecret(const Json& secret) {
  const std::string rv = jsonString(secret, {"metadata", "resourceVersion"});
  if (!rv.empty() && rv == rv_) return pair_;
  auto data = specs::secretData(secret);
  pki::KeyPair pair{data["tls.crt"], data["tls.key"]};
  if (pair.certificatePem.empty() || pair.privateKeyPem.empty() || !pki::notAfter(pair.certificatePem).ok()) {
    return Problem{"InvalidCaSecret",
                   "Secret \"" + ns_ + "/" + name_ + "\" (the operator's CA) lacks a valid tls.crt and tls.key; delete it "
                   "to have a new CA created (every instance certificate is then reissued)",
                   true, true};
  }
  rv_ = rv;
  pair_ = pair;
  return pair;
}

PResult<pki::KeyPair> CaStore::get() {
  std::lock_guard<std::mutex> lock(mu_);
  if (cache_) {
    if (auto cached = cache_->get(ns_, name_)) return fromSecret(*cached);
  }
  // Not in the cache (the operator's namespace is not watched): one GET per 10 minutes at most.
  const auto now = std::chrono::steady_clock::now();
  if (!rv_.empty() && now - liveReadAt_ < std::chrono::minutes(10)) return pair_;
  liveReadAt_ = now;
  auto live = client_.get(res::kSecrets, ns_, name_);
  if (live.ok()) return fromSecret(*live);
  if (!live.error().is(kube::ApiErrorReason::kNotFound)) {
    return Problem{"ApiError", "reading the operator's CA Secret \"" + ns_ + "/" + name_ + "\": " + live.error().toString(),
                   false, true};
  }
  auto ca = pki::createCa({});
  if (!ca.ok()) return Problem{"OperatorError", "creating the CA: " + ca.error().message, false, true};
  Json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata",
                  {{"name", name_},
                   {"namespace", ns_},
                   {"labels",
                    {{specs::kLabelManagedBy, specs::kManagedByOperator},
                     {specs::kLabelName, "servicedb-operator"},
                     {specs::kLabelComponent, "ca"}}}}},
                 {"type", "kubernetes.io/tls"},
                 {"data", {{"tls.crt", base64Encode(ca->certificatePem)}, {"tls.key", base64Encode(ca->privateKeyPem)}}}};
  kube::WriteOptions opts;
  opts.fieldManager = fieldManager_;
  auto created = client_.create(res::kSecrets, ns_, secret, opts);
  if (created.ok()) {
    logStructured(spdlog::level::info, "created the operator's CA", {{"secret", ns_ + "/" + name_}});
    return fromSecret(*created);
  }
  if (!created.error().is(kube::ApiErrorReason::kAlreadyExists)) {
    return Problem{"ApiError", "creating the operator's CA Secret \"" + ns_ + "/" + name_ + "\": " + created.error().toString(),
                   false, true};
  }
  // Another replica won the race: use its CA.
  auto winner = client_.get(res::kSecrets, ns_, name_);
  if (!winner.ok()) {
    return Problem{"ApiError", "reading the operator's CA Secret \"" + ns_ + "/" + name_ + "\": " + winner.error().toString(),
                   false, true};
  }
  return fromSecret(*winner);
}

}  // namespace sdb::controllers::servicedatabase
