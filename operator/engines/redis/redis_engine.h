// The Redis implementation of sdb::engines::Engine: one ACL user per ServiceDatabase, confined to
// its key prefix and channels, in shared mode (an existing Redis, admin from a Secret) and
// dedicated mode (the operator's own instance) alike.
//
// Contract: wires names.h + observe + plan + execute together over one admin connection per call
// (RESP over TLS, resp_client.h). The admin user needs +@all on ~* &* (ACL SETUSER, DELUSER,
// GETUSER, SAVE, CLIENT KILL, SCAN, UNLINK). The only credential slot is "app"; the connection
// limit of ReconcileInput is ignored (Redis has no per-user limit). Thread safety: one call at a
// time per instance; no state is kept between calls beyond the options.
#pragma once

#include "operator/engines/engine.h"
#include "operator/engines/redis/execute.h"
#include "operator/engines/redis/model.h"
#include "operator/engines/redis/resp_client.h"

namespace sdb::engines::redis {

struct EngineOptions {
  ConnectOptions admin;
  Mode mode = Mode::kShared;
  ExecuteOptions execute;
};

// Names for a ServiceDatabase: the prefix's second part is spec.databaseName when set, else the
// name. Pure.
Result<Names> namesFor(const ServiceIdentity& id);

// Desired state for a ServiceDatabase; pure. Invalid names or uids are InvalidArgument errors
// naming the field.
Result<Desired> desiredFor(const ServiceIdentity& id, const std::optional<std::string>& password, Mode mode);

class RedisEngine final : public Engine {
 public:
  explicit RedisEngine(EngineOptions options) : options_(std::move(options)) {}

  Result<PlanSummary> reconcile(const ReconcileInput& input) override;
  Result<PlanSummary> remove(const ServiceIdentity& id, DeletionPolicy policy) override;
  Status rotate(const ServiceIdentity& id, const StoredCredential& pending) override;
  Result<size_t> whichPasswordWorks(const ServiceIdentity& id, const std::string& role,
                                    const std::vector<std::string>& candidates) override;
  std::vector<std::string> credentialSlots() const override { return {"app"}; }

 private:
  EngineOptions options_;
};

}  // namespace sdb::engines::redis
