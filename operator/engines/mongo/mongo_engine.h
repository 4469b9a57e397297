// The MongoDB implementation of sdb::engines::Engine (shared mode on an existing server or replica
// set; the same code serves a dedicated instance through its admin URI).
//
// Contract: wires names.h + observe + plan + execute together over one admin channel, opened per
// call by the channel factory (mongo-c-driver by default; tests inject scripted channels).
// Credential slots are "app" (readWrite on the service's database) and "migration" (readWrite and
// dbAdmin on it). reconcile() needs both passwords: MongoDB cannot create a SCRAM user without one.
// The admin needs the privileges listed in docs/engines/mongo.md. Thread safety: one call at a
// time per instance; no state is kept between calls beyond the options.
#pragma once

#include <functional>
#include <memory>

#include "operator/engines/engine.h"
#include "operator/engines/mongo/connection.h"
#include "operator/engines/mongo/model.h"
#include "operator/engines/mongo/names.h"

namespace sdb::engines::mongo {

// Desired state for a ReconcileInput (names validated); pure.
Result<Desired> desiredFor(const Engine::ReconcileInput& input);

class MongoEngine final : public Engine {
 public:
  using ChannelFactory = std::function<Result<std::unique_ptr<AdminChannel>>()>;

  explicit MongoEngine(ConnectionOptions admin);
  explicit MongoEngine(ChannelFactory factory) : factory_(std::move(factory)) {}

  Result<PlanSummary> reconcile(const ReconcileInput& input) override;
  Result<PlanSummary> remove(const ServiceIdentity& id, DeletionPolicy policy) override;
  Status rotate(const ServiceIdentity& id, const StoredCredential& pending) override;
  Result<size_t> whichPasswordWorks(const ServiceIdentity& id, const std::string& role,
                                    const std::vector<std::string>& candidates) override;

  // Tests only: the plan run by reconcile, stopped after `stopAfter` actions (simulated crash).
  Result<PlanSummary> reconcileStoppingAfter(const ReconcileInput& input, size_t stopAfter);

 private:
  Result<PlanSummary> reconcileImpl(const ReconcileInput& input, std::optional<size_t> stopAfter);
  ChannelFactory factory_;
};

}  // namespace sdb::engines::mongo
