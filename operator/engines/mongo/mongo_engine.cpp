#include "operator/engines/mongo/mongo_engine.h"

#include "operator/engines/mongo/execute.h"
#include "operator/engines/mongo/plan.h"

namespace sdb::engines::mongo {
namespace {

Result<std::string> userForSlot(const Names& n, const std::string& slot) {
  if (slot == "app") return n.appUser;
  if (slot == "migration") return n.migrationUser;
  return invalidArgument("credential role must be \"app\" or \"migration\", got \"" + slot + "\"");
}

Status toStatus(const ExecuteReport& r) {
  if (r.failure) return *r.failure;
  return okStatus();
}

}  // namespace

Result<Desired> desiredFor(const Engine::ReconcileInput& input) {
  auto names = namesFor(input.id);
  if (!names.ok()) return names.error();
  return mongo::desiredFor(input, names->database, names->appUser, names->migrationUser);
}

MongoEngine::MongoEngine(ConnectionOptions admin)
    : factory_([admin = std::move(admin)]() { return connect(admin); }) {}

Result<PlanSummary> MongoEngine::reconcile(const ReconcileInput& input) { return reconcileImpl(input, std::nullopt); }

Result<PlanSummary> MongoEngine::reconcileStoppingAfter(const ReconcileInput& input, size_t stopAfter) {
  return reconcileImpl(input, stopAfter);
}

Result<PlanSummary> MongoEngine::reconcileImpl(const ReconcileInput& input, std::optional<size_t> stopAfter) {
  Names slots{"", "", ""};
  for (const auto& c : input.credentials) SDB_TRY(userForSlot(slots, c.role));
  auto d = desiredFor(input);
  if (!d.ok()) return d.error();
  if (!input.dryRun && (!d->app.password || !d->migration.password))
    return invalidArgument("MongoDB needs both the app and the migration password to create its users");
  auto ch = factory_();
  if (!ch.ok()) return ch.error();
  auto observed = observe(**ch, *d);
  if (!observed.ok()) return observed.error();
  Plan p = plan(*d, *observed);
  if (!input.dryRun && !p.actions.empty()) SDB_TRY(toStatus(execute(**ch, p, stopAfter)));
  return p.summary();
}

Result<PlanSummary> MongoEngine::remove(const ServiceIdentity& id, DeletionPolicy policy) {
  if (policy == DeletionPolicy::kRetain) return PlanSummary{};
  auto d = desiredFor(ReconcileInput{id, {}, -1, false, false});
  if (!d.ok()) return d.error();
  auto ch = factory_();
  if (!ch.ok()) return ch.error();
  auto observed = observe(**ch, *d);
  if (!observed.ok()) return observed.error();
  Plan p = planDeletion(*d, *observed, policy);
  Plan ours;
  ours.actions = p.actions;  // the blockers are reported, not executed
  SDB_TRY(toStatus(execute(**ch, ours)));
  return p.summary();
}

Status MongoEngine::rotate(const ServiceIdentity& id, const StoredCredential& pending) {
  auto d = desiredFor(ReconcileInput{id, {}, -1, false, false});
  if (!d.ok()) return d.error();
  auto user = userForSlot(Names{d->database, d->app.name, d->migration.name}, pending.role);
  if (!user.ok()) return user.error();
  auto ch = factory_();
  if (!ch.ok()) return ch.error();
  // Only a user that carries our marker is ever changed.
  auto observed = observe(**ch, *d);
  if (!observed.ok()) return observed.error();
  auto it = observed->users.find(*user);
  if (it == observed->users.end())
    return Error(ErrorCode::kFailedPrecondition, "user \"" + *user + "\" does not exist in database \"" +
                                                     d->database + "\"; reconcile creates it");
  if (!it->second.marker || it->second.marker->owner != d->ownerKey)
    return Error(ErrorCode::kFailedPrecondition, "ForeignObject: user \"" + d->database + "." + *user +
                                                     "\" carries no servicedb marker for " + d->ownerKey);
  Action a{ActionKind::kUpdateUser, d->database, *user, {}, pending.password, {}, {}, observed->majority};
  a.change.password = true;
  Plan p;
  p.actions.push_back(std::move(a));
  return toStatus(execute(**ch, p));
}

Result<size_t> MongoEngine::whichPasswordWorks(const ServiceIdentity& id, const std::string& role,
                                               const std::vector<std::string>& candidates) {
  auto names = namesFor(id);
  if (!names.ok()) return names.error();
  auto user = userForSlot(*names, role);
  if (!user.ok()) return user.error();
  auto ch = factory_();
  if (!ch.ok()) return ch.error();
  return mongo::whichPasswordWorks(**ch, names->database, *user, candidates);
}

}  // namespace sdb::engines::mongo
