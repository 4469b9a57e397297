#include "operator/engines/postgres/plan.h"

#include <algorithm>

namespace sdb::engines::postgres {
namespace {

Blocker foreign(const std::string& what, const std::string& name, const std::string& why) {
  return Blocker{"ForeignObject", what + " \"" + name + "\"",
                 what + " \"" + name + "\" exists but " + why +
                     "; servicedb never adopts, alters or drops it. Rename the ServiceDatabase or "
                     "remove the object."};
}

std::vector<std::string> roleClauses(const DesiredRole& d, const ObservedRole& o) {
  std::vector<std::string> out;
  // A non-superuser admin may not even mention SUPERUSER/REPLICATION/BYPASSRLS in ALTER ROLE,
  // so only the attributes that differ are listed.
  if (o.superuser) out.push_back("NOSUPERUSER");
  if (o.createdb) out.push_back("NOCREATEDB");
  if (o.createrole) out.push_back("NOCREATEROLE");
  if (o.replication) out.push_back("NOREPLICATION");
  if (o.bypassrls) out.push_back("NOBYPASSRLS");
  if (!o.inherit) out.push_back("INHERIT");
  if (o.login != d.login) out.push_back(d.login ? "LOGIN" : "NOLOGIN");
  if (o.connectionLimit != d.connectionLimit)
    out.push_back("CONNECTION LIMIT " + std::to_string(d.connectionLimit));
  return out;
}

const ObservedRole* find(const Observed& o, const std::string& name) {
  auto it = o.roles.find(name);
  return it == o.roles.end() ? nullptr : &it->second;
}

bool adminIsMember(const Desired& d, const Observed& o, const std::string& role) {
  const ObservedRole* admin = find(o, d.adminRole);
  return admin != nullptr && admin->memberOf.count(role) > 0;
}

void planRole(const Desired& d, const Observed& o, const DesiredRole& role, std::vector<Action>& out) {
  const std::string marker = markerFor(d.ownerKey, d.uid);
  const ObservedRole* seen = find(o, role.name);
  if (seen == nullptr) {
    // CREATE ROLE, COMMENT and GRANT role TO admin run in one transaction: a crash never
    // leaves an unmarked role behind.
    out.push_back(Action{ActionKind::kCreateRole, role.name, "", "", role, {}, marker, d.adminRole});
    return;
  }
  if (*seen->comment != marker)
    out.push_back(Action{ActionKind::kCommentRole, role.name, "", "", role, {}, marker, d.adminRole});
  if (!adminIsMember(d, o, role.name))
    out.push_back(Action{ActionKind::kGrantMembership, d.adminRole, role.name, "", {}, {}, "", d.adminRole});
  auto clauses = roleClauses(role, *seen);
  if (!clauses.empty())
    out.push_back(Action{ActionKind::kAlterRole, role.name, "", "", role, clauses, "", d.adminRole});
  if (role.password && seen->passwordWorks != true)
    out.push_back(Action{ActionKind::kSetPassword, role.name, "", "", role, {}, "", d.adminRole});
}

void planMembership(const Desired& d, const Observed& o, const DesiredRole& role, std::vector<Action>& out) {
  const ObservedRole* seen = find(o, role.name);
  if (role.memberOf && (seen == nullptr || seen->memberOf.count(*role.memberOf) == 0))
    out.push_back(Action{ActionKind::kGrantMembership, role.name, *role.memberOf, "", {}, {}, "", d.adminRole});
  if (role.defaultRole) {
    std::string want = "role=" + *role.defaultRole;
    if (seen == nullptr || std::find(seen->config.begin(), seen->config.end(), want) == seen->config.end())
      out.push_back(Action{ActionKind::kSetDefaultRole, role.name, *role.defaultRole, "", {}, {}, "", d.adminRole});
  }
}

}  // namespace

Plan plan(const Desired& d, const Observed& o) {
  Plan p;
  const std::string marker = markerFor(d.ownerKey, d.uid);
  for (const DesiredRole* r : {&d.owner, &d.migration, &d.app}) {
    const ObservedRole* seen = find(o, r->name);
    if (seen != nullptr && !markedFor(seen->comment, d.ownerKey))
      p.blockers.push_back(foreign("role", r->name, "carries no servicedb marker for " + d.ownerKey));
  }
  const bool ownerIsOurs = find(o, d.owner.name) != nullptr;
  if (o.database && !markedFor(o.database->comment, d.ownerKey)) {
    // A database without a marker is ours only if our (marked) owner role owns it: the crash
    // window between CREATE DATABASE (which cannot run in a transaction) and COMMENT.
    bool ownedByOurs = ownerIsOurs && o.database->owner == d.owner.name && !o.database->comment;
    if (!ownedByOurs)
      p.blockers.push_back(foreign("database", d.database, "carries no servicedb marker for " + d.ownerKey));
  }
  if (!p.blockers.empty()) return p;

  auto& out = p.actions;
  for (const DesiredRole* r : {&d.owner, &d.migration, &d.app}) planRole(d, o, *r, out);
  for (const DesiredRole* r : {&d.owner, &d.migration, &d.app}) planMembership(d, o, *r, out);

  auto dbAction = [&](ActionKind k, const std::string& role) {
    // kGrantAppDml needs the owner too: ALTER DEFAULT PRIVILEGES FOR ROLE owner.
    std::string target = k == ActionKind::kGrantAppDml ? d.owner.name : "";
    out.push_back(Action{k, role, target, d.database, {}, {}, marker, d.adminRole});
  };
  const std::vector<std::string> logins = {d.migration.name, d.app.name};
  // A restore Job is making the database (it may exist already, mid-restore): leave it alone.
  if (d.deferDatabase) return p;
  if (!o.database) {
    dbAction(ActionKind::kCreateDatabase, d.owner.name);
    dbAction(ActionKind::kCommentDatabase, "");
    dbAction(ActionKind::kRestrictDatabase, "");
    for (const auto& l : logins) dbAction(ActionKind::kGrantConnect, l);
    dbAction(ActionKind::kSecureSchema, d.owner.name);
    dbAction(ActionKind::kGrantAppDml, d.app.name);
    return p;
  }
  const ObservedDatabase& db = *o.database;
  if (db.comment != std::optional<std::string>(marker)) dbAction(ActionKind::kCommentDatabase, "");
  if (db.owner != d.owner.name) dbAction(ActionKind::kSetDatabaseOwner, d.owner.name);
  if (db.publicHasAny) dbAction(ActionKind::kRestrictDatabase, "");
  for (const auto& l : logins)
    if (db.connectGrantees.count(l) == 0) dbAction(ActionKind::kGrantConnect, l);
  for (const auto& g : db.connectGrantees)
    if (g != d.owner.name && g != d.adminRole && std::find(logins.begin(), logins.end(), g) == logins.end())
      dbAction(ActionKind::kRevokeConnect, g);
  const ObservedSchema* s = db.schema ? &*db.schema : nullptr;
  if (s == nullptr || s->owner != d.owner.name || s->publicCanCreate)
    dbAction(ActionKind::kSecureSchema, d.owner.name);
  if (s == nullptr || !s->appHasUsage || s->appMissingTableGrants || s->appMissingSequenceGrants ||
      !s->defaultTablePrivileges || !s->defaultSequencePrivileges || !s->defaultSchemaPrivileges)
    dbAction(ActionKind::kGrantAppDml, d.app.name);
  return p;
}

Plan planDeletion(const Desired& d, const Observed& o, DeletionPolicy policy) {
  Plan p;
  if (policy == DeletionPolicy::kRetain) return p;
  const bool ownerIsOurs = find(o, d.owner.name) != nullptr && markedFor(find(o, d.owner.name)->comment, d.ownerKey);
  if (o.database) {
    bool ours = markedFor(o.database->comment, d.ownerKey) ||
                (ownerIsOurs && !o.database->comment && o.database->owner == d.owner.name);
    if (ours)
      p.actions.push_back(Action{ActionKind::kDropDatabase, "", "", d.database, {}, {}, "", d.adminRole});
    else
      p.blockers.push_back(foreign("database", d.database, "carries no servicedb marker for " + d.ownerKey));
  }
  for (const DesiredRole* r : {&d.app, &d.migration, &d.owner}) {
    const ObservedRole* seen = find(o, r->name);
    if (seen == nullptr) continue;
    if (!markedFor(seen->comment, d.ownerKey)) {
      p.blockers.push_back(foreign("role", r->name, "carries no servicedb marker for " + d.ownerKey));
      continue;
    }
    if (!adminIsMember(d, o, r->name))
      p.actions.push_back(Action{ActionKind::kGrantMembership, d.adminRole, r->name, "", {}, {}, "", d.adminRole});
    p.actions.push_back(Action{ActionKind::kDropOwned, r->name, "", "", {}, {}, "", d.adminRole});
    p.actions.push_back(Action{ActionKind::kDropRole, r->name, "", "", {}, {}, "", d.adminRole});
  }
  return p;
}

}  // namespace sdb::engines::postgres
