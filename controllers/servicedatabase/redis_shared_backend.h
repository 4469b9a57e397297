// Backend for spec.engine=redis, spec.mode=shared: one ACL user, confined to its key prefix, on an
// existing Redis 7 reached with the admin Secret the spec names (keys: admin_secret.h,
// redisAdminKeys()).
//
// open(): one uncached GET of the admin Secret; with TLS (the default, and required while
// spec.tls.enabled) its CA is written to a private file (ca_files.h) and the engine speaks RESP over
// OpenSSL with full verification (chain against ca.crt, host name against the certificate); plain
// TCP only when the spec and the Secret both say so. The endpoint is the admin Secret's host and
// port, and the key prefix (status.endpoint.database holds it). Credentials Secret entries:
// specs/redis_binding.h. Credential slots: the engine's, "app" only. Delete (the engine's
// planDeletion) disables the user, closes its connections, unlinks the keys under its prefix
// (SCAN MATCH, each name checked again) and deletes the user; Retain touches nothing.
//
// Contract: thread-safe. `engineFactory` is injectable so unit tests can serve a FakeEngine.
#pragma once

#include <chrono>

#include "controllers/servicedatabase/backend.h"
#include "controllers/servicedatabase/ca_files.h"
#include "operator/engines/redis/redis_engine.h"
#include "operator/kube/client.h"

namespace sdb::controllers::servicedatabase {

using RedisEngineFactory = std::function<std::unique_ptr<engines::Engine>(const engines::redis::EngineOptions&)>;

struct RedisSharedOptions {
  std::string caDir;  // "" = a fresh private directory under $TMPDIR
  std::chrono::milliseconds connectTimeout{10000};
  std::chrono::milliseconds ioTimeout{30000};
  RedisEngineFactory engineFactory;  // empty = RedisEngine(options)
};

class RedisSharedBackend final : public Backend {
 public:
  RedisSharedBackend(kube::KubeClient& client, RedisSharedOptions options);

  std::string describe() const override { return "redis (shared)"; }
  std::vector<std::string> slots() const override;
  std::optional<Problem> check(const specs::ServiceDatabase& sdb) const override;
  std::string endpointDatabaseFor(const specs::ServiceDatabase& sdb) const override;
  PResult<Session> open(const specs::ServiceDatabase& sdb) override;

 private:
  kube::KubeClient& client_;
  RedisSharedOptions options_;
  CaFiles caFiles_;
};

}  // namespace sdb::controllers::servicedatabase
