// The operator's certificate authority: an ECDSA P-256 key pair kept in one Secret in the operator's
// namespace ("servicedb-ca": keys tls.crt, tls.key; type kubernetes.io/tls; the managed-by label, so
// the operator's Secret cache holds it). Every dedicated instance's server certificate is issued by
// it, and clients get its certificate as `ca.crt` in their credentials Secret.
//
// First start: get() reads the Secret (cache first, then one uncached GET); when it is absent, it
// creates a CA and the Secret with a plain create. Two replicas racing at first start both try; the
// API server lets exactly one create succeed, and the loser's AlreadyExists makes it read and use
// the winner's, so the cluster ends with one CA (tests/unit/servicedatabase/ca_store_test.cpp).
//
// Rotation (docs/api.md "TLS"): delete the Secret. The next reconcile creates a new CA; every
// instance certificate not issued by it is reissued, and every credentials Secret's ca.crt is
// rewritten with the new CA. Clients that cached the old ca.crt must re-read their Secret.
//
// Contract: thread-safe; the key pair is remembered per Secret resourceVersion, so a steady state
// reads only the cache. The private key never reaches logs or messages.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

#include "controllers/servicedatabase/backend.h"
#include "controllers/servicedatabase/object_reader.h"
#include "operator/kube/client.h"
#include "operator/pki/pki.h"

namespace sdb::controllers::servicedatabase {

inline constexpr const char* kCaSecretName = "servicedb-ca";

class CaStore {
 public:
  // `cache` may be null (then every get() makes one GET).
  CaStore(kube::KubeClient& client, const ObjectReader* cache, std::string ns, std::string fieldManager,
          std::string secretName = kCaSecretName);

  PResult<pki::KeyPair> get();
  const std::string& ns() const { return ns_; }

 private:
  PResult<pki::KeyPair> fromSecret(const Json& secret);

  kube::KubeClient& client_;
  const ObjectReader* cache_;
  std::string ns_, fieldManager_, name_;
  std::mutex mu_;
  std::string rv_;
  pki::KeyPair pair_;
  std::chrono::steady_clock::time_point liveReadAt_{};
};

}  // namespace sdb::controllers::servicedatabase
