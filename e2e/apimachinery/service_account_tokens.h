// ServiceAccount tokens: the TokenRequest subresource (POST serviceaccounts/<name>/token, what
// `kubectl create token` and the node's projected volumes call) and the authenticator that turns such
// a token back into the identity system:serviceaccount:<namespace>:<name>.
//
// Tokens are JWTs signed with HMAC-SHA256 by a key kept in the data dir (real clusters sign with an
// RSA/ECDSA key; no client verifies the signature, they only send the token). Claims follow
// kube-apiserver's: iss, sub, aud, iat, nbf, exp and "kubernetes.io" {namespace, serviceaccount
// {name, uid}, pod {name, uid}}. A token stops authenticating when it expires, when its
// ServiceAccount is deleted or recreated (uid), or when the pod it is bound to is gone.
//
// Contract: thread-safe (immutable after open; reads the store, which is thread-safe). The store must
// outlive this object. The signing key never leaves it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "e2e/apimachinery/store.h"

namespace sdb::apimachinery {

struct ServiceAccountTokenOptions {
  std::string keyFile;  // created (0600) on first use; "" = an in-memory key (tests)
  std::string issuer = "https://kubernetes.default.svc.cluster.local";
  Clock* clock = nullptr;  // default: SystemClock
};

struct UserInfo {
  std::string username;  // system:serviceaccount:<ns>:<name>
  std::string uid;       // the ServiceAccount's uid
  std::vector<std::string> groups;  // system:serviceaccounts, system:serviceaccounts:<ns>, system:authenticated
  std::string serviceAccountNamespace, serviceAccountName;
};

class ServiceAccountTokens {
 public:
  static Result<std::unique_ptr<ServiceAccountTokens>> open(Store& store, ServiceAccountTokenOptions options);

  // Answers a TokenRequest (authentication.k8s.io/v1) for serviceaccounts/<name> in `ns`: 404 when the
  // ServiceAccount (or the bound pod) does not exist, 422 for a bad spec.expirationSeconds or
  // boundObjectRef. Returns the TokenRequest with status.token and status.expirationTimestamp.
  kube::KResult<Json> request(const std::string& ns, const std::string& serviceAccount, const Json& tokenRequest) const;

  // The identity a bearer token stands for, or nullopt when it is not one of ours or no longer valid.
  std::optional<UserInfo> authenticate(const std::string& token) const;

 private:
  ServiceAccountTokens(Store& store, ServiceAccountTokenOptions options, std::vector<uint8_t> key);
  std::string sign(const std::string& signingInput) const;

  Store& store_;
  ServiceAccountTokenOptions options_;
  Clock* clock_;
  std::vector<uint8_t> key_;
  std::string keyId_;
};

}  // namespace sdb::apimachinery
