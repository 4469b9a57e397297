#include "operator/engines/postgres/plan.h"

#include <gtest/gtest.h>

#include <functional>

#include "operator/engines/postgres/postgres_engine.h"

namespace sdb::engines::postgres {
namespace {

using K = ActionKind;

Desired desired(const std::string& uid = "uid-1") {
  Engine::ReconcileInput in;
  in.id = {"a", "orders", uid};
  in.credentials = {{"app", "app-secret"}, {"migration", "mig-secret"}};
  in.connectionLimit = 20;
  return desiredFor(in, "admin", Mode::kShared);
}

ObservedRole role(const Desired& d, const DesiredRole& r) {
  ObservedRole o;
  o.name = r.name;
  o.login = r.login;
  o.connectionLimit = r.connectionLimit;
  o.comment = markerFor(d.ownerKey, d.uid);
  if (r.memberOf) o.memberOf.insert(*r.memberOf);
  if (r.defaultRole) o.config.push_back("role=" + *r.defaultRole);
  if (r.login) o.passwordWorks = true;
  return o;
}

// What the server looks like after a successful execute.
Observed steady(const Desired& d) {
  Observed o;
  for (const DesiredRole* r : {&d.owner, &d.migration, &d.app}) o.roles[r->name] = role(d, *r);
  ObservedRole admin;
  admin.name = "admin";
  admin.createdb = admin.createrole = admin.login = true;
  admin.memberOf = {d.owner.name, d.migration.name, d.app.name};
  o.roles["admin"] = admin;
  ObservedDatabase db;
  db.owner = d.owner.name;
  db.comment = markerFor(d.ownerKey, d.uid);
  db.connectGrantees = {d.owner.name, d.migration.name, d.app.name};
  db.schema = ObservedSchema{d.owner.name, false, true, false, false, true, true, true};
  o.database = db;
  return o;
}

std::vector<K> kinds(const Plan& p) {
  std::vector<K> out;
  for (const auto& a : p.actions) out.push_back(a.kind);
  return out;
}

struct PlanCase {
  std::string name;
  std::function<void(const Desired&, Observed&)> mutate;
  std::vector<K> want;
  std::vector<std::string> wantRoles;  // optional: subject of each action
};

TEST(PostgresPlan, Table) {
  const Desired d = desired();
  const std::vector<PlanCase> cases = {
      {"steady state plans nothing", [](const Desired&, Observed&) {}, {}, {}},
      {"nothing exists", [](const Desired&, Observed& o) { o = Observed{}; },
       {K::kCreateRole, K::kCreateRole, K::kCreateRole, K::kGrantMembership, K::kSetDefaultRole, K::kCreateDatabase,
        K::kCommentDatabase, K::kRestrictDatabase, K::kGrantConnect, K::kGrantConnect, K::kSecureSchema,
        K::kGrantAppDml},
       {"a_orders_owner", "a_orders_migrator", "a_orders_app", "a_orders_migrator", "a_orders_migrator",
        "a_orders_owner", "", "", "a_orders_migrator", "a_orders_app", "a_orders_owner", "a_orders_app"}},
      {"app password not accepted", [](const Desired& d, Observed& o) { o.roles[d.app.name].passwordWorks = false; },
       {K::kSetPassword}, {"a_orders_app"}},
      {"privileges drifted", [](const Desired& d, Observed& o) {
         o.roles[d.app.name].createdb = true;
         o.roles[d.app.name].connectionLimit = 5;
       }, {K::kAlterRole}, {"a_orders_app"}},
      {"membership lost", [](const Desired& d, Observed& o) {
         o.roles[d.migration.name].memberOf.clear();
         o.roles[d.migration.name].config.clear();
       }, {K::kGrantMembership, K::kSetDefaultRole}, {"a_orders_migrator", "a_orders_migrator"}},
      {"admin lost membership", [](const Desired& d, Observed& o) { o.roles["admin"].memberOf.erase(d.owner.name); },
       {K::kGrantMembership}, {"admin"}},
      {"PUBLIC got CONNECT back and a stranger too", [](const Desired&, Observed& o) {
         o.database->publicHasAny = true;
         o.database->connectGrantees.insert("stranger");
       }, {K::kRestrictDatabase, K::kRevokeConnect}, {"", "stranger"}},
      {"app lost CONNECT", [](const Desired& d, Observed& o) { o.database->connectGrantees.erase(d.app.name); },
       {K::kGrantConnect}, {"a_orders_app"}},
      {"PUBLIC may create in schema public", [](const Desired&, Observed& o) { o.database->schema->publicCanCreate = true; },
       {K::kSecureSchema}, {"a_orders_owner"}},
      {"a new table lacks app grants", [](const Desired&, Observed& o) { o.database->schema->appMissingTableGrants = true; },
       {K::kGrantAppDml}, {"a_orders_app"}},
      {"default privileges missing", [](const Desired&, Observed& o) { o.database->schema->defaultSequencePrivileges = false; },
       {K::kGrantAppDml}, {"a_orders_app"}},
      {"provisioned before default USAGE on schemas", [](const Desired&, Observed& o) {
         o.database->schema->defaultSchemaPrivileges = false;
       }, {K::kGrantAppDml}, {"a_orders_app"}},
      {"crash after CREATE DATABASE: unmarked but owned by our owner", [](const Desired&, Observed& o) {
         o.database->comment.reset();
         o.database->schema.reset();
         o.database->publicHasAny = true;
         o.database->connectGrantees.clear();
       }, {K::kCommentDatabase, K::kRestrictDatabase, K::kGrantConnect, K::kGrantConnect, K::kSecureSchema, K::kGrantAppDml}, {}},
      {"roles exist, database does not", [](const Desired&, Observed& o) { o.database.reset(); },
       {K::kCreateDatabase, K::kCommentDatabase, K::kRestrictDatabase, K::kGrantConnect, K::kGrantConnect,
        K::kSecureSchema, K::kGrantAppDml}, {}},
  };
  for (const auto& c : cases) {
    Observed o = steady(d);
    c.mutate(d, o);
    Plan p = plan(d, o);
    EXPECT_TRUE(p.blockers.empty()) << c.name;
    EXPECT_EQ(kinds(p), c.want) << c.name;
    if (!c.wantRoles.empty()) {
      std::vector<std::string> roles;
      for (const auto& a : p.actions) roles.push_back(a.role);
      EXPECT_EQ(roles, c.wantRoles) << c.name;
    }
  }
}

TEST(PostgresPlan, ForeignObjectsBlockEverything) {
  const Desired d = desired();
  struct Foreign {
    std::string name;
    std::function<void(Observed&)> mutate;
    std::string object;
  };
  const std::vector<Foreign> cases = {
      {"role without comment", [&](Observed& o) { o.roles[d.app.name].comment.reset(); }, "role \"a_orders_app\""},
      {"role with a human comment", [&](Observed& o) { o.roles[d.owner.name].comment = "made by hand"; },
       "role \"a_orders_owner\""},
      {"role of another ServiceDatabase", [&](Observed& o) { o.roles[d.migration.name].comment = markerFor("b/orders", "x"); },
       "role \"a_orders_migrator\""},
      {"database without marker owned by someone else", [&](Observed& o) {
         o.database->comment.reset();
         o.database->owner = "someone";
       }, "database \"a_orders\""},
      {"database with a foreign comment", [&](Observed& o) { o.database->comment = "legacy"; }, "database \"a_orders\""},
  };
  for (const auto& c : cases) {
    Observed o = steady(d);
    c.mutate(o);
    Plan p = plan(d, o);
    EXPECT_TRUE(p.actions.empty()) << c.name;
    ASSERT_EQ(p.blockers.size(), 1u) << c.name;
    EXPECT_EQ(p.blockers[0].reason, "ForeignObject");
    EXPECT_EQ(p.blockers[0].object, c.object) << c.name;
    EXPECT_NE(p.blockers[0].message.find(c.object), std::string::npos);
  }
}

TEST(PostgresPlan, RecreatedServiceDatabaseAdoptsByMarkerAndOnlyRemarks) {
  const Desired old = desired("uid-old");
  const Desired now = desired("uid-new");
  Plan p = plan(now, steady(old));
  EXPECT_TRUE(p.blockers.empty());
  EXPECT_EQ(kinds(p), (std::vector<K>{K::kCommentRole, K::kCommentRole, K::kCommentRole, K::kCommentDatabase}));
  for (const auto& a : p.actions) EXPECT_EQ(a.marker, markerFor("a/orders", "uid-new"));
}

// spec.restore: the roles first, no database (the restore Job creates it, owned by the owner role,
// without a comment) and nothing on it while the Job may be restoring into it (its single
// transaction must not meet our ALTERs); then, without deferring, it is adopted: marked, granted.
TEST(PostgresPlan, DeferredDatabaseThenTheRestoredOneIsAdopted) {
  Desired d = desired();
  d.deferDatabase = true;
  Observed empty;
  Plan first = plan(d, empty);
  EXPECT_TRUE(first.blockers.empty());
  for (const auto& a : first.actions) {
    EXPECT_NE(a.kind, K::kCreateDatabase);
    EXPECT_TRUE(a.database.empty()) << a.describe();
  }
  EXPECT_EQ(first.actions.front().kind, K::kCreateRole);
  Observed restored = steady(d);
  restored.database->comment.reset();        // CREATE DATABASE .. OWNER owner, no COMMENT
  restored.database->connectGrantees = {d.owner.name, d.app.name};  // the restore granted the app
  d.deferDatabase = false;
  Plan adopt = plan(d, restored);
  EXPECT_TRUE(adopt.blockers.empty()) << "a database our owner role owns, without a comment, is ours";
  EXPECT_EQ(kinds(adopt), (std::vector<K>{K::kCommentDatabase, K::kGrantConnect}));
  d.deferDatabase = true;
  EXPECT_TRUE(plan(d, restored).actions.empty()) << "mid-restore, the database the Job is filling is left alone";
}

TEST(PostgresPlan, DescriptionsNeverShowPasswords) {
  const Desired d = desired();
  Plan p = plan(d, Observed{});
  for (const auto& line : p.summary().actions) {
    EXPECT_EQ(line.find("app-secret"), std::string::npos) << line;
    EXPECT_EQ(line.find("mig-secret"), std::string::npos) << line;
  }
}

TEST(PostgresPlan, AllRolesAreUnprivilegedAndLimited) {
  const Desired d = desired();
  Plan p = plan(d, Observed{});
  for (const auto& a : p.actions)
    if (a.kind == K::kCreateRole && a.roleSpec.login) {
      EXPECT_EQ(a.roleSpec.connectionLimit, 20);
      EXPECT_TRUE(a.roleSpec.password.has_value());
    }
  ObservedRole bad = role(d, d.app);
  bad.superuser = bad.createrole = bad.replication = bad.bypassrls = true;
  Observed o = steady(d);
  o.roles[d.app.name] = bad;
  Plan alter = plan(d, o);
  ASSERT_EQ(alter.actions.size(), 1u);
  EXPECT_EQ(alter.actions[0].clauses,
            (std::vector<std::string>{"NOSUPERUSER", "NOCREATEROLE", "NOREPLICATION", "NOBYPASSRLS"}));
}

TEST(PostgresPlan, Deletion) {
  const Desired d = desired();
  EXPECT_TRUE(planDeletion(d, steady(d), DeletionPolicy::kRetain).empty());
  Plan del = planDeletion(d, steady(d), DeletionPolicy::kDelete);
  EXPECT_EQ(kinds(del), (std::vector<K>{K::kDropDatabase, K::kDropOwned, K::kDropRole, K::kDropOwned, K::kDropRole,
                                        K::kDropOwned, K::kDropRole}));
  EXPECT_EQ(del.actions[2].role, d.app.name);
  EXPECT_EQ(del.actions[6].role, d.owner.name);

  Observed foreignApp = steady(d);
  foreignApp.roles[d.app.name].comment.reset();
  Plan partial = planDeletion(d, foreignApp, DeletionPolicy::kDelete);
  ASSERT_EQ(partial.blockers.size(), 1u);
  for (const auto& a : partial.actions) EXPECT_NE(a.role, d.app.name);

  EXPECT_TRUE(planDeletion(d, Observed{}, DeletionPolicy::kDelete).empty());  // already gone
}

}  // namespace
}  // namespace sdb::engines::postgres
