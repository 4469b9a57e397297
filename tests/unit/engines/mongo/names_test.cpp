// Name derivation and validation of user-given database names (spec.databaseName).
#include "operator/engines/mongo/names.h"

#include <gtest/gtest.h>

#include <set>

#include "operator/engines/mongo/mongo_engine.h"

namespace sdb::engines::mongo {
namespace {

TEST(MongoNames, PlainNamesAreNamespaceAware) {
  Names a = derivedNames("a", "orders");
  Names b = derivedNames("b", "orders");
  EXPECT_EQ(a.database, "a_orders");
  EXPECT_EQ(a.appUser, "a_orders_app");
  EXPECT_EQ(a.migrationUser, "a_orders_migrator");
  EXPECT_EQ(b.database, "b_orders");
  EXPECT_NE(a.database, b.database);
}

TEST(MongoNames, ChangedOrLongNamesGetAHashAndStayWithin63Bytes) {
  struct Case {
    std::string ns, name;
  };
  const std::vector<Case> cases = {
      {"a", "orders.v2"},        // '.' separates database and collection in MongoDB
      {"A", "orders"},           // uppercase: MongoDB compares database names case-insensitively
      {"a", std::string(253, 'x')},
      {std::string(63, 'n'), std::string(253, 'y')},
      {"", ""},
      {"a", "$x"},
      {"a", "x/y"},
      {"a", std::string("nul\0byte", 8)},
      {"a", "sp ace"},
      {"a", "\xc3\xa9t\xc3\xa9"},
  };
  std::set<std::string> seen;
  for (const auto& c : cases) {
    Names n = derivedNames(c.ns, c.name);
    SCOPED_TRACE(n.database);
    EXPECT_LE(n.database.size(), kMaxDatabaseNameBytes);
    EXPECT_NE(n.database.find("__"), std::string::npos) << "changed or cut names carry a hash";
    for (char ch : n.database)
      EXPECT_TRUE((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-') << int(ch);
    EXPECT_TRUE(validateDatabaseName(n.database).ok()) << "every derived name passes our own validation";
    EXPECT_TRUE(seen.insert(n.database).second) << "distinct inputs, distinct names";
  }
  // A hashed name never equals a plain one, and the hash separates inputs that sanitise alike.
  EXPECT_NE(derivedNames("a", "b.c").database, derivedNames("a", "b-c").database);
  EXPECT_NE(derivedNames("a", "B").database, derivedNames("a", "b").database);
  EXPECT_NE(derivedNames("a_b", "c").database, derivedNames("a", "b_c").database);
}

TEST(MongoNames, DerivedNamesAreNeverReservedInAnyCase) {
  for (const char* ns : {"admin", "local", "config", "ADMIN", ""})
    for (const char* name : {"admin", "local", "config", "Config", ""}) {
      Names n = derivedNames(ns, name);
      EXPECT_FALSE(isReservedDatabase(n.database)) << n.database;
      EXPECT_NE(n.database.find('_'), std::string::npos);
    }
}

TEST(MongoNames, DeterministicAndCollisionFreeOverManyInputs) {
  std::set<std::string> folded;
  for (int i = 0; i < 3000; ++i) {
    const std::string ns = "ns" + std::to_string(i % 37);
    const std::string name = (i % 3 == 0 ? "Svc." : "svc-") + std::to_string(i);
    Names n = derivedNames(ns, name);
    EXPECT_EQ(n.database, derivedNames(ns, name).database);
    EXPECT_TRUE(folded.insert(foldCase(n.database)).second) << "case-insensitive collision: " << n.database;
  }
}

// The user-given database name is the only free-form input that reaches a role's `db`. Every
// case either is refused with an error naming the field, or yields roles on exactly that name,
// never on admin, local, config or any other database.
TEST(MongoNames, NoUserGivenNameWidensARole) {
  struct Case {
    std::string input;
    bool accepted;
  };
  const std::vector<Case> cases = {
      {"admin", false}, {"Admin", false}, {"ADMIN", false}, {"local", false}, {"LoCaL", false},
      {"config", false}, {"a.b", false}, {"admin.system", false}, {"$x", false}, {"$external", false},
      {"a/b", false}, {"a\\b", false}, {"a b", false}, {"a\"b", false}, {std::string("a\0b", 3), false},
      {std::string(64, 'a'), false}, {"\xc3\xa9", false}, {"a*b", false}, {"a:b", false}, {"a|b", false},
      {"a?b", false}, {"a<b", false}, {"admin\n", false}, {" admin", false},
      {"shop", true}, {"Shop_2", true}, {"my-db", true}, {"_x", true}, {std::string(63, 'a'), true},
      {"admin_", true}, {"xadmin", true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(::testing::PrintToString(c.input));
    Engine::ReconcileInput in;
    in.id = {"team", "svc", "uid-1", c.input};
    in.credentials = {{"app", "a"}, {"migration", "m"}};
    auto d = desiredFor(in);
    if (!c.accepted) {
      ASSERT_FALSE(d.ok());
      EXPECT_EQ(d.error().code, ErrorCode::kInvalidArgument);
      EXPECT_EQ(d.error().message.rfind("spec.databaseName:", 0), 0u) << d.error().message;
      EXPECT_EQ(d.error().message.find('\0'), std::string::npos);
      continue;
    }
    ASSERT_TRUE(d.ok()) << d.error().message;
    EXPECT_EQ(d->database, c.input);
    for (const DesiredUser* u : {&d->app, &d->migration})
      for (const auto& r : u->roles) {
        EXPECT_EQ(r.db, c.input) << u->name << " has " << r.role << " on " << r.db;
        EXPECT_FALSE(isReservedDatabase(r.db));
      }
  }
}

TEST(MongoNames, EmptyDatabaseNameMeansDerived) {
  Engine::ReconcileInput in;
  in.id = {"a", "orders", "uid-1", ""};
  auto d = desiredFor(in);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->database, "a_orders");
}

TEST(MongoNames, RolesAreExactlyReadWriteAndDbAdminOnTheOwnDatabase) {
  Engine::ReconcileInput in;
  in.id = {"a", "orders", "uid-1"};
  auto d = desiredFor(in);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->app.roles, (std::vector<RoleRef>{{"readWrite", "a_orders"}}));
  EXPECT_EQ(d->migration.roles, (std::vector<RoleRef>{{"dbAdmin", "a_orders"}, {"readWrite", "a_orders"}}));
}

}  // namespace
}  // namespace sdb::engines::mongo
