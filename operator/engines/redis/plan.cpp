#include "operator/engines/redis/plan.h"

namespace sdb::engines::redis {
namespace {

Blocker foreign(const Desired& d) {
  const std::string what = "ACL user \"" + d.names.user + "\"";
  return Blocker{"ForeignObject", what,
                 what + " exists but carries no servicedb marker for " + d.ownerKey +
                     "; servicedb never adopts, alters or deletes it. Rename the ServiceDatabase or remove the user."};
}

}  // namespace

Plan plan(const Desired& d, const Observed& o) {
  Plan p;
  if (!o.user) {
    std::set<std::string> hashes;
    if (d.passwordHash) hashes.insert(*d.passwordHash);
    p.actions.push_back({ActionKind::kCreateUser, d.names.user, "", userRules(d, hashes), markerOf(d)});
    return p;
  }
  if (!ownedBy(*o.user, d.ownerKey)) {
    p.blockers.push_back(foreign(d));
    return p;
  }
  const std::set<std::string> hashes =
      d.passwordHash ? std::set<std::string>{*d.passwordHash} : o.user->passwordHashes;
  if (!rulesMatch(d, *o.user)) {
    p.actions.push_back({ActionKind::kSetRules, d.names.user, "", userRules(d, hashes), markerOf(d)});
  } else if (o.user->passwordHashes != hashes) {
    p.actions.push_back({ActionKind::kSetPassword, d.names.user, "", {"resetpass", "#" + *d.passwordHash}, {}});
  }
  return p;
}

Plan planDeletion(const Desired& d, const Observed& o, DeletionPolicy policy) {
  Plan p;
  if (policy == DeletionPolicy::kRetain || !o.user) return p;
  if (!ownedBy(*o.user, d.ownerKey)) {
    p.blockers.push_back(foreign(d));
    return p;
  }
  if (d.mode == Mode::kShared) {
    p.actions.push_back({ActionKind::kDisableUser, d.names.user, "", {"off"}, {}});
    p.actions.push_back({ActionKind::kDeleteKeys, d.names.user, d.names.prefix, {}, {}});
  }
  p.actions.push_back({ActionKind::kDeleteUser, d.names.user, "", {}, {}});
  return p;
}

Plan planRotation(const Desired& d, const Observed& o, const std::string& pendingHash) {
  Plan p;
  if (!o.user) return p;
  if (!ownedBy(*o.user, d.ownerKey)) {
    p.blockers.push_back(foreign(d));
    return p;
  }
  if (o.user->passwordHashes != std::set<std::string>{pendingHash})
    p.actions.push_back({ActionKind::kSetPassword, d.names.user, "", {"resetpass", "#" + pendingHash}, {}});
  return p;
}

}  // namespace sdb::engines::redis
