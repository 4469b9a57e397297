#include "operator/engines/postgres/postgres_engine.h"

#include "operator/engines/postgres/execute.h"
#include "operator/engines/postgres/plan.h"

namespace sdb::engines::postgres {
namespace {

Result<std::string> roleForSlot(const Names& n, const std::string& slot) {
  if (slot == "app") return n.appRole;
  if (slot == "migration") return n.migrationRole;
  return invalidArgument("credential role must be \"app\" or \"migration\", got \"" + slot + "\"");
}

Status toStatus(const ExecuteReport& r) {
  if (r.failure) return *r.failure;
  return okStatus();
}

}  // namespace

Desired desiredFor(const Engine::ReconcileInput& in, const std::string& adminRole, Mode mode) {
  Names n = deriveNames(in.id.namespaceName, in.id.name);
  Desired d;
  d.database = n.database;
  d.owner = DesiredRole{n.ownerRole, false, -1, std::nullopt, std::nullopt, std::nullopt};
  d.migration = DesiredRole{n.migrationRole, true, in.connectionLimit, std::nullopt, n.ownerRole, n.ownerRole};
  d.app = DesiredRole{n.appRole, true, in.connectionLimit, std::nullopt, std::nullopt, std::nullopt};
  for (const auto& c : in.credentials) {
    if (c.role == "app") d.app.password = c.password;
    if (c.role == "migration") d.migration.password = c.password;
  }
  d.ownerKey = in.id.namespaceName + "/" + in.id.name;
  d.uid = in.id.uid;
  d.adminRole = adminRole;
  d.mode = mode;
  d.deferDatabase = in.deferDatabase;
  return d;
}

Result<PlanSummary> PostgresEngine::reconcile(const ReconcileInput& input) {
  for (const auto& c : input.credentials) SDB_TRY(roleForSlot(deriveNames("", ""), c.role));
  Desired d = desiredFor(input, admin_.user, mode_);
  // One admin connection for observe and execute.
  auto conn = PgConnection::open(admin_);
  if (!conn.ok()) return conn.error();
  auto observed = observe(admin_, d, &*conn);
  if (!observed.ok()) return observed.error();
  Plan p = plan(d, *observed);
  if (!input.dryRun && !p.actions.empty()) SDB_TRY(toStatus(run(p, &*conn)));
  return p.summary();
}

Result<PlanSummary> PostgresEngine::remove(const ServiceIdentity& id, DeletionPolicy policy) {
  if (policy == DeletionPolicy::kRetain) return PlanSummary{};
  Desired d = desiredFor(ReconcileInput{id, {}, -1, false, false}, admin_.user, mode_);
  auto observed = observe(admin_, d);
  if (!observed.ok()) return observed.error();
  Plan p = planDeletion(d, *observed, policy);
  Plan ours;
  ours.actions = p.actions;  // the blockers are reported, not executed
  SDB_TRY(toStatus(run(ours)));
  return p.summary();
}

Status PostgresEngine::rotate(const ServiceIdentity& id, const StoredCredential& pending) {
  Names n = deriveNames(id.namespaceName, id.name);
  auto role = roleForSlot(n, pending.role);
  if (!role.ok()) return role.error();
  Action a{ActionKind::kSetPassword, *role, "", "", {}, {}, "", admin_.user};
  a.roleSpec.name = *role;
  a.roleSpec.password = pending.password;
  Plan p;
  p.actions.push_back(std::move(a));
  return toStatus(run(p));
}

ExecuteReport PostgresEngine::run(const Plan& plan, PgConnection* adminConnection) {
  std::function<void(const Action&)> after;
  if (afterWrite_) after = [this](const Action& a) { afterWrite_(a.describe()); };
  return execute(admin_, plan, std::nullopt, after, adminConnection);
}

Result<size_t> PostgresEngine::whichPasswordWorks(const ServiceIdentity& id, const std::string& role,
                                                  const std::vector<std::string>& candidates) {
  auto name = roleForSlot(deriveNames(id.namespaceName, id.name), role);
  if (!name.ok()) return name.error();
  return postgres::whichPasswordWorks(admin_, *name, candidates);
}

}  // namespace sdb::engines::postgres
