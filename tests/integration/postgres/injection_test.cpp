// Proof that no name or field injects SQL: nasty and fuzzed names, markers and passwords go
// through the real execute path against a real server and come out as exactly one object with
// exactly that name, that comment and that password.
#include <random>

#include "operator/engines/postgres/execute.h"
#include "tests/integration/postgres/pg_test_support.h"

namespace sdb::engines::postgres {
namespace {

class PostgresInjectionIT : public PgServerTest {
 protected:
  static long roleCount(PgConnection& c) {
    auto r = c.query("SELECT count(*) FROM pg_roles", {}, "count");
    return r.ok() ? std::stol(*(*r)[0][0]) : -1;
  }

  // Creates a role named `name` with comment `marker` and password `password` through execute,
  // checks it is exactly one new role with exactly these fields, then drops it.
  void roundTrip(const std::string& name, const std::string& marker, const std::string& password) {
    auto c = PgConnection::open(admin());
    ASSERT_TRUE(c.ok());
    long before = roleCount(*c);
    Action create{ActionKind::kCreateRole, name, "", "", {}, {}, marker, admin().user};
    create.roleSpec = DesiredRole{name, true, 3, password, std::nullopt, std::nullopt};
    Plan p;
    p.actions = {create};
    ExecuteReport rep = execute(admin(), p);
    ASSERT_FALSE(rep.failure) << rep.failure->toString();
    auto rows = c->query("SELECT shobj_description(oid, 'pg_authid'), rolconnlimit FROM pg_roles WHERE rolname = $1",
                         {name}, "check");
    ASSERT_TRUE(rows.ok());
    ASSERT_EQ(rows->size(), 1u) << "role not created under its exact name";
    EXPECT_EQ((*rows)[0][0].value_or("<null>"), marker);
    EXPECT_EQ((*rows)[0][1].value_or(""), "3");
    EXPECT_EQ(roleCount(*c), before + 1) << "exactly one role was created";
    auto works = whichPasswordWorks(admin(), name, {password + "x", password});
    ASSERT_TRUE(works.ok()) << works.error().toString();
    EXPECT_EQ(*works, 1u);
    Plan drop;
    drop.actions = {Action{ActionKind::kDropRole, name, "", "", {}, {}, "", admin().user}};
    ExecuteReport dropped = execute(admin(), drop);
    ASSERT_FALSE(dropped.failure) << dropped.failure->toString();
    EXPECT_EQ(roleCount(*c), before);
  }
};

TEST_F(PostgresInjectionIT, NastyNamesAreExactlyOneIdentifier) {
  const std::vector<std::string> nasty = {
      "x\"; DROP ROLE sdb_admin; --",
      "'; CREATE ROLE pwned SUPERUSER; --",
      "a\\\"b\\'c\\",
      "Upper Case",
      "with-dash",
      "template1 ",
      "$1",
      "/* comment */ name",
      "\xC3\xA9t\xC3\xA9 \xF0\x9F\x98\x80",
      std::string(63, 'z'),
  };
  for (const auto& n : nasty) {
    SCOPED_TRACE(n);
    roundTrip(n, "m'" + n + "';--", "p'\"\\;" + n);
  }
  auto c = PgConnection::open(admin());
  ASSERT_TRUE(c.ok());
  auto pwned = c->query("SELECT 1 FROM pg_roles WHERE rolname = 'pwned'", {}, "check");
  ASSERT_TRUE(pwned.ok());
  EXPECT_TRUE(pwned->empty());
}

std::string fuzzString(std::mt19937& rng, size_t maxBytes) {
  static const std::vector<std::string> pieces = {"'", "\"", ";", "\\", "--", "/*", "*/", "$$", "$1", " ", "\t", "\n",
                                                  "a", "Z", "0", "_", "-", "é", "😀", "ß", "E'", "U&", "\\x41"};
  std::string out;
  size_t n = 1 + rng() % 12;
  for (size_t i = 0; i < n; ++i) {
    const std::string& p = pieces[rng() % pieces.size()];
    if (out.size() + p.size() > maxBytes) break;
    out += p;
  }
  return out.empty() ? "x" : out;
}

TEST_F(PostgresInjectionIT, FuzzedNamesMarkersAndPasswordsRoundTrip) {
  std::mt19937 rng(20261125);
  for (int i = 0; i < 60; ++i) {
    std::string name = fuzzString(rng, 63), marker = fuzzString(rng, 200), password = fuzzString(rng, 100);
    SCOPED_TRACE("iteration " + std::to_string(i));
    roundTrip(name, marker, password);
  }
}

TEST_F(PostgresInjectionIT, QuotedLiteralsAndIdentifiersRoundTripAsOneValue) {
  auto c = PgConnection::open(admin());
  ASSERT_TRUE(c.ok());
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) {
    std::string s = fuzzString(rng, 63);
    auto lit = c->literal(s);
    auto id = c->ident(s);
    ASSERT_TRUE(lit.ok() && id.ok());
    PGresult* r = PQexec(c->raw(), ("SELECT " + *lit + "::text AS " + *id).c_str());
    ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << s;
    EXPECT_EQ(PQntuples(r), 1);
    EXPECT_EQ(PQnfields(r), 1);
    EXPECT_EQ(std::string(PQfname(r, 0)), s);
    EXPECT_EQ(std::string(PQgetvalue(r, 0, 0)), s);
    PQclear(r);
  }
}

TEST_F(PostgresInjectionIT, ReservedNamesFailCleanlyNamingTheAction) {
  // deriveNames never produces these; if one reached execute, the server refuses it and the
  // error names the action.
  auto c = PgConnection::open(admin());
  ASSERT_TRUE(c.ok());
  long before = roleCount(*c);
  for (std::string reserved : {"public", "pg_mine", "none"}) {
    Action create{ActionKind::kCreateRole, reserved, "", "", {}, {}, "m", admin().user};
    create.roleSpec = DesiredRole{reserved, true, 3, std::string("p"), std::nullopt, std::nullopt};
    Plan p;
    p.actions = {create};
    ExecuteReport rep = execute(admin(), p);
    ASSERT_TRUE(rep.failure.has_value()) << reserved;
    EXPECT_NE(rep.failure->message.find("create role \"" + reserved + "\""), std::string::npos) << rep.failure->message;
  }
  EXPECT_EQ(roleCount(*c), before);
}

TEST_F(PostgresInjectionIT, InvalidEncodingIsRefusedNotExecuted) {
  auto c = PgConnection::open(admin());
  ASSERT_TRUE(c.ok());
  long before = roleCount(*c);
  std::string bad = "x\xff\"; DROP ROLE sdb_admin; --";
  Action create{ActionKind::kCreateRole, bad, "", "", {}, {}, "m", admin().user};
  create.roleSpec = DesiredRole{bad, true, 3, std::string("p"), std::nullopt, std::nullopt};
  Plan p;
  p.actions = {create};
  ExecuteReport rep = execute(admin(), p);
  ASSERT_TRUE(rep.failure.has_value());
  EXPECT_EQ(rep.applied, 0u);
  EXPECT_NE(rep.failure->message.find("create role"), std::string::npos) << rep.failure->message;
  EXPECT_EQ(roleCount(*c), before);
}

}  // namespace
}  // namespace sdb::engines::postgres
