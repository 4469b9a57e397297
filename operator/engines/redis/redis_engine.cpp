#include "operator/engines/redis/redis_engine.h"

#include "operator/engines/redis/plan.h"

namespace sdb::engines::redis {
namespace {

Status checkSlot(const std::string& slot) {
  if (slot == "app") return okStatus();
  return invalidArgument("credential role must be \"app\" (a Redis ServiceDatabase has one user), got \"" + slot + "\"");
}

Status toStatus(const ExecuteReport& r) {
  if (r.failure) return *r.failure;
  return okStatus();
}

}  // namespace

// The prefix's second part: spec.databaseName when set, else the ServiceDatabase's name.
Result<Names> namesFor(const ServiceIdentity& id) {
  if (!id.databaseName.empty()) return deriveNames(id.namespaceName, id.databaseName, "spec.databaseName");
  return deriveNames(id.namespaceName, id.name);
}

Result<Desired> desiredFor(const ServiceIdentity& id, const std::optional<std::string>& password, Mode mode) {
  auto names = namesFor(id);
  if (!names.ok()) return names.error();
  SDB_TRY(validateUid(id.uid));
  if (password && password->empty()) return invalidArgument("credentials: the app password is empty");
  Desired d;
  d.names = *names;
  d.ownerKey = id.namespaceName + "/" + id.name;
  d.uid = id.uid;
  if (password) d.passwordHash = passwordHash(*password);
  d.mode = mode;
  return d;
}

Result<PlanSummary> RedisEngine::reconcile(const ReconcileInput& input) {
  std::optional<std::string> password;
  for (const auto& c : input.credentials) {
    SDB_TRY(checkSlot(c.role));
    password = c.password;
  }
  auto d = desiredFor(input.id, password, options_.mode);
  if (!d.ok()) return d.error();
  auto admin = RespClient::connect(options_.admin);
  if (!admin.ok()) return admin.error();
  auto observed = observe(*admin, *d);
  if (!observed.ok()) return observed.error();
  Plan p = plan(*d, *observed);
  if (!input.dryRun && !p.actions.empty()) SDB_TRY(toStatus(execute(*admin, p, options_.execute)));
  return p.summary();
}

Result<PlanSummary> RedisEngine::remove(const ServiceIdentity& id, DeletionPolicy policy) {
  if (policy == DeletionPolicy::kRetain) return PlanSummary{};
  auto d = desiredFor(id, std::nullopt, options_.mode);
  if (!d.ok()) return d.error();
  auto admin = RespClient::connect(options_.admin);
  if (!admin.ok()) return admin.error();
  auto observed = observe(*admin, *d);
  if (!observed.ok()) return observed.error();
  Plan p = planDeletion(*d, *observed, policy);
  SDB_TRY(toStatus(execute(*admin, p, options_.execute)));  // blockers are reported, not executed
  return p.summary();
}

Status RedisEngine::rotate(const ServiceIdentity& id, const StoredCredential& pending) {
  SDB_TRY(checkSlot(pending.role));
  auto d = desiredFor(id, std::nullopt, options_.mode);
  if (!d.ok()) return d.error();
  auto admin = RespClient::connect(options_.admin);
  if (!admin.ok()) return admin.error();
  auto observed = observe(*admin, *d);
  if (!observed.ok()) return observed.error();
  if (!observed->user)
    return Error(ErrorCode::kFailedPrecondition, "ACL user \"" + d->names.user + "\" does not exist; reconcile first");
  Plan p = planRotation(*d, *observed, passwordHash(pending.password));
  if (!p.blockers.empty()) return Error(ErrorCode::kFailedPrecondition, p.blockers.front().message);
  return toStatus(execute(*admin, p, options_.execute));
}

Result<size_t> RedisEngine::whichPasswordWorks(const ServiceIdentity& id, const std::string& role,
                                               const std::vector<std::string>& candidates) {
  SDB_TRY(checkSlot(role));
  auto names = namesFor(id);
  if (!names.ok()) return names.error();
  return redis::whichPasswordWorks(options_.admin, names->user, candidates);
}

}  // namespace sdb::engines::redis
