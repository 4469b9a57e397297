#include "operator/engines/postgres/names.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace sdb::engines::postgres {
namespace {

struct NameCase {
  std::string ns, name, database;
};

TEST(PostgresNames, Table) {
  const std::vector<NameCase> cases = {
      {"a", "orders", "a_orders"},
      {"b", "orders", "b_orders"},
      {"default", "postgres", "default_postgres"},
      {"team-x", "public", "team-x_public"},
      {"kube-system", "template1", "kube-system_template1"},
      {"ns", "my.db-1", "ns_my.db-1"},
  };
  for (const auto& c : cases) {
    Names n = deriveNames(c.ns, c.name);
    EXPECT_EQ(n.database, c.database) << c.ns << "/" << c.name;
    EXPECT_EQ(n.ownerRole, c.database + "_owner");
    EXPECT_EQ(n.migrationRole, c.database + "_migrator");
    EXPECT_EQ(n.appRole, c.database + "_app");
  }
}

TEST(PostgresNames, SpecialNamesAreNeverProduced) {
  for (auto [ns, name] : std::vector<std::pair<std::string, std::string>>{
           {"", "postgres"}, {"", ""}, {"postgres", ""}, {"", "template0"}}) {
    Names n = deriveNames(ns, name);
    for (const auto& s : {n.database, n.ownerRole, n.migrationRole, n.appRole}) {
      EXPECT_NE(s, "postgres");
      EXPECT_NE(s, "public");
      EXPECT_NE(s, "template0");
      EXPECT_NE(s, "template1");
      EXPECT_NE(s.rfind("pg_", 0), 0u) << s;
    }
  }
}

TEST(PostgresNames, ReservedRolePrefixIsAvoided) {
  Names n = deriveNames("pg", "orders");
  EXPECT_NE(n.appRole.rfind("pg_", 0), 0u) << n.appRole;
  EXPECT_NE(deriveNames("pg", "orders").database, deriveNames("spg", "orders").database);
}

TEST(PostgresNames, UppercaseAndOddCharactersGetAHashAndStayDistinct) {
  Names upper = deriveNames("A", "Orders");
  Names lower = deriveNames("a", "orders");
  EXPECT_NE(upper.database, lower.database);
  EXPECT_EQ(upper.database.rfind("a_orders__", 0), 0u) << upper.database;
  EXPECT_NE(deriveNames("a", "x;y").database, deriveNames("a", "x y").database);
  // '_' cannot appear in Kubernetes names; if it does, ("a_b","c") and ("a","b_c") stay apart.
  EXPECT_NE(deriveNames("a_b", "c").database, deriveNames("a", "b_c").database);
}

TEST(PostgresNames, LongNamesAreCutTo63BytesWithAHash) {
  std::string ns(63, 'n'), name(253, 'm');
  Names a = deriveNames(ns, name);
  Names b = deriveNames(ns, name + "x");
  for (const auto& s : {a.database, a.ownerRole, a.migrationRole, a.appRole})
    EXPECT_LE(s.size(), kMaxIdentifierBytes) << s;
  EXPECT_NE(a.database, b.database);
  EXPECT_EQ(a.database, deriveNames(ns, name).database);  // deterministic
  // The longest name that needs no cut keeps its plain form.
  std::string fits(54 - 2, 'k');
  EXPECT_EQ(deriveNames("a", fits).database, "a_" + fits);
  EXPECT_NE(deriveNames("a", fits + "k").database, "a_" + fits + "k");
  EXPECT_LE(deriveNames("a", fits + "k").migrationRole.size(), kMaxIdentifierBytes);
}

TEST(PostgresNames, RandomInputsNeverCollideAndStayShort) {
  std::mt19937 rng(42);
  std::set<std::string> seen;
  std::set<std::pair<std::string, std::string>> inputs;
  for (int i = 0; i < 5000; ++i) {
    auto gen = [&] {
      std::string s(rng() % 80, '\0');
      for (auto& c : s) c = static_cast<char>(rng() % 256);
      return s;
    };
    auto in = std::make_pair(gen(), gen());
    if (!inputs.insert(in).second) continue;
    Names n = deriveNames(in.first, in.second);
    EXPECT_LE(n.migrationRole.size(), kMaxIdentifierBytes);
    for (char c : n.appRole) EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.');
    EXPECT_TRUE(seen.insert(n.database).second) << "collision for input " << i;
  }
}

}  // namespace
}  // namespace sdb::engines::postgres
