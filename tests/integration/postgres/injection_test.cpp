// Proof that no name or field injects SQL: nasty and fuzzed names, markers and passwords go
// through the real execute path against a real server and come out as exactly one object with
// exactly that name, that comment and that password.
#include <random>
#include <set>

#include "operator/engines/postgres/execute.h"
#include "operator/engines/postgres/plan.h"
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

  static long databaseCount(PgConnection& c) {
    auto r = c.query("SELECT count(*) FROM pg_database", {}, "count");
    return r.ok() ? std::stol(*(*r)[0][0]) : -1;
  }
  static bool exists(PgConnection& c, const std::string& catalogSql, const std::string& name) {
    auto r = c.query(catalogSql, {name}, "exists");
    return r.ok() && !r->empty();
  }

  // Objects the admin may drop (it owns the database, it created the role), so an injected DROP
  // would succeed: their survival shows that nothing injected ran.
  void createCanaries() {
    auto c = PgConnection::open(admin());
    ASSERT_TRUE(c.ok());
    if (!exists(*c, "SELECT 1 FROM pg_database WHERE datname = $1", "canary")) {
      ASSERT_TRUE(c->exec("CREATE DATABASE canary", "canary database").ok());
    }
    if (!exists(*c, "SELECT 1 FROM pg_roles WHERE rolname = $1", "canary_role")) {
      ASSERT_TRUE(c->exec("CREATE ROLE canary_role NOLOGIN", "canary role").ok());
    }
  }
  void expectCanariesAlive() {
    auto c = PgConnection::open(admin());
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(exists(*c, "SELECT 1 FROM pg_database WHERE datname = $1", "canary")) << "an injected DROP DATABASE ran";
    EXPECT_TRUE(exists(*c, "SELECT 1 FROM pg_roles WHERE rolname = $1", "canary_role")) << "an injected DROP ROLE ran";
    EXPECT_FALSE(exists(*c, "SELECT 1 FROM pg_roles WHERE rolname = $1", "pwned")) << "an injected CREATE ROLE ran";
  }

  // A whole fresh plan (every provisioning action) through observe, plan and execute with these
  // names and marker, then the Delete plan. Checks that exactly one database and three roles exist
  // under exactly these names, with exactly this marker, that the logins work as designed, that
  // the next plan is empty, and that the deletion leaves nothing behind.
  void wholePlanRoundTrip(const std::string& database, const std::string& owner, const std::string& migration,
                          const std::string& app, const std::string& ownerKey, const std::string& uid) {
    const std::string appPw = "a'\"\\;" + app, migPw = "m'\"\\;" + migration;
    Desired d;
    d.database = database;
    d.owner = DesiredRole{owner, false, -1, std::nullopt, std::nullopt, std::nullopt};
    d.migration = DesiredRole{migration, true, 4, migPw, owner, owner};
    d.app = DesiredRole{app, true, 4, appPw, std::nullopt, std::nullopt};
    d.ownerKey = ownerKey;
    d.uid = uid;
    d.adminRole = admin().user;
    const std::string marker = markerFor(ownerKey, uid);

    auto c = PgConnection::open(admin());
    ASSERT_TRUE(c.ok());
    const long rolesBefore = roleCount(*c), databasesBefore = databaseCount(*c);
    auto o = observe(admin(), d);
    ASSERT_TRUE(o.ok()) << o.error().toString();
    ASSERT_FALSE(o->database.has_value());
    Plan fresh = plan(d, *o);
    ASSERT_TRUE(fresh.blockers.empty());
    std::set<ActionKind> kinds;
    for (const auto& a : fresh.actions) kinds.insert(a.kind);
    const std::set<ActionKind> everyProvisioningKind = {
        ActionKind::kCreateRole,        ActionKind::kGrantMembership,  ActionKind::kSetDefaultRole,
        ActionKind::kCreateDatabase,    ActionKind::kCommentDatabase,  ActionKind::kRestrictDatabase,
        ActionKind::kGrantConnect,      ActionKind::kSecureSchema,     ActionKind::kGrantAppDml};
    EXPECT_EQ(kinds, everyProvisioningKind);
    ExecuteReport rep = execute(admin(), fresh);
    ASSERT_FALSE(rep.failure) << rep.failure->toString();
    EXPECT_EQ(rep.applied, fresh.actions.size());

    EXPECT_EQ(databaseCount(*c), databasesBefore + 1) << "exactly one database was created";
    EXPECT_EQ(roleCount(*c), rolesBefore + 3) << "exactly three roles were created";
    auto db = c->query("SELECT pg_get_userbyid(datdba), shobj_description(oid, 'pg_database') FROM pg_database "
                       "WHERE datname = $1",
                       {database}, "check database");
    ASSERT_TRUE(db.ok());
    ASSERT_EQ(db->size(), 1u) << "database not created under its exact name";
    EXPECT_EQ((*db)[0][0].value_or(""), owner);
    EXPECT_EQ((*db)[0][1].value_or("<null>"), marker);
    for (const auto& [name, canLogin] : std::vector<std::pair<std::string, bool>>{
             {owner, false}, {migration, true}, {app, true}}) {
      auto role = c->query("SELECT shobj_description(oid, 'pg_authid'), rolcanlogin FROM pg_roles WHERE rolname = $1",
                           {name}, "check role");
      ASSERT_TRUE(role.ok());
      ASSERT_EQ(role->size(), 1u) << "role " << name << " not created under its exact name";
      EXPECT_EQ((*role)[0][0].value_or("<null>"), marker) << name;
      EXPECT_EQ((*role)[0][1].value_or(""), canLogin ? "t" : "f") << name;
    }

    {
      // The default role (ALTER ROLE .. SET role) names the owner exactly: the migration login
      // acts as the owner, creates, and the app gets DML on what it created but cannot create.
      auto mig = login(migration, migPw, database);
      ASSERT_TRUE(mig.ok()) << mig.error().toString();
      auto who = mig->query("SELECT current_user, session_user, current_database()", {}, "whoami");
      ASSERT_TRUE(who.ok()) << who.error().toString();
      EXPECT_EQ((*who)[0][0].value_or(""), owner);
      EXPECT_EQ((*who)[0][1].value_or(""), migration);
      EXPECT_EQ((*who)[0][2].value_or(""), database);
      ASSERT_TRUE(mig->exec("CREATE TABLE items (id serial, v text)", "migration create").ok());
      auto appConn = login(app, appPw, database);
      ASSERT_TRUE(appConn.ok()) << appConn.error().toString();
      EXPECT_TRUE(appConn->exec("INSERT INTO items (v) VALUES ('x'); DELETE FROM items", "app dml").ok());
      EXPECT_FALSE(appConn->exec("CREATE TABLE evil (id int)", "app create").ok());
    }

    auto again = observe(admin(), d);
    ASSERT_TRUE(again.ok()) << again.error().toString();
    Plan next = plan(d, *again);
    EXPECT_TRUE(next.empty()) << (next.actions.empty() ? next.blockers.front().message : next.actions.front().describe());

    Plan drop = planDeletion(d, *again, DeletionPolicy::kDelete);
    ASSERT_TRUE(drop.blockers.empty()) << drop.blockers.front().message;
    ExecuteReport dropped = execute(admin(), drop);
    ASSERT_FALSE(dropped.failure) << dropped.failure->toString();
    EXPECT_EQ(databaseCount(*c), databasesBefore);
    EXPECT_EQ(roleCount(*c), rolesBefore);
    EXPECT_FALSE(exists(*c, "SELECT 1 FROM pg_database WHERE datname = $1", database));
    for (const auto& name : {owner, migration, app})
      EXPECT_FALSE(exists(*c, "SELECT 1 FROM pg_roles WHERE rolname = $1", name)) << name;
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

TEST_F(PostgresInjectionIT, WholePlansWithNastyNamesCreateExactlyTheseObjectsAndDropClean) {
  createCanaries();
  struct Service {
    std::string database, owner, migration, app, ownerKey, uid;
  };
  const std::vector<Service> nasty = {
      {"x\"; DROP DATABASE canary; --", "o'; DROP ROLE canary_role; --", "m\"; CREATE ROLE pwned; --",
       "a'); CREATE ROLE pwned; --", "ns'; DROP DATABASE canary; --/n\"", "u'; CREATE ROLE pwned; --"},
      {"a\\\"b\\'c\\", "E'o\\'", "$1 $$m$$", "/* a */ -- app", "\\'; COMMIT; DROP ROLE canary_role; --/x",
       "$$; DROP DATABASE canary; $$"},
      // libpq must not read a database name as a connection string (expand_dbname).
      {"dbname=postgres host=198.18.0.1", "Public", "with-dash", "\xC3\xA9t\xC3\xA9 \xF0\x9F\x98\x80",
       "team-x/orders", "uid-1"},
      {"template1 ", "postgres ", " public", "none ", "a/b", "U&'\\0041'"},
      {std::string(63, 'd'), std::string(61, 'o') + "\xC3\xA9", std::string(63, 'm'), "app\ttab\nline",
       std::string(200, '\''), std::string(100, '"')},
  };
  for (const auto& n : nasty) {
    SCOPED_TRACE(n.database);
    wholePlanRoundTrip(n.database, n.owner, n.migration, n.app, n.ownerKey, n.uid);
  }
  expectCanariesAlive();
}

TEST_F(PostgresInjectionIT, FuzzedWholePlansRoundTrip) {
  createCanaries();
  std::mt19937 rng(20261126);
  for (int i = 0; i < 8; ++i) {
    SCOPED_TRACE("iteration " + std::to_string(i));
    std::string base = fuzzString(rng, 60);
    wholePlanRoundTrip(fuzzString(rng, 63), base + "_o", base + "_m", base + "_a", fuzzString(rng, 120),
                       fuzzString(rng, 60));
  }
  expectCanariesAlive();
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
