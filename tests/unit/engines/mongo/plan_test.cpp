// The pure planner as a table: desired vs observed -> actions or blockers.
#include "operator/engines/mongo/plan.h"

#include <gtest/gtest.h>

#include <functional>

#include "operator/engines/mongo/mongo_engine.h"

namespace sdb::engines::mongo {
namespace {

using K = ActionKind;

Desired desired(const std::string& uid = "uid-1") {
  Engine::ReconcileInput in;
  in.id = {"a", "orders", uid};
  in.credentials = {{"app", "app-secret"}, {"migration", "mig-secret"}};
  return *desiredFor(in);
}

ObservedUser user(const Desired& d, const DesiredUser& u) {
  return ObservedUser{u.name, u.roles, {"SCRAM-SHA-256"}, d.marker(), true};
}

// What the server looks like after a successful execute.
Observed steady(const Desired& d) {
  Observed o;
  o.databaseExists = true;
  o.databaseMarker = d.marker();
  for (const DesiredUser* u : {&d.migration, &d.app}) o.users[u->name] = user(d, *u);
  return o;
}

std::vector<K> kinds(const Plan& p) {
  std::vector<K> out;
  for (const auto& a : p.actions) out.push_back(a.kind);
  return out;
}

struct Case {
  std::string name;
  std::function<void(const Desired&, Observed&)> mutate;
  std::vector<K> want;
  std::vector<std::string> wantDescriptions;  // optional
};

TEST(MongoPlan, Table) {
  const Desired d = desired();
  const std::vector<Case> cases = {
      {"steady state plans nothing", [](const Desired&, Observed&) {}, {}, {}},
      {"nothing exists: mark (creates the database) before any user", [](const Desired&, Observed& o) { o = Observed{}; },
       {K::kMarkDatabase, K::kCreateUser, K::kCreateUser},
       {"mark database \"a_orders\" as ours", "create user \"a_orders_migrator\" in database \"a_orders\"",
        "create user \"a_orders_app\" in database \"a_orders\""}},
      {"database emptied by the tenant (not listed), users still there",
       [](const Desired&, Observed& o) {
         o.databaseExists = false;
         o.databaseMarker.reset();
       },
       {K::kMarkDatabase}, {}},
      {"marker document deleted by the tenant, our users remain: re-mark",
       [](const Desired&, Observed& o) { o.databaseMarker.reset(); }, {K::kMarkDatabase}, {}},
      {"app password not accepted",
       [](const Desired& d, Observed& o) { o.users[d.app.name].passwordWorks = false; }, {K::kUpdateUser},
       {"update password of user \"a_orders_app\" in database \"a_orders\""}},
      {"SCRAM-SHA-1 still enabled: new password with SHA-256 only",
       [](const Desired& d, Observed& o) { o.users[d.app.name].mechanisms = {"SCRAM-SHA-1", "SCRAM-SHA-256"}; },
       {K::kUpdateUser}, {"update password of user \"a_orders_app\" in database \"a_orders\""}},
      {"extra role granted by hand is revoked",
       [](const Desired& d, Observed& o) { o.users[d.app.name].roles.push_back({"read", "admin"}); }, {K::kUpdateUser},
       {"update roles of user \"a_orders_app\" in database \"a_orders\""}},
      {"role missing", [](const Desired& d, Observed& o) { o.users[d.migration.name].roles = {{"readWrite", "a_orders"}}; },
       {K::kUpdateUser}, {"update roles of user \"a_orders_migrator\" in database \"a_orders\""}},
      {"role order does not matter",
       [](const Desired& d, Observed& o) {
         o.users[d.migration.name].roles = {{"readWrite", "a_orders"}, {"dbAdmin", "a_orders"}};
       },
       {}, {}},
      {"recreated after Retain (new uid): re-mark database and users, nothing else",
       [](const Desired&, Observed& o) {
         o.databaseMarker->uid = "old";
         for (auto& [_, u] : o.users) u.marker->uid = "old";
       },
       {K::kMarkDatabase, K::kUpdateUser, K::kUpdateUser},
       {"mark database \"a_orders\" as ours", "update marker of user \"a_orders_migrator\" in database \"a_orders\"",
        "update marker of user \"a_orders_app\" in database \"a_orders\""}},
      {"one user missing (crash between two createUser)",
       [](const Desired& d, Observed& o) { o.users.erase(d.app.name); }, {K::kCreateUser}, {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Observed o = steady(d);
    c.mutate(d, o);
    Plan p = plan(d, o);
    EXPECT_TRUE(p.blockers.empty());
    EXPECT_EQ(kinds(p), c.want);
    if (!c.wantDescriptions.empty()) {
      std::vector<std::string> got;
      for (const auto& a : p.actions) got.push_back(a.describe());
      EXPECT_EQ(got, c.wantDescriptions);
    }
    // The plan converges: applying it gives the steady state, which plans nothing.
    for (const auto& a : p.actions) {
      EXPECT_EQ(a.database, d.database) << "every action runs on the service's own database";
      for (const auto& r : a.roles) EXPECT_EQ(r.db, d.database);
      EXPECT_EQ(a.password.has_value(), a.kind == K::kCreateUser || a.change.password);
    }
  }
}

TEST(MongoPlan, PasswordsOnlyTravelInPasswordActionsAndNeverInDescriptions) {
  const Desired d = desired();
  Plan p = plan(d, Observed{});
  for (const auto& a : p.actions) {
    EXPECT_EQ(a.describe().find("secret"), std::string::npos);
    if (a.kind == K::kCreateUser) {
      EXPECT_EQ(*a.password, a.user == d.app.name ? "app-secret" : "mig-secret");
    }
  }
}

TEST(MongoPlan, MajorityFollowsTheTopology) {
  const Desired d = desired();
  Observed o;
  o.majority = true;
  for (const auto& a : plan(d, o).actions) EXPECT_TRUE(a.majority) << a.describe();
  o.majority = false;
  for (const auto& a : plan(d, o).actions) EXPECT_FALSE(a.majority) << a.describe();
}

TEST(MongoPlan, ForeignObjectsBlockEverything) {
  const Desired d = desired();
  struct Blocked {
    std::string name;
    std::function<void(Observed&)> mutate;
    std::string object;
  };
  const std::vector<Blocked> cases = {
      {"user without customData", [&](Observed& o) { o.users[d.app.name].marker.reset(); }, "user \"a_orders.a_orders_app\""},
      {"user of another ServiceDatabase", [&](Observed& o) { o.users[d.migration.name].marker = Marker{"b/orders", "u"}; },
       "user \"a_orders.a_orders_migrator\""},
      {"database with another owner's marker", [&](Observed& o) { o.databaseMarker = Marker{"b/x", "u"}; },
       "database \"a_orders\""},
      {"database with data but no marker and none of our users",
       [&](Observed& o) {
         o.databaseMarker.reset();
         o.users.clear();
       },
       "database \"a_orders\""},
      {"a database differing only in case", [&](Observed& o) { o.caseVariants = {"A_Orders"}; }, "database \"A_Orders\""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Observed o = steady(d);
    c.mutate(o);
    Plan p = plan(d, o);
    EXPECT_TRUE(p.actions.empty()) << "nothing is touched";
    ASSERT_FALSE(p.blockers.empty());
    EXPECT_EQ(p.blockers[0].reason, "ForeignObject");
    EXPECT_EQ(p.blockers[0].object, c.object);
    EXPECT_NE(p.blockers[0].message.find("never adopts"), std::string::npos);
  }
}

TEST(MongoPlan, DeletionTable) {
  const Desired d = desired();
  EXPECT_TRUE(planDeletion(d, steady(d), DeletionPolicy::kRetain).empty()) << "Retain touches nothing";

  Plan all = planDeletion(d, steady(d), DeletionPolicy::kDelete);
  EXPECT_EQ(kinds(all), (std::vector<K>{K::kDropDatabase, K::kDropUser, K::kDropUser}));
  EXPECT_TRUE(all.blockers.empty());

  Observed foreignDb = steady(d);
  foreignDb.databaseMarker = Marker{"b/x", "u"};
  Plan p = planDeletion(d, foreignDb, DeletionPolicy::kDelete);
  EXPECT_EQ(kinds(p), (std::vector<K>{K::kDropUser, K::kDropUser})) << "our users go, the foreign database stays";
  ASSERT_EQ(p.blockers.size(), 1u);
  EXPECT_EQ(p.blockers[0].object, "database \"a_orders\"");

  Observed foreignUser = steady(d);
  foreignUser.users[d.app.name].marker.reset();
  p = planDeletion(d, foreignUser, DeletionPolicy::kDelete);
  EXPECT_EQ(kinds(p), (std::vector<K>{K::kDropDatabase, K::kDropUser}));
  ASSERT_EQ(p.blockers.size(), 1u);
  EXPECT_EQ(p.blockers[0].object, "user \"a_orders.a_orders_app\"");

  Observed markerDeleted = steady(d);
  markerDeleted.databaseMarker.reset();
  EXPECT_EQ(kinds(planDeletion(d, markerDeleted, DeletionPolicy::kDelete)),
            (std::vector<K>{K::kDropDatabase, K::kDropUser, K::kDropUser}))
      << "a database holding our users is ours even when the tenant deleted the marker";

  Observed unmarkedNoUsers;
  unmarkedNoUsers.databaseExists = true;
  p = planDeletion(d, unmarkedNoUsers, DeletionPolicy::kDelete);
  EXPECT_TRUE(p.actions.empty()) << "a database that is not provably ours is never dropped";
  EXPECT_EQ(p.blockers.size(), 1u);

  EXPECT_TRUE(planDeletion(d, Observed{}, DeletionPolicy::kDelete).empty()) << "already gone";
}

}  // namespace
}  // namespace sdb::engines::mongo
