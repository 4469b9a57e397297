// The MongoDB engine against a real server: runs where mongod is on PATH or
// SERVICEDB_TEST_MONGODB_URI is set, and is reported as skipped (with the reason) elsewhere,
// including on our own CI machines, which have no MongoDB.
#include <algorithm>

#include "operator/engines/mongo/execute.h"
#include "tests/integration/mongo/mongo_test_support.h"

namespace sdb::engines::mongo {
namespace {

bool contains(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

class MongoEngineIntegration : public MongoServerTest {};

TEST_F(MongoEngineIntegration, TwoServicesAreIsolated) {
  MongoEngine e = engine();
  auto a = input(ns("a"), "orders", "uid-a", "a-app", "a-mig");
  auto b = input(ns("b"), "orders", "uid-b", "b-app", "b-mig");
  ASSERT_TRUE(e.reconcile(a).ok());
  ASSERT_TRUE(e.reconcile(b).ok());
  Names na = *namesFor(a.id), nb = *namesFor(b.id);
  ASSERT_NE(na.database, nb.database);

  EXPECT_TRUE(as(na.appUser, "a-app", na.database, R"({"insert": "items", "documents": [{"x": 1}]})").ok());
  auto foreign = as(na.appUser, "a-app", na.database, R"({"insert": "items", "documents": [{"x": 1}]})", nb.database);
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.error().code, ErrorCode::kPermissionDenied) << foreign.error().message;
  auto read = as(na.appUser, "a-app", na.database, R"({"find": "items"})", nb.database);
  EXPECT_EQ(read.error().code, ErrorCode::kPermissionDenied);
  auto admin = as(na.appUser, "a-app", na.database, R"({"find": "system.users"})", "admin");
  EXPECT_EQ(admin.error().code, ErrorCode::kPermissionDenied);
  auto mkUser = as(na.appUser, "a-app", na.database, R"({"createUser": "evil", "pwd": "x", "roles": ["root"]})");
  EXPECT_EQ(mkUser.error().code, ErrorCode::kPermissionDenied);
  auto drop = as(na.appUser, "a-app", na.database, R"({"dropDatabase": 1})");
  EXPECT_EQ(drop.error().code, ErrorCode::kPermissionDenied) << "the app user is not dbAdmin";
  EXPECT_TRUE(as(na.migrationUser, "a-mig", na.database,
                 R"({"collMod": "items", "validator": {"x": {"$type": "int"}}})").ok())
      << "the migration user is dbAdmin of its own database";
  auto listed = as(na.appUser, "a-app", na.database, R"({"listDatabases": 1, "nameOnly": true})", "admin");
  ASSERT_TRUE(listed.ok());
  for (const auto& d : (*listed)["databases"]) EXPECT_EQ(d["name"], na.database) << "only its own database is listed";
  EXPECT_FALSE(as(na.appUser, "b-app", na.database, R"({"ping": 1})").ok()) << "b's password is not a's";
  EXPECT_FALSE(as(nb.appUser, "b-app", na.database, R"({"ping": 1})").ok()) << "b's user does not exist in a's database";
}

TEST_F(MongoEngineIntegration, UsersAreExactlyWhatWeAskAndSteadyStateWritesNothing) {
  MongoEngine e = engine();
  auto in = input(ns("exact"), "svc", "uid-1");
  ASSERT_TRUE(e.reconcile(in).ok());
  Names n = *namesFor(in.id);
  auto info = server_->rootCommand(n.database, R"({"usersInfo": 1})");
  ASSERT_TRUE(info.ok());
  ASSERT_EQ((*info)["users"].size(), 2u);
  for (const auto& u : (*info)["users"]) {
    EXPECT_EQ(u["mechanisms"], Json::array({"SCRAM-SHA-256"}));
    EXPECT_EQ(u["customData"]["servicedb"]["owner"], in.id.namespaceName + "/svc");
    for (const auto& r : u["roles"]) EXPECT_EQ(r["db"], n.database) << u.dump();
  }
  auto again = e.reconcile(in);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty()) << "a resync plans nothing";
  auto admin = connect(server_->admin());
  auto secret = (*admin)->run(Command{n.database, Bson().utf8("find", "items")}, "reading tenant data as the operator");
  EXPECT_EQ(secret.error().code, ErrorCode::kPermissionDenied) << "the operator's admin cannot read tenant data";
}

TEST_F(MongoEngineIntegration, ForeignObjectsAreNeverAdoptedAlteredOrDropped) {
  MongoEngine e = engine();
  auto in = input(ns("foreign"), "svc", "uid-1");
  Names n = *namesFor(in.id);
  ASSERT_TRUE(server_->rootCommand(n.database, R"({"createUser": ")" + n.appUser +
                                                   R"(", "pwd": "theirs", "roles": [{"role": "read", "db": ")" + n.database + R"("}]})").ok());
  auto s = e.reconcile(in);
  ASSERT_TRUE(s.ok());
  ASSERT_FALSE(s->blockers.empty());
  EXPECT_EQ(s->blockers[0].reason, "ForeignObject");
  EXPECT_TRUE(s->actions.empty());
  EXPECT_TRUE(as(n.appUser, "theirs", n.database, R"({"ping": 1})").ok()) << "their password still works";
  EXPECT_FALSE(e.rotate(in.id, {"app", "mine"}).ok());
  ASSERT_TRUE(e.remove(in.id, DeletionPolicy::kDelete).ok());
  EXPECT_TRUE(as(n.appUser, "theirs", n.database, R"({"ping": 1})").ok()) << "not dropped";

  auto other = input(ns("foreigndb"), "svc", "uid-2");
  Names o = *namesFor(other.id);
  ASSERT_TRUE(server_->rootCommand(o.database, R"({"insert": "theirs", "documents": [{"x": 1}]})").ok());
  auto blocked = e.reconcile(other);
  ASSERT_TRUE(blocked.ok());
  ASSERT_FALSE(blocked->blockers.empty());
  EXPECT_EQ(blocked->blockers[0].object, "database \"" + o.database + "\"");
  ASSERT_TRUE(e.remove(other.id, DeletionPolicy::kDelete).ok());
  EXPECT_TRUE(contains(databases(), o.database)) << "an unmarked database is never dropped";

  auto cased = input(ns("case"), "svc", "uid-3");
  Names c = *namesFor(cased.id);
  std::string upper = c.database;
  upper[0] = static_cast<char>(std::toupper(upper[0]));
  ASSERT_TRUE(server_->rootCommand(upper, R"({"insert": "t", "documents": [{"x": 1}]})").ok());
  auto caseBlocked = e.reconcile(cased);
  ASSERT_TRUE(caseBlocked.ok());
  ASSERT_FALSE(caseBlocked->blockers.empty());
  EXPECT_EQ(caseBlocked->blockers[0].object, "database \"" + upper + "\"");
}

TEST_F(MongoEngineIntegration, RotationAndCrashRecovery) {
  MongoEngine e = engine();
  auto in = input(ns("rot"), "svc", "uid-1", "old-pw");
  ASSERT_TRUE(e.reconcile(in).ok());
  Names n = *namesFor(in.id);
  // Crash after the Secret got `pending` but before rotate: the old one still works.
  EXPECT_EQ(*e.whichPasswordWorks(in.id, "app", {"old-pw", "new-pw"}), 0u);
  ASSERT_TRUE(e.rotate(in.id, {"app", "new-pw"}).ok());
  // Crash after rotate but before the Secret's promotion: the pending one works.
  EXPECT_EQ(*e.whichPasswordWorks(in.id, "app", {"old-pw", "new-pw"}), 1u);
  EXPECT_FALSE(as(n.appUser, "old-pw", n.database, R"({"ping": 1})").ok());
  EXPECT_TRUE(as(n.appUser, "new-pw", n.database, R"({"ping": 1})").ok());
  auto none = e.whichPasswordWorks(in.id, "app", {"x", "y"});
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
  // After promotion the controller reconciles with the new password: nothing to do.
  auto after = input(ns("rot"), "svc", "uid-1", "new-pw");
  EXPECT_TRUE(e.reconcile(after)->empty());
  // A reconcile with a password the server does not accept sets it (stored before used).
  auto drift = input(ns("rot"), "svc", "uid-1", "third-pw");
  auto fixed = e.reconcile(drift);
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ(fixed->actions.size(), 1u);
  EXPECT_TRUE(as(n.appUser, "third-pw", n.database, R"({"ping": 1})").ok());
}

TEST_F(MongoEngineIntegration, KillAfterEveryActionThenRerunConverges) {
  MongoEngine e = engine();
  for (size_t k = 0; k <= 3; ++k) {
    SCOPED_TRACE("stopped after " + std::to_string(k) + " actions");
    auto in = input(ns("kill" + std::to_string(k)), "svc", "uid-1");
    ASSERT_TRUE(e.reconcileStoppingAfter(in, k).ok());
    ASSERT_TRUE(e.reconcile(in).ok());
    auto dry = in;
    dry.dryRun = true;
    EXPECT_TRUE(e.reconcile(dry)->empty()) << "converged";
    Names n = *namesFor(in.id);
    auto info = server_->rootCommand(n.database, R"({"usersInfo": 1})");
    EXPECT_EQ((*info)["users"].size(), 2u) << "no orphaned or duplicate user";
    EXPECT_TRUE(as(n.appUser, "app-pw-1", n.database, R"({"ping": 1})").ok());
    EXPECT_TRUE(as(n.migrationUser, "mig-pw-1", n.database, R"({"ping": 1})").ok());
  }
}

TEST_F(MongoEngineIntegration, DeleteDropsEverythingOurs) {
  MongoEngine e = engine();
  auto in = input(ns("del"), "svc", "uid-1");
  ASSERT_TRUE(e.reconcile(in).ok());
  Names n = *namesFor(in.id);
  ASSERT_TRUE(as(n.appUser, "app-pw-1", n.database, R"({"insert": "items", "documents": [{"x": 1}]})").ok());
  auto s = e.remove(in.id, DeletionPolicy::kDelete);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->blockers.empty());
  EXPECT_FALSE(contains(databases(), n.database));
  auto info = server_->rootCommand(n.database, R"({"usersInfo": 1})");
  EXPECT_TRUE((*info)["users"].empty());
  EXPECT_FALSE(as(n.appUser, "app-pw-1", n.database, R"({"ping": 1})").ok());
  EXPECT_TRUE(e.remove(in.id, DeletionPolicy::kDelete)->empty()) << "idempotent";
}

TEST_F(MongoEngineIntegration, RetainThenRecreateAdoptsAndKeepsData) {
  MongoEngine e = engine();
  auto first = input(ns("retain"), "svc", "uid-1");
  ASSERT_TRUE(e.reconcile(first).ok());
  Names n = *namesFor(first.id);
  ASSERT_TRUE(as(n.appUser, "app-pw-1", n.database, R"({"insert": "items", "documents": [{"kept": true}]})").ok());
  EXPECT_TRUE(e.remove(first.id, DeletionPolicy::kRetain)->empty());
  auto second = input(ns("retain"), "svc", "uid-2");
  auto s = e.reconcile(second);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->blockers.empty());
  EXPECT_EQ(s->actions.size(), 3u) << "re-mark the database and both users, nothing else";
  auto found = as(n.appUser, "app-pw-1", n.database, R"({"find": "items", "filter": {"kept": true}})");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ((*found)["cursor"]["firstBatch"].size(), 1u);
  auto marker = server_->rootCommand(n.database, R"({"find": "_servicedb"})");
  EXPECT_EQ((*marker)["cursor"]["firstBatch"][0]["uid"], "uid-2");
}

TEST_F(MongoEngineIntegration, MarkerDeletedByTheTenantIsRestored) {
  MongoEngine e = engine();
  auto in = input(ns("remark"), "svc", "uid-1");
  ASSERT_TRUE(e.reconcile(in).ok());
  Names n = *namesFor(in.id);
  ASSERT_TRUE(as(n.appUser, "app-pw-1", n.database, R"({"insert": "items", "documents": [{"x": 1}]})").ok());
  ASSERT_TRUE(as(n.appUser, "app-pw-1", n.database, R"({"delete": "_servicedb", "deletes": [{"q": {}, "limit": 0}]})").ok())
      << "readWrite can delete the marker document (docs/engines/mongo.md)";
  auto s = e.reconcile(in);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->blockers.empty()) << "our users prove the database is ours";
  EXPECT_EQ(s->actions.size(), 1u);
}

}  // namespace
}  // namespace sdb::engines::mongo
