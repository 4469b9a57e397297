// The exact command documents the engine sends, compared as canonical extended JSON (types and key
// order included: the first key of a command document is the command's name).
#include "operator/engines/mongo/commands.h"

#include <gtest/gtest.h>

#include "operator/engines/mongo/mongo_engine.h"
#include "operator/engines/mongo/plan.h"

namespace sdb::engines::mongo {
namespace {

using OrderedJson = nlohmann::ordered_json;

// Compares a command with an expected document written as canonical extended JSON.
void expectCommand(const Command& got, const std::string& wantDb, const std::string& wantJson) {
  EXPECT_EQ(got.database, wantDb);
  OrderedJson want = OrderedJson::parse(wantJson);
  OrderedJson have = OrderedJson::parse(got.body.canonicalJson());
  EXPECT_EQ(have.dump(), want.dump()) << "raw: " << got.body.canonicalJson();
}

Desired desired() {
  Engine::ReconcileInput in;
  in.id = {"a", "orders", "uid-1"};
  in.credentials = {{"app", "app-secret"}, {"migration", "mig-secret"}};
  return *desiredFor(in);
}

const char* kMajority = R"("writeConcern": {"w": "majority", "wtimeout": {"$numberInt": "30000"}})";

TEST(MongoCommands, ReadsAreExact) {
  expectCommand(helloCommand(), "admin", R"({"hello": {"$numberInt": "1"}})");
  expectCommand(listDatabasesCommand(), "admin", R"({"listDatabases": {"$numberInt": "1"}, "nameOnly": true})");
  expectCommand(buildInfoCommand(), "admin", R"({"buildInfo": {"$numberInt": "1"}})");
  expectCommand(rotateCertificatesCommand(), "admin", R"({"rotateCertificates": {"$numberInt": "1"}})");
  expectCommand(findMarkerCommand("a_orders"), "a_orders",
                R"({"find": "_servicedb", "filter": {"_id": "owner"}, "limit": {"$numberInt": "1"}, "singleBatch": true})");
  expectCommand(usersInfoCommand("a_orders", {"a_orders_migrator", "a_orders_app"}), "a_orders",
                R"({"usersInfo": [{"user": "a_orders_migrator", "db": "a_orders"}, {"user": "a_orders_app", "db": "a_orders"}]})");
}

TEST(MongoCommands, FirstReconcileOnAReplicaSetIsExact) {
  const Desired d = desired();
  Observed o;
  o.majority = true;
  Plan p = plan(d, o);
  ASSERT_EQ(p.actions.size(), 3u);
  expectCommand(commandFor(p.actions[0]), "a_orders",
                std::string(R"({"update": "_servicedb", "updates": [{"q": {"_id": "owner"},
                     "u": {"_id": "owner", "managedBy": "servicedb-operator", "owner": "a/orders", "uid": "uid-1"},
                     "upsert": true}], "ordered": true, )") + kMajority + "}");
  expectCommand(commandFor(p.actions[1]), "a_orders",
                std::string(R"({"createUser": "a_orders_migrator", "pwd": "mig-secret",
                     "customData": {"servicedb": {"owner": "a/orders", "uid": "uid-1"}},
                     "roles": [{"role": "dbAdmin", "db": "a_orders"}, {"role": "readWrite", "db": "a_orders"}],
                     "mechanisms": ["SCRAM-SHA-256"], )") + kMajority + "}");
  expectCommand(commandFor(p.actions[2]), "a_orders",
                std::string(R"({"createUser": "a_orders_app", "pwd": "app-secret",
                     "customData": {"servicedb": {"owner": "a/orders", "uid": "uid-1"}},
                     "roles": [{"role": "readWrite", "db": "a_orders"}],
                     "mechanisms": ["SCRAM-SHA-256"], )") + kMajority + "}");
}

TEST(MongoCommands, StandaloneHasNoWriteConcernAndUpdatesCarryOnlyWhatChanged) {
  const Desired d = desired();
  Action pw{ActionKind::kUpdateUser, "a_orders", "a_orders_app", {}, std::string("n3w"), {}, {}, false};
  pw.change.password = true;
  expectCommand(commandFor(pw), "a_orders",
                R"({"updateUser": "a_orders_app", "pwd": "n3w", "mechanisms": ["SCRAM-SHA-256"]})");

  Action rm{ActionKind::kUpdateUser, "a_orders", "a_orders_app", d.app.roles, std::nullopt, d.marker(), {}, false};
  rm.change.roles = rm.change.marker = true;
  expectCommand(commandFor(rm), "a_orders",
                R"({"updateUser": "a_orders_app", "roles": [{"role": "readWrite", "db": "a_orders"}],
                    "customData": {"servicedb": {"owner": "a/orders", "uid": "uid-1"}}})");
}

TEST(MongoCommands, DeletionIsExact) {
  const Desired d = desired();
  Observed o;
  o.majority = true;
  o.databaseExists = true;
  o.databaseMarker = d.marker();
  for (const DesiredUser* u : {&d.migration, &d.app})
    o.users[u->name] = ObservedUser{u->name, u->roles, {"SCRAM-SHA-256"}, d.marker(), true};
  Plan p = planDeletion(d, o, DeletionPolicy::kDelete);
  ASSERT_EQ(p.actions.size(), 3u);
  expectCommand(commandFor(p.actions[0]), "a_orders", std::string(R"({"dropDatabase": {"$numberInt": "1"}, )") + kMajority + "}");
  expectCommand(commandFor(p.actions[1]), "a_orders", std::string(R"({"dropUser": "a_orders_app", )") + kMajority + "}");
  expectCommand(commandFor(p.actions[2]), "a_orders", std::string(R"({"dropUser": "a_orders_migrator", )") + kMajority + "}");
}

// Values are typed BSON strings: quotes, '$', '.', braces and NUL in a password, an owner key or a
// uid stay one string value and never add a key, an operator or a role.
TEST(MongoCommands, NastyValuesStayOneStringValue) {
  const std::vector<std::string> nasty = {
      R"(x", "roles": [{"role": "root", "db": "admin"}], "y": ")", "$where", "a.b", "}{", std::string("nul\0tail", 8),
      "\\\"", "\xe2\x80\xae", "admin"};
  for (const auto& v : nasty) {
    SCOPED_TRACE(::testing::PrintToString(v));
    Action a{ActionKind::kCreateUser, "a_orders", "a_orders_app", {{"readWrite", "a_orders"}}, v, Marker{v, v}, {}, false};
    Command c = commandFor(a);
    OrderedJson j = OrderedJson::parse(c.body.canonicalJson());
    EXPECT_EQ(c.database, "a_orders");
    EXPECT_EQ(j.size(), 5u) << j.dump();
    EXPECT_EQ(j["pwd"].get<std::string>(), v);
    EXPECT_EQ(j["customData"]["servicedb"]["owner"].get<std::string>(), v);
    ASSERT_EQ(j["roles"].size(), 1u);
    EXPECT_EQ(j["roles"][0]["db"], "a_orders");
  }
}

}  // namespace
}  // namespace sdb::engines::mongo
