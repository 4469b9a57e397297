// The PostgreSQL implementation of sdb::engines::Engine (shared and dedicated mode alike).
//
// Contract: wires names.h + observe + plan + execute together for one admin connection. The
// admin role needs CREATEDB and CREATEROLE (docs/engines/postgres.md); it becomes a member of
// every role it creates. Credential slots are "app" and "migration". Thread safety: one call at a
// time per instance; no state is kept between calls beyond the options.
#pragma once

#include <functional>

#include "operator/engines/engine.h"
#include "operator/engines/postgres/connection.h"
#include "operator/engines/postgres/model.h"
#include "operator/engines/postgres/names.h"

namespace sdb::engines::postgres {

// Desired state for a ServiceDatabase; pure.
Desired desiredFor(const Engine::ReconcileInput& input, const std::string& adminRole, Mode mode);

class PostgresEngine final : public Engine {
 public:
  explicit PostgresEngine(ConnectionOptions admin, Mode mode = Mode::kShared)
      : admin_(std::move(admin)), mode_(mode) {}

  // Fault injection for crash tests: called after every write (action) that succeeded, with its
  // description (never a password). A test kills the process from here.
  void setAfterWriteHook(std::function<void(const std::string& what)> hook) { afterWrite_ = std::move(hook); }

  Result<PlanSummary> reconcile(const ReconcileInput& input) override;
  Result<PlanSummary> remove(const ServiceIdentity& id, DeletionPolicy policy) override;
  Status rotate(const ServiceIdentity& id, const StoredCredential& pending) override;
  Result<size_t> whichPasswordWorks(const ServiceIdentity& id, const std::string& role,
                                    const std::vector<std::string>& candidates) override;

 private:
  ExecuteReport run(const Plan& plan, PgConnection* adminConnection = nullptr);

  ConnectionOptions admin_;
  Mode mode_;
  std::function<void(const std::string&)> afterWrite_;
};

}  // namespace sdb::engines::postgres
