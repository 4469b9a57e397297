// No name from user input widens a role, proven on the command documents the engine actually sends.
// names_test.cpp (MongoNames.NoUserGivenNameWidensARole) checks the desired roles; this table drives
// the whole engine (observe, plan, execute over a scripted server) for every input, in the three
// situations that write roles or touch a database: a first reconcile on an empty server, a reconcile
// that repairs users whose roles were widened behind our back, and Delete. Every command sent is read
// back from its BSON (canonical extended JSON), and must:
//   - run on the service's own database (reads of the topology and the database list on admin);
//   - grant only readWrite and dbAdmin, and only on that database;
//   - name only the service's own users, and carry no key beyond the command's known fields.
// Inputs: spec.databaseName (user-chosen) and metadata.namespace / metadata.name (derived names).
// A refused spec.databaseName names the field and no command is sent at all (not even hello).
#include <gtest/gtest.h>

#include <set>

#include "operator/engines/mongo/mongo_engine.h"
#include "operator/engines/mongo/names.h"
#include "tests/unit/engines/mongo/scripted_channel.h"

namespace sdb::engines::mongo {
namespace {

using testing::ScriptedChannel;
using OrderedJson = nlohmann::ordered_json;

struct Counted final : AdminChannel {
  explicit Counted(ScriptedChannel& c) : c_(c) {}
  Result<Json> run(const Command& cmd, const std::string& what) override { return c_.run(cmd, what); }
  Result<bool> tryLogin(const std::string& db, const std::string& u, const std::string& p) override {
    return c_.tryLogin(db, u, p);
  }
  ScriptedChannel& c_;
};

MongoEngine engineOver(ScriptedChannel& ch, int& connects) {
  return MongoEngine([&ch, &connects]() -> Result<std::unique_ptr<AdminChannel>> {
    ++connects;
    return std::unique_ptr<AdminChannel>(std::make_unique<Counted>(ch));
  });
}

Engine::ReconcileInput inputFor(const ServiceIdentity& id) {
  Engine::ReconcileInput in;
  in.id = id;
  in.credentials = {{"app", "app-pw"}, {"migration", "mig-pw"}};
  return in;
}

// A server on which `db` holds our marker and our two users, whose roles someone widened.
ScriptedChannel widenedServer(const std::string& db, const std::string& owner) {
  ScriptedChannel ch;
  ch.replies.emplace("hello", Json{{"isWritablePrimary", true}, {"ok", 1}});
  ch.replies.emplace("listDatabases", Json{{"databases", {{{"name", "admin"}}, {{"name", db}}}}, {"ok", 1}});
  ch.replies.emplace("find@" + db, Json{{"cursor", {{"firstBatch", {{{"_id", "owner"}, {"owner", owner}, {"uid", "u1"}}}}, {"id", 0}}},
                                        {"ok", 1}});
  Json users = Json::array();
  for (const auto& [user, pw] : std::vector<std::pair<std::string, std::string>>{{db + "_app", "app-pw"}, {db + "_migrator", "mig-pw"}}) {
    users.push_back({{"user", user}, {"db", db}, {"mechanisms", {"SCRAM-SHA-256"}},
                     {"customData", {{"servicedb", {{"owner", owner}, {"uid", "u1"}}}}},
                     {"roles", {{{"role", "root"}, {"db", "admin"}}, {{"role", "readWrite"}, {"db", "other"}}}}});
    ch.logins.emplace(db + "/" + user + "/" + pw, true);
  }
  ch.replies.emplace("usersInfo@" + db, Json{{"users", users}, {"ok", 1}});
  return ch;
}

ScriptedChannel emptyServer() {
  ScriptedChannel ch;
  ch.replies.emplace("hello", Json{{"isWritablePrimary", true}, {"setName", "rs0"}, {"ok", 1}});
  ch.replies.emplace("listDatabases", Json{{"databases", {{{"name", "admin"}}, {{"name", "local"}}, {{"name", "config"}}}}, {"ok", 1}});
  ch.replies.emplace("usersInfo", Json{{"users", Json::array()}, {"ok", 1}});
  return ch;
}

// Every command sent stays on `db` and its own users, and grants nothing beyond readWrite/dbAdmin on it.
void expectConfined(const ScriptedChannel& ch, const std::string& db) {
  static const std::map<std::string, std::set<std::string>> kKeys = {
      {"hello", {"hello"}},
      {"listDatabases", {"listDatabases", "nameOnly"}},
      {"find", {"find", "filter", "limit", "singleBatch"}},
      {"usersInfo", {"usersInfo"}},
      {"update", {"update", "updates", "ordered", "writeConcern"}},
      {"createUser", {"createUser", "pwd", "customData", "roles", "mechanisms", "writeConcern"}},
      {"updateUser", {"updateUser", "pwd", "customData", "roles", "mechanisms", "writeConcern"}},
      {"dropUser", {"dropUser", "writeConcern"}},
      {"dropDatabase", {"dropDatabase", "writeConcern"}},
  };
  const std::set<std::string> ownUsers = {db + "_app", db + "_migrator"};
  ASSERT_FALSE(ch.sent.empty());
  for (const auto& s : ch.sent) {
    SCOPED_TRACE(s.name + "@" + s.database + " " + s.json);
    OrderedJson j = OrderedJson::parse(s.json);
    ASSERT_TRUE(kKeys.count(s.name)) << "unexpected command";
    for (const auto& [key, _] : j.items()) EXPECT_TRUE(kKeys.at(s.name).count(key)) << "unexpected key " << key;
    if (s.name == "hello" || s.name == "listDatabases") {
      EXPECT_EQ(s.database, "admin");
      continue;
    }
    EXPECT_EQ(s.database, db);
    EXPECT_FALSE(isReservedDatabase(s.database));
    for (const char* userKey : {"createUser", "updateUser", "dropUser"}) {
      if (j.contains(userKey)) {
        EXPECT_TRUE(ownUsers.count(j[userKey].get<std::string>()));
      }
    }
    if (j.contains("roles")) {
      ASSERT_TRUE(j["roles"].is_array());
      EXPECT_FALSE(j["roles"].empty());
      for (const auto& r : j["roles"]) {
        EXPECT_EQ(r.size(), 2u) << r.dump();
        EXPECT_EQ(r["db"], db);
        EXPECT_TRUE(r["role"] == "readWrite" || r["role"] == "dbAdmin") << r.dump();
      }
    }
    if (s.name == "usersInfo") {
      for (const auto& u : j["usersInfo"]) {
        EXPECT_EQ(u["db"], db);
        EXPECT_TRUE(ownUsers.count(u["user"].get<std::string>()));
      }
    }
    if (s.name == "find" || s.name == "update") {
      EXPECT_EQ(j.begin().value(), "_servicedb") << "only the marker collection";
    }
  }
}

struct Case {
  ServiceIdentity id;
  std::string wantDatabase;  // "" = refused, naming spec.databaseName
};

std::vector<Case> cases() {
  auto chosen = [](const std::string& name, const std::string& want) { return Case{{"team", "svc", "u1", name}, want}; };
  auto derived = [](const std::string& ns, const std::string& name) {
    return Case{{ns, name, "u1"}, derivedNames(ns, name).database};
  };
  std::vector<Case> out;
  for (const std::string& bad : std::vector<std::string>{"admin", "Admin", "ADMIN", "local", "LoCaL", "config", "a.b", "admin.system", "$x",
                                 "$external", "a/b", "a\\b", "a b", "a\"b", std::string("a\0b", 3), std::string(64, 'a'),
                                 "\xc3\xa9", "a*b", "a:b", "admin\n", " admin", "admin ", "{\"$ne\":1}",
                                 "x\", \"roles\": [{\"role\": \"root\", \"db\": \"admin\"}], \"y\": \""}) {
    out.push_back(chosen(bad, ""));
  }
  for (const std::string& good : std::vector<std::string>{"shop", "Shop_2", "my-db", "_x", "admin_", "xadmin", "config-", std::string(63, 'a')}) {
    out.push_back(chosen(good, good));
  }
  // metadata.namespace and metadata.name: Kubernetes validates them, the engine does not rely on it.
  for (const auto& [ns, name] : std::vector<std::pair<std::string, std::string>>{
           {"admin", ""}, {"", "admin"}, {"ADMIN", "config"}, {"a", "b.c"}, {"$external", "x"}, {"a", std::string("nul\0x", 5)},
           {"a", "roles\": [{\"role\": \"root\"}]"}, {std::string(63, 'n'), std::string(253, 'y')}}) {
    out.push_back(derived(ns, name));
  }
  return out;
}

TEST(MongoNoWidening, EveryCommandSentForAnyNameStaysOnItsOwnDatabase) {
  for (const Case& c : cases()) {
    SCOPED_TRACE("namespace " + ::testing::PrintToString(c.id.namespaceName) + ", name " +
                 ::testing::PrintToString(c.id.name) + ", databaseName " + ::testing::PrintToString(c.id.databaseName));
    ScriptedChannel first = emptyServer();
    int connects = 0;
    MongoEngine e = engineOver(first, connects);
    auto r = e.reconcile(inputFor(c.id));
    if (c.wantDatabase.empty()) {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
      EXPECT_EQ(r.error().message.rfind("spec.databaseName: ", 0), 0u) << r.error().message;
      EXPECT_EQ(r.error().message.find('\0'), std::string::npos);
      auto removed = e.remove(c.id, DeletionPolicy::kDelete);
      EXPECT_FALSE(removed.ok()) << "Delete refuses the name too";
      EXPECT_EQ(connects, 0) << "refused before connecting";
      EXPECT_TRUE(first.sent.empty());
      continue;
    }
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_FALSE(isReservedDatabase(c.wantDatabase));
    std::vector<std::string> writes;
    for (const auto& s : first.sent) writes.push_back(s.name);
    EXPECT_EQ(writes, (std::vector<std::string>{"hello", "listDatabases", "usersInfo", "update", "createUser", "createUser"}));
    expectConfined(first, c.wantDatabase);

    const std::string owner = c.id.namespaceName + "/" + c.id.name;
    ScriptedChannel widened = widenedServer(c.wantDatabase, owner);
    MongoEngine w = engineOver(widened, connects);
    auto repaired = w.reconcile(inputFor(c.id));
    ASSERT_TRUE(repaired.ok()) << repaired.error().message;
    int updates = 0;
    for (const auto& s : widened.sent) updates += s.name == "updateUser" && s.json.find("\"roles\"") != std::string::npos;
    EXPECT_EQ(updates, 2) << "both widened users get their roles set back";
    expectConfined(widened, c.wantDatabase);

    ScriptedChannel gone = widenedServer(c.wantDatabase, owner);
    MongoEngine d = engineOver(gone, connects);
    ASSERT_TRUE(d.remove(c.id, DeletionPolicy::kDelete).ok());
    int drops = 0;
    for (const auto& s : gone.sent) drops += s.name == "dropDatabase" || s.name == "dropUser";
    EXPECT_EQ(drops, 3);
    expectConfined(gone, c.wantDatabase);
  }
}

}  // namespace
}  // namespace sdb::engines::mongo
