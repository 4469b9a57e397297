#include "operator/engines/mongo/plan.h"

#include <algorithm>

namespace sdb::engines::mongo {
namespace {

Blocker foreign(const std::string& what, const std::string& name, const std::string& why) {
  return Blocker{"ForeignObject", what + " \"" + name + "\"",
                 what + " \"" + name + "\" " + why +
                     "; servicedb never adopts, alters or drops it. Rename the ServiceDatabase (or set "
                     "spec.databaseName) or remove the object."};
}

bool ours(const std::optional<Marker>& m, const std::string& ownerKey) { return m && m->owner == ownerKey; }

const ObservedUser* find(const Observed& o, const std::string& name) {
  auto it = o.users.find(name);
  return it == o.users.end() ? nullptr : &it->second;
}

std::vector<RoleRef> sorted(std::vector<RoleRef> r) {
  std::sort(r.begin(), r.end());
  return r;
}

bool onlyScram256(const std::vector<std::string>& mechanisms) {
  return mechanisms.size() == 1 && mechanisms.front() == kMechanism;
}

void planUser(const Desired& d, const Observed& o, const DesiredUser& u, std::vector<Action>& out) {
  Action a{ActionKind::kCreateUser, d.database, u.name, u.roles, u.password, d.marker(), {}, o.majority};
  const ObservedUser* seen = find(o, u.name);
  if (seen == nullptr) {
    // MongoDB needs a password to create a SCRAM user; without one (the controller always passes
    // both slots) the user is left for the next reconcile.
    if (u.password) out.push_back(std::move(a));
    return;
  }
  a.kind = ActionKind::kUpdateUser;
  a.change.marker = seen->marker->uid != d.uid;
  a.change.roles = sorted(seen->roles) != sorted(u.roles);
  // A mechanism other than SCRAM-SHA-256 can only be removed together with a new password.
  a.change.password = u.password && (seen->passwordWorks != true || !onlyScram256(seen->mechanisms));
  if (!a.change.password) a.password.reset();
  if (a.change.marker || a.change.roles || a.change.password) out.push_back(std::move(a));
}

}  // namespace

bool databaseIsOurs(const Desired& d, const Observed& o) {
  if (o.databaseMarker) return o.databaseMarker->owner == d.ownerKey;
  for (const DesiredUser* u : {&d.migration, &d.app}) {
    const ObservedUser* seen = find(o, u->name);
    if (seen != nullptr && ours(seen->marker, d.ownerKey)) return true;
  }
  return false;
}

Plan plan(const Desired& d, const Observed& o) {
  Plan p;
  for (const auto& variant : o.caseVariants)
    p.blockers.push_back(foreign("database", variant,
                                 "differs from \"" + d.database + "\" only in letter case, and MongoDB refuses "
                                 "two such databases on one server"));
  for (const DesiredUser* u : {&d.migration, &d.app}) {
    const ObservedUser* seen = find(o, u->name);
    if (seen != nullptr && !ours(seen->marker, d.ownerKey))
      p.blockers.push_back(foreign("user", d.database + "." + u->name,
                                   "exists but carries no servicedb marker for " + d.ownerKey));
  }
  if (o.databaseExists && !databaseIsOurs(d, o))
    p.blockers.push_back(foreign("database", d.database,
                                 o.databaseMarker ? "belongs to " + o.databaseMarker->owner
                                                  : "holds data but carries no servicedb marker for " + d.ownerKey));
  if (!p.blockers.empty()) return p;

  if (!o.databaseExists || o.databaseMarker != d.marker())
    p.actions.push_back(Action{ActionKind::kMarkDatabase, d.database, "", {}, std::nullopt, d.marker(), {}, o.majority});
  for (const DesiredUser* u : {&d.migration, &d.app}) planUser(d, o, *u, p.actions);
  return p;
}

Plan planDeletion(const Desired& d, const Observed& o, DeletionPolicy policy) {
  Plan p;
  if (policy == DeletionPolicy::kRetain) return p;
  if (o.databaseExists) {
    if (databaseIsOurs(d, o))
      p.actions.push_back(Action{ActionKind::kDropDatabase, d.database, "", {}, std::nullopt, {}, {}, o.majority});
    else
      p.blockers.push_back(foreign("database", d.database,
                                   o.databaseMarker ? "belongs to " + o.databaseMarker->owner
                                                    : "carries no servicedb marker for " + d.ownerKey));
  }
  for (const DesiredUser* u : {&d.app, &d.migration}) {
    const ObservedUser* seen = find(o, u->name);
    if (seen == nullptr) continue;
    if (!ours(seen->marker, d.ownerKey)) {
      p.blockers.push_back(foreign("user", d.database + "." + u->name, "carries no servicedb marker for " + d.ownerKey));
      continue;
    }
    p.actions.push_back(Action{ActionKind::kDropUser, d.database, u->name, {}, std::nullopt, {}, {}, o.majority});
  }
  return p;
}

}  // namespace sdb::engines::mongo
