// observe/execute/whichPasswordWorks and the engine's wiring over scripted server replies (reply
// shapes as documented for MongoDB 6/7). What a real server does with these commands is covered by
// tests/integration/mongo, which runs where mongod exists.
#include "operator/engines/mongo/execute.h"

#include <gtest/gtest.h>

#include "operator/engines/mongo/mongo_engine.h"
#include "operator/engines/mongo/plan.h"
#include "tests/unit/engines/mongo/scripted_channel.h"

namespace sdb::engines::mongo {
namespace {

using testing::ScriptedChannel;

Engine::ReconcileInput input(const std::string& uid = "uid-1") {
  Engine::ReconcileInput in;
  in.id = {"a", "orders", uid};
  in.credentials = {{"app", "app-secret"}, {"migration", "mig-secret"}};
  return in;
}

Json usersReply(const std::string& owner, const std::string& uid, std::vector<std::string> mechanisms = {"SCRAM-SHA-256"}) {
  Json users = Json::array();
  users.push_back({{"_id", "a_orders.a_orders_migrator"}, {"userId", {{"$binary", {{"base64", "AAAA"}, {"subType", "04"}}}}},
                   {"user", "a_orders_migrator"}, {"db", "a_orders"},
                   {"customData", {{"servicedb", {{"owner", owner}, {"uid", uid}}}}},
                   {"roles", {{{"role", "readWrite"}, {"db", "a_orders"}}, {{"role", "dbAdmin"}, {"db", "a_orders"}}}},
                   {"mechanisms", mechanisms}});
  users.push_back({{"_id", "a_orders.a_orders_app"}, {"user", "a_orders_app"}, {"db", "a_orders"},
                   {"customData", {{"servicedb", {{"owner", owner}, {"uid", uid}}}}},
                   {"roles", {{{"role", "readWrite"}, {"db", "a_orders"}}}}, {"mechanisms", mechanisms}});
  return {{"users", users}, {"ok", 1}};
}

Json listReply(std::vector<std::string> names) {
  Json dbs = Json::array();
  for (auto& n : names) dbs.push_back({{"name", n}});
  return {{"databases", dbs}, {"ok", 1}};
}

Json markerReply(const std::string& owner, const std::string& uid) {
  return {{"cursor", {{"firstBatch", {{{"_id", "owner"}, {"managedBy", "servicedb-operator"}, {"owner", owner}, {"uid", uid}}}},
                      {"id", 0}, {"ns", "a_orders._servicedb"}}},
          {"ok", 1}};
}

// A server where a/orders is fully in place (replica set).
ScriptedChannel steadyServer() {
  ScriptedChannel ch;
  ch.replies.emplace("hello", Json{{"isWritablePrimary", true}, {"setName", "rs0"}, {"ok", 1}});
  ch.replies.emplace("listDatabases", listReply({"admin", "config", "local", "a_orders", "b_orders"}));
  ch.replies.emplace("find@a_orders", markerReply("a/orders", "uid-1"));
  ch.replies.emplace("usersInfo@a_orders", usersReply("a/orders", "uid-1"));
  ch.logins.emplace("a_orders/a_orders_app/app-secret", true);
  ch.logins.emplace("a_orders/a_orders_migrator/mig-secret", true);
  return ch;
}

TEST(MongoObserve, ReadsEverythingItNeedsAndWritesNothing) {
  ScriptedChannel ch = steadyServer();
  auto d = desiredFor(input());
  auto o = observe(ch, *d);
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_TRUE(o->majority);
  EXPECT_TRUE(o->databaseExists);
  EXPECT_EQ(o->databaseMarker, (Marker{"a/orders", "uid-1"}));
  ASSERT_EQ(o->users.size(), 2u);
  const ObservedUser& mig = o->users.at("a_orders_migrator");
  EXPECT_EQ(mig.roles, (std::vector<RoleRef>{{"readWrite", "a_orders"}, {"dbAdmin", "a_orders"}}));
  EXPECT_EQ(mig.mechanisms, std::vector<std::string>{"SCRAM-SHA-256"});
  EXPECT_EQ(mig.passwordWorks, true);
  EXPECT_EQ(ch.names(), (std::vector<std::string>{"hello@admin", "listDatabases@admin", "find@a_orders", "usersInfo@a_orders"}));
  EXPECT_EQ(ch.loginAttempts, (std::vector<std::string>{"a_orders/a_orders_migrator", "a_orders/a_orders_app"}));
  EXPECT_TRUE(plan(*d, *o).empty()) << "steady state: zero writes";
}

TEST(MongoObserve, CaseVariantsAndAbsentDatabase) {
  ScriptedChannel ch;
  ch.replies.emplace("hello", Json{{"isWritablePrimary", true}, {"ok", 1}});
  ch.replies.emplace("listDatabases", listReply({"admin", "A_Orders"}));
  ch.replies.emplace("usersInfo", Json{{"users", Json::array()}, {"ok", 1}});
  auto d = desiredFor(input());
  auto o = observe(ch, *d);
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE(o->majority) << "standalone: no setName";
  EXPECT_FALSE(o->databaseExists);
  EXPECT_EQ(o->caseVariants, std::vector<std::string>{"A_Orders"});
  EXPECT_EQ(ch.names(), (std::vector<std::string>{"hello@admin", "listDatabases@admin", "usersInfo@a_orders"}));
  Plan p = plan(*d, *o);
  ASSERT_EQ(p.blockers.size(), 1u);
  EXPECT_EQ(p.blockers[0].object, "database \"A_Orders\"");
}

TEST(MongoObserve, ForeignUsersAreNeverTriedAndErrorsPropagate) {
  ScriptedChannel ch = steadyServer();
  ch.replies.erase("usersInfo@a_orders");
  Json users = usersReply("a/orders", "uid-1");
  users["users"][1].erase("customData");
  ch.replies.emplace("usersInfo@a_orders", users);
  auto d = desiredFor(input());
  auto o = observe(ch, *d);
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE(o->users.at("a_orders_app").marker);
  EXPECT_EQ(ch.loginAttempts, std::vector<std::string>{"a_orders/a_orders_migrator"}) << "no trial login as a foreign user";

  ScriptedChannel down;
  down.replies.emplace("hello", Error(ErrorCode::kUnavailable, "No suitable servers found"));
  auto failed = observe(down, *d);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(failed.error().message.rfind("asking the server for its topology", 0), 0u);
}

TEST(MongoParse, MarkerRepliesThatAreNotOurs) {
  EXPECT_FALSE(parseMarkerReply(Json{{"cursor", {{"firstBatch", Json::array()}}}, {"ok", 1}}));
  EXPECT_FALSE(parseMarkerReply(Json{{"cursor", {{"firstBatch", {{{"_id", "owner"}, {"owner", 7}}}}}}}));
  EXPECT_TRUE(parseHelloMajority(Json{{"msg", "isdbgrid"}})) << "mongos";
  EXPECT_FALSE(parseListDatabases(Json{{"ok", 1}}).ok());
}

TEST(MongoExecute, SendsOneCommandPerActionAndStopsAtTheFirstFailure) {
  auto d = desiredFor(input());
  Plan p = plan(*d, Observed{});
  ScriptedChannel ch;
  ch.replies.emplace("createUser@a_orders", Error(ErrorCode::kPermissionDenied, "not authorized on a_orders"));
  ExecuteReport r = execute(ch, p);
  EXPECT_EQ(r.applied, 1u);
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(r.failure->message.rfind("create user \"a_orders_migrator\" in database \"a_orders\"", 0), 0u) << r.failure->message;
  EXPECT_EQ(r.failure->message.find("mig-secret"), std::string::npos);
  EXPECT_EQ(ch.names(), (std::vector<std::string>{"update@a_orders", "createUser@a_orders"}));

  ScriptedChannel ok;
  EXPECT_EQ(execute(ok, p, 2).applied, 2u) << "stopAfter simulates a crash";
  EXPECT_EQ(ok.sent.size(), 2u);
}

TEST(MongoExecute, DropUserThatIsAlreadyGoneCountsAsDone) {
  auto d = desiredFor(input());
  Observed o;
  o.users["a_orders_app"] = ObservedUser{"a_orders_app", {}, {}, d->marker(), {}};
  o.users["a_orders_migrator"] = ObservedUser{"a_orders_migrator", {}, {}, d->marker(), {}};
  Plan p = planDeletion(*d, o, DeletionPolicy::kDelete);
  ScriptedChannel ch;
  ch.replies.emplace("dropUser", Error(ErrorCode::kNotFound, "User not found"));
  ExecuteReport r = execute(ch, p);
  EXPECT_FALSE(r.failure);
  EXPECT_EQ(r.applied, 2u);
}

TEST(MongoExecute, WhichPasswordWorks) {
  ScriptedChannel ch;
  ch.logins.emplace("a_orders/a_orders_app/new", true);
  EXPECT_EQ(*whichPasswordWorks(ch, "a_orders", "a_orders_app", {"old", "new"}), 1u);
  auto none = whichPasswordWorks(ch, "a_orders", "a_orders_app", {"x", "y"});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
  ch.logins.emplace("a_orders/a_orders_app/old", Error(ErrorCode::kUnavailable, "no server"));
  auto down = whichPasswordWorks(ch, "a_orders", "a_orders_app", {"old", "new"});
  ASSERT_FALSE(down.ok()) << "an unreachable server is not a wrong password";
  EXPECT_EQ(down.error().code, ErrorCode::kUnavailable);
}

MongoEngine engineOver(ScriptedChannel& ch) {
  return MongoEngine([&ch]() -> Result<std::unique_ptr<AdminChannel>> {
    struct Borrowed final : AdminChannel {
      explicit Borrowed(ScriptedChannel& c) : c_(c) {}
      Result<Json> run(const Command& cmd, const std::string& what) override { return c_.run(cmd, what); }
      Result<bool> tryLogin(const std::string& db, const std::string& u, const std::string& p) override {
        return c_.tryLogin(db, u, p);
      }
      ScriptedChannel& c_;
    };
    return std::unique_ptr<AdminChannel>(std::make_unique<Borrowed>(ch));
  });
}

TEST(MongoEngineWiring, ReconcileRemoveRotate) {
  ScriptedChannel steady = steadyServer();
  MongoEngine e = engineOver(steady);
  auto s = e.reconcile(input());
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_TRUE(s->empty());

  auto missing = input();
  missing.credentials = {{"app", "x"}};
  EXPECT_EQ(e.reconcile(missing).error().code, ErrorCode::kInvalidArgument);
  auto badSlot = input();
  badSlot.credentials.push_back({"root", "x"});
  EXPECT_EQ(e.reconcile(badSlot).error().code, ErrorCode::kInvalidArgument);

  steady.sent.clear();
  ASSERT_TRUE(e.rotate(input().id, {"app", "n3w"}).ok());
  ASSERT_FALSE(steady.sent.empty());
  EXPECT_EQ(steady.sent.back().name, "updateUser");
  auto j = Json::parse(steady.sent.back().json);
  EXPECT_EQ(j["pwd"], "n3w");
  EXPECT_EQ(j["writeConcern"]["w"], "majority");
  EXPECT_FALSE(j.contains("roles")) << "rotation changes the password only";

  ScriptedChannel foreign = steadyServer();
  foreign.replies.erase("usersInfo@a_orders");
  foreign.replies.emplace("usersInfo@a_orders", usersReply("b/other", "u"));
  MongoEngine f = engineOver(foreign);
  Status st = f.rotate(input().id, {"app", "n3w"});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("ForeignObject"), std::string::npos);
  for (const auto& sent : foreign.sent) EXPECT_NE(sent.name, "updateUser") << "a foreign user is never changed";

  steady.sent.clear();
  auto removed = e.remove(input().id, DeletionPolicy::kRetain);
  ASSERT_TRUE(removed.ok());
  EXPECT_TRUE(steady.sent.empty()) << "Retain does not even connect";
  removed = e.remove(input().id, DeletionPolicy::kDelete);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(steady.names().back(), "dropUser@a_orders");
}

}  // namespace
}  // namespace sdb::engines::mongo
