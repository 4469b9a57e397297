// The PostgreSQL engine against a real PostgreSQL 15 with TLS, scram and a non-superuser admin.
#include "operator/engines/postgres/execute.h"
#include "operator/engines/postgres/plan.h"
#include "tests/integration/postgres/pg_test_support.h"

namespace sdb::engines::postgres {
namespace {

class PostgresEngineIT : public PgServerTest {};

void expectConverged(const ConnectionOptions& admin, const Engine::ReconcileInput& in) {
  Desired d = desiredFor(in, admin.user, Mode::kShared);
  auto o = observe(admin, d);
  ASSERT_TRUE(o.ok()) << o.error().toString();
  Plan p = plan(d, *o);
  EXPECT_TRUE(p.empty()) << (p.actions.empty() ? p.blockers.front().message : p.actions.front().describe());
}

TEST_F(PostgresEngineIT, ConvergesThenASecondReconcileWritesNothing) {
  PostgresEngine engine(admin());
  auto first = engine.reconcile(input("conv", "orders", "u1"));
  ASSERT_TRUE(first.ok()) << first.error().toString();
  EXPECT_GE(first->actions.size(), 10u);
  size_t before = server_->loggedStatementCount();
  auto second = engine.reconcile(input("conv", "orders", "u1"));
  ASSERT_TRUE(second.ok()) << second.error().toString();
  EXPECT_TRUE(second->empty()) << second->actions.front();
  EXPECT_EQ(server_->loggedStatementCount(), before) << "a steady-state reconcile wrote to Postgres";
  auto app = login("conv_orders_app", "app-pw", "conv_orders");
  EXPECT_TRUE(app.ok()) << app.error().toString();
}

TEST_F(PostgresEngineIT, TwoServicesAreRefusedByEachOthersDatabase) {
  PostgresEngine engine(admin());
  ASSERT_TRUE(engine.reconcile(input("a", "orders", "ua")).ok());
  ASSERT_TRUE(engine.reconcile(input("b", "orders", "ub", "b-app", "b-mig")).ok());
  EXPECT_TRUE(login("a_orders_app", "app-pw", "a_orders").ok());
  EXPECT_TRUE(login("b_orders_app", "b-app", "b_orders").ok());
  auto cross = login("a_orders_app", "app-pw", "b_orders");
  ASSERT_FALSE(cross.ok());
  EXPECT_NE(cross.error().message.find("permission denied for database"), std::string::npos) << cross.error().message;
  EXPECT_FALSE(login("b_orders_migrator", "b-mig", "a_orders").ok());
}

TEST_F(PostgresEngineIT, AppIsDmlOnlyWhileMigrationCanCreate) {
  PostgresEngine engine(admin());
  ASSERT_TRUE(engine.reconcile(input("dml", "svc", "u"))
                  .ok());
  auto mig = login("dml_svc_migrator", "mig-pw", "dml_svc");
  ASSERT_TRUE(mig.ok()) << mig.error().toString();
  ASSERT_TRUE(mig->exec("CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text)", "create").ok());
  auto owner = server_->superuserQuery("SELECT tableowner FROM pg_tables WHERE tablename='items'", "dml_svc");
  ASSERT_TRUE(owner.ok());
  EXPECT_EQ(owner->value_or(""), "dml_svc_owner") << "the migration login creates as the owner role";
  auto app = login("dml_svc_app", "app-pw", "dml_svc");
  ASSERT_TRUE(app.ok());
  EXPECT_TRUE(app->exec("INSERT INTO items (v) VALUES ('x'); UPDATE items SET v='y'; DELETE FROM items", "dml").ok());
  auto create = app->exec("CREATE TABLE evil (id int)", "app create");
  ASSERT_FALSE(create.ok());
  EXPECT_NE(create.error().message.find("permission denied for schema public"), std::string::npos);
  EXPECT_FALSE(app->exec("ALTER TABLE items ADD COLUMN z int", "app alter").ok());
  EXPECT_FALSE(app->exec("DROP TABLE items", "app drop").ok());
  // A steady-state reconcile after the migration still plans nothing.
  auto again = engine.reconcile(input("dml", "svc", "u"));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty()) << again->actions.front();
}

// Migrations create schemas of their own (CREATE SCHEMA billing). The default privileges must cover
// them too: the app needs USAGE on such a schema and DML on its tables and sequences, and still no
// CREATE there.
TEST_F(PostgresEngineIT, AppCanUseTablesInASchemaTheMigrationLoginCreates) {
  PostgresEngine engine(admin());
  ASSERT_TRUE(engine.reconcile(input("sch", "svc", "u")).ok());
  auto mig = login("sch_svc_migrator", "mig-pw", "sch_svc");
  ASSERT_TRUE(mig.ok()) << mig.error().toString();
  ASSERT_TRUE(mig->exec("CREATE SCHEMA billing; "
                        "CREATE TABLE billing.invoices (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text); "
                        "CREATE TABLE billing.lines (id serial PRIMARY KEY, v text)",
                        "create schema")
                  .ok());
  auto app = login("sch_svc_app", "app-pw", "sch_svc");
  ASSERT_TRUE(app.ok()) << app.error().toString();
  auto dml = app->exec("INSERT INTO billing.invoices (v) VALUES ('x'); INSERT INTO billing.lines (v) VALUES ('y'); "
                       "UPDATE billing.invoices SET v = 'z'; SELECT * FROM billing.lines; DELETE FROM billing.lines",
                       "app dml");
  EXPECT_TRUE(dml.ok()) << dml.error().toString();
  auto create = app->exec("CREATE TABLE billing.evil (id int)", "app create");
  ASSERT_FALSE(create.ok()) << "the app login created a table in a migration's schema";
  EXPECT_NE(create.error().message.find("permission denied for schema billing"), std::string::npos)
      << create.error().message;
  EXPECT_FALSE(app->exec("ALTER TABLE billing.invoices ADD COLUMN z int", "app alter").ok());
  auto again = engine.reconcile(input("sch", "svc", "u"));
  ASSERT_TRUE(again.ok()) << again.error().toString();
  EXPECT_TRUE(again->empty()) << again->actions.front();

  // A database provisioned before the database-wide default privileges (only `IN SCHEMA public`)
  // gets them from the next reconcile.
  ASSERT_TRUE(server_->superuserExec("ALTER DEFAULT PRIVILEGES FOR ROLE sch_svc_owner REVOKE ALL ON SCHEMAS FROM sch_svc_app; "
                                     "ALTER DEFAULT PRIVILEGES FOR ROLE sch_svc_owner REVOKE ALL ON TABLES FROM sch_svc_app; "
                                     "ALTER DEFAULT PRIVILEGES FOR ROLE sch_svc_owner IN SCHEMA public "
                                     "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO sch_svc_app",
                                     "sch_svc")
                  .ok());
  auto upgraded = engine.reconcile(input("sch", "svc", "u"));
  ASSERT_TRUE(upgraded.ok()) << upgraded.error().toString();
  EXPECT_EQ(upgraded->actions, std::vector<std::string>{"grant DML in \"sch_svc\" to \"sch_svc_app\""});
  expectConverged(admin(), input("sch", "svc", "u"));
  ASSERT_TRUE(mig->exec("CREATE SCHEMA later; CREATE TABLE later.t (id int)", "create later").ok());
  EXPECT_TRUE(app->exec("INSERT INTO later.t VALUES (1)", "app dml in a later schema").ok());
}

// PostgreSQL 15 no longer grants CREATE on schema public to PUBLIC, but servers initialised by 14
// or older (and upgraded cloud servers) still do, and CREATE DATABASE copies template1's grant. The
// engine must revoke it, or any role with CONNECT could create objects in the service's schema.
TEST_F(PostgresEngineIT, PublicCannotCreateInSchemaPublicEvenWhenTemplate1GrantsIt) {
  const std::string publicCanCreate =
      "SELECT EXISTS (SELECT 1 FROM pg_namespace n, aclexplode(n.nspacl) a WHERE n.nspname = 'public' "
      "AND a.grantee = 0 AND a.privilege_type = 'CREATE')";
  ASSERT_TRUE(server_->superuserExec("GRANT CREATE ON SCHEMA public TO PUBLIC", "template1").ok());
  struct RestoreTemplate1 {
    sdb::testing::PostgresServer* server;
    ~RestoreTemplate1() { (void)server->superuserExec("REVOKE CREATE ON SCHEMA public FROM PUBLIC", "template1"); }
  } restore{server_};
  ASSERT_EQ(server_->superuserQuery(publicCanCreate, "template1")->value_or(""), "t")
      << "the set-up must mimic PostgreSQL 14: PUBLIC may create in template1's schema public";

  PostgresEngine engine(admin());
  auto r = engine.reconcile(input("legacy", "svc", "u"));
  ASSERT_TRUE(r.ok()) << r.error().toString();
  ASSERT_TRUE(r->blockers.empty());
  EXPECT_EQ(server_->superuserQuery(publicCanCreate, "legacy_svc")->value_or(""), "f");
  expectConverged(admin(), input("legacy", "svc", "u"));

  // A login that is not the service's, allowed to connect by the superuser: USAGE through PUBLIC,
  // but no CREATE.
  ASSERT_TRUE(server_->superuserExec("CREATE ROLE legacy_outsider LOGIN PASSWORD 'outsider-pw'").ok());
  ASSERT_TRUE(server_->superuserExec("GRANT CONNECT ON DATABASE legacy_svc TO legacy_outsider").ok());
  auto outsider = login("legacy_outsider", "outsider-pw", "legacy_svc");
  ASSERT_TRUE(outsider.ok()) << outsider.error().toString();
  auto created = outsider->exec("CREATE TABLE public.squatter (id int)", "outsider create");
  ASSERT_FALSE(created.ok()) << "a role outside the service created a table in schema public";
  EXPECT_NE(created.error().message.find("permission denied for schema public"), std::string::npos)
      << created.error().message;
  auto app = login("legacy_svc_app", "app-pw", "legacy_svc");
  ASSERT_TRUE(app.ok()) << app.error().toString();
  auto appCreated = app->exec("CREATE TABLE public.evil (id int)", "app create");
  ASSERT_FALSE(appCreated.ok()) << "the app login created a table in schema public";
  EXPECT_NE(appCreated.error().message.find("permission denied for schema public"), std::string::npos)
      << appCreated.error().message;

  // The next reconcile only takes back the superuser's CONNECT grant.
  auto again = engine.reconcile(input("legacy", "svc", "u"));
  ASSERT_TRUE(again.ok()) << again.error().toString();
  EXPECT_EQ(again->actions,
            std::vector<std::string>{"revoke connect on database \"legacy_svc\" from \"legacy_outsider\""});
  expectConverged(admin(), input("legacy", "svc", "u"));
}

TEST_F(PostgresEngineIT, ObjectsWithoutOurMarkerAreNeverAdopted) {
  ASSERT_TRUE(server_->superuserExec("CREATE ROLE foreign_svc_app LOGIN PASSWORD 'theirs'").ok());
  ASSERT_TRUE(server_->superuserExec("CREATE DATABASE foreign2_svc").ok());
  PostgresEngine engine(admin());
  size_t before = server_->loggedStatementCount();
  auto r = engine.reconcile(input("foreign", "svc", "u"));
  ASSERT_TRUE(r.ok()) << r.error().toString();
  ASSERT_EQ(r->blockers.size(), 1u);
  EXPECT_EQ(r->blockers[0].reason, "ForeignObject");
  EXPECT_EQ(r->blockers[0].object, "role \"foreign_svc_app\"");
  EXPECT_TRUE(r->actions.empty());
  EXPECT_EQ(server_->loggedStatementCount(), before) << "nothing was written";
  auto db = engine.reconcile(input("foreign2", "svc", "u"));
  ASSERT_TRUE(db.ok());
  ASSERT_EQ(db->blockers.size(), 1u);
  EXPECT_EQ(db->blockers[0].object, "database \"foreign2_svc\"");
  EXPECT_FALSE(server_->superuserQuery("SELECT 1 FROM pg_roles WHERE rolname='foreign2_svc_owner'")->has_value());
  // Deletion leaves the foreign role alone.
  auto removed = engine.remove({"foreign", "svc", "u"}, DeletionPolicy::kDelete);
  ASSERT_TRUE(removed.ok()) << removed.error().toString();
  ASSERT_EQ(removed->blockers.size(), 1u);
  EXPECT_EQ(removed->blockers[0].object, "role \"foreign_svc_app\"");
  EXPECT_TRUE(server_->superuserQuery("SELECT 1 FROM pg_roles WHERE rolname='foreign_svc_app'")->has_value());
}

TEST_F(PostgresEngineIT, RotationAndCrashRecoveryByTrialLogin) {
  PostgresEngine engine(admin());
  ServiceIdentity id{"rot", "svc", "u"};
  ASSERT_TRUE(engine.reconcile(input("rot", "svc", "u", "old-pw")).ok());
  auto before = engine.whichPasswordWorks(id, "app", {"old-pw", "new-pw"});
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(*before, 0u);
  ASSERT_TRUE(engine.rotate(id, {"app", "new-pw"}).ok());
  auto after = engine.whichPasswordWorks(id, "app", {"old-pw", "new-pw"});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, 1u);
  EXPECT_FALSE(login("rot_svc_app", "old-pw", "rot_svc").ok());
  EXPECT_TRUE(login("rot_svc_app", "new-pw", "rot_svc").ok());
  EXPECT_EQ(engine.whichPasswordWorks(id, "app", {"nope"}).error().code, ErrorCode::kNotFound);
  size_t logBefore = server_->loggedStatementCount();
  auto steady = engine.reconcile(input("rot", "svc", "u", "new-pw"));
  ASSERT_TRUE(steady.ok());
  EXPECT_TRUE(steady->empty());
  EXPECT_EQ(server_->loggedStatementCount(), logBefore);
  auto logText = server_->superuserQuery("SELECT pg_read_file('" + server_->logFile() + "')");
  ASSERT_TRUE(logText.ok());
  EXPECT_EQ(logText->value_or("").find("new-pw"), std::string::npos) << "a cleartext password reached the log";
  EXPECT_NE(logText->value_or("").find("SCRAM-SHA-256$"), std::string::npos);
}

TEST_F(PostgresEngineIT, DeleteDropsEverythingEvenWithDependentObjects) {
  PostgresEngine engine(admin());
  ASSERT_TRUE(engine.reconcile(input("del", "svc", "u")).ok());
  auto mig = login("del_svc_migrator", "mig-pw", "del_svc");
  ASSERT_TRUE(mig.ok());
  ASSERT_TRUE(mig->exec("SET ROLE NONE; CREATE TABLE t (id serial); CREATE VIEW v AS SELECT * FROM t", "deps").ok());
  auto app = login("del_svc_app", "app-pw", "del_svc");  // an open session
  ASSERT_TRUE(app.ok());
  ASSERT_TRUE(mig->exec("GRANT SELECT ON t TO del_svc_app", "grant").ok());
  auto st = engine.remove({"del", "svc", "u"}, DeletionPolicy::kDelete);
  ASSERT_TRUE(st.ok()) << st.error().toString();
  EXPECT_TRUE(st->blockers.empty());
  EXPECT_FALSE(server_->superuserQuery("SELECT 1 FROM pg_database WHERE datname='del_svc'")->has_value());
  EXPECT_FALSE(server_->superuserQuery("SELECT 1 FROM pg_roles WHERE rolname LIKE 'del\\_svc\\_%'")->has_value());
}

TEST_F(PostgresEngineIT, RetainThenRecreateAdoptsByMarkerAndOldCredentialsWork) {
  PostgresEngine engine(admin());
  ASSERT_TRUE(engine.reconcile(input("ret", "svc", "uid-1")).ok());
  auto mig = login("ret_svc_migrator", "mig-pw", "ret_svc");
  ASSERT_TRUE(mig.ok());
  ASSERT_TRUE(mig->exec("CREATE TABLE keep (v text); INSERT INTO keep VALUES ('data')", "seed").ok());
  ASSERT_TRUE(engine.remove({"ret", "svc", "uid-1"}, DeletionPolicy::kRetain).ok());
  auto again = engine.reconcile(input("ret", "svc", "uid-2"));
  ASSERT_TRUE(again.ok()) << again.error().toString();
  EXPECT_TRUE(again->blockers.empty());
  EXPECT_EQ(again->actions.size(), 4u) << "only the markers are rewritten";
  auto app = login("ret_svc_app", "app-pw", "ret_svc");
  ASSERT_TRUE(app.ok());
  auto rows = app->query("SELECT v FROM keep", {}, "read");
  ASSERT_TRUE(rows.ok()) << rows.error().toString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0][0].value_or(""), "data");
  expectConverged(admin(), input("ret", "svc", "uid-2"));
}

TEST_F(PostgresEngineIT, KillAfterEveryActionThenRerunConverges) {
  const Engine::ReconcileInput probe = input("crash", "probe", "u");
  Desired full = desiredFor(probe, admin().user, Mode::kShared);
  const size_t steps = plan(full, Observed{}).actions.size();
  ASSERT_GE(steps, 10u);
  for (size_t k = 0; k <= steps; ++k) {
    auto in = input("crash", "k" + std::to_string(k), "u");
    Desired d = desiredFor(in, admin().user, Mode::kShared);
    auto o = observe(admin(), d);
    ASSERT_TRUE(o.ok());
    ExecuteReport partial = execute(admin(), plan(d, *o), k);  // "crash" after k actions
    ASSERT_FALSE(partial.failure) << partial.failure->toString();
    ASSERT_EQ(partial.applied, std::min(k, steps));
    PostgresEngine engine(admin());
    auto rerun = engine.reconcile(in);
    ASSERT_TRUE(rerun.ok()) << "k=" << k << ": " << rerun.error().toString();
    EXPECT_TRUE(rerun->blockers.empty()) << "k=" << k << ": " << rerun->blockers.front().message;
    expectConverged(admin(), in);
    std::string like = "crash\\_k" + std::to_string(k) + "\\_%";
    auto count = server_->superuserQuery("SELECT count(*) FROM pg_roles WHERE rolname LIKE '" + like + "'");
    EXPECT_EQ(count->value_or(""), "3") << "k=" << k;
    EXPECT_TRUE(login(d.app.name, "app-pw", d.database).ok()) << "k=" << k;
    EXPECT_TRUE(login(d.migration.name, "mig-pw", d.database).ok()) << "k=" << k;
  }
}

}  // namespace
}  // namespace sdb::engines::postgres
