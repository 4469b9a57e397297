// The ServiceDatabase controller end to end on a real PostgreSQL: isolation between services and
// namespaces, least privilege, markers, rotation, Delete with dependent objects, Retain → delete →
// recreate, steady state with zero writes (store resourceVersion and log_statement=mod), and an
// unreachable server. Applications are real psql processes using the Secret's uri and ca.crt.
#include "operator/runtime/controller.h"
#include "operator/runtime/object_helpers.h"
#include "tests/integration/servicedatabase/controller_it_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace std::chrono_literals;
using namespace sdb;
using namespace sdb::controllers::servicedatabase;
using namespace sdb::controllers::servicedatabase::testing;

namespace {

std::string replaceDatabase(const std::string& uri, const std::string& from, const std::string& to) {
  std::string out = uri;
  auto at = out.find("/" + from + "?");
  if (at != std::string::npos) out.replace(at + 1, from.size(), to);
  return out;
}

TEST_F(ControllerIT, TwoServicesAreRefusedByEachOthersDatabase) {
  addNamespace("refuse");
  create("refuse", "orders");
  create("refuse", "payments");
  ASSERT_TRUE(reconcileToReady("refuse", "orders"));
  ASSERT_TRUE(reconcileToReady("refuse", "payments"));
  auto orders = secret("refuse", "orders-credentials");
  auto payments = secret("refuse", "payments-credentials");
  auto own = psql(orders, "SELECT current_user || '@' || current_database()");
  ASSERT_TRUE(own.ok()) << own.output;
  EXPECT_EQ(own.output, "refuse_orders_app@refuse_orders");
  auto cross = psql(orders, "SELECT 1", replaceDatabase(orders["uri"], "refuse_orders", "refuse_payments"));
  EXPECT_FALSE(cross.ok());
  EXPECT_NE(cross.output.find("permission denied for database \"refuse_payments\""), std::string::npos) << cross.output;
  auto back = psql(payments, "SELECT 1", replaceDatabase(payments["uri"], "refuse_payments", "refuse_orders"));
  EXPECT_FALSE(back.ok());
  EXPECT_NE(back.output.find("permission denied for database"), std::string::npos) << back.output;
}

TEST_F(ControllerIT, AppIsDmlOnlyWhileTheMigrationLoginCanCreate) {
  addNamespace("dml");
  create("dml", "orders");
  ASSERT_TRUE(reconcileToReady("dml", "orders"));
  auto mig = secret("dml", "orders-migration-credentials");
  auto app = secret("dml", "orders-credentials");
  auto created = psql(mig, "CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text)");
  ASSERT_TRUE(created.ok()) << created.output;
  auto dml = psql(app, "INSERT INTO items (v) VALUES ('a'); UPDATE items SET v = 'b'; SELECT v FROM items");
  ASSERT_TRUE(dml.ok()) << dml.output;
  EXPECT_EQ(dml.output, "b");
  auto ddl = psql(app, "CREATE TABLE evil (id int)");
  EXPECT_FALSE(ddl.ok());
  EXPECT_NE(ddl.output.find("permission denied for schema public"), std::string::npos) << ddl.output;
  auto alter = psql(app, "ALTER TABLE items ADD COLUMN x int");
  EXPECT_FALSE(alter.ok());
  EXPECT_NE(alter.output.find("must be owner"), std::string::npos) << alter.output;
}

TEST_F(ControllerIT, SameNameInTwoNamespacesLivesSideBySide) {
  addNamespace("a");
  addNamespace("b");
  create("a", "orders");
  create("b", "orders");
  ASSERT_TRUE(reconcileToReady("a", "orders"));
  ASSERT_TRUE(reconcileToReady("b", "orders"));
  auto a = secret("a", "orders-credentials"), b = secret("b", "orders-credentials");
  EXPECT_EQ(a["database"], "a_orders");
  EXPECT_EQ(b["database"], "b_orders");
  EXPECT_NE(a["password"], b["password"]);
  ASSERT_TRUE(psql(secret("a", "orders-migration-credentials"), "CREATE TABLE t (v text)").ok());
  ASSERT_TRUE(psql(secret("b", "orders-migration-credentials"), "CREATE TABLE t (v text)").ok());
  ASSERT_TRUE(psql(a, "INSERT INTO t VALUES ('from a')").ok());
  ASSERT_TRUE(psql(b, "INSERT INTO t VALUES ('from b')").ok());
  EXPECT_EQ(psql(a, "SELECT string_agg(v, ',') FROM t").output, "from a");
  EXPECT_EQ(psql(b, "SELECT string_agg(v, ',') FROM t").output, "from b");
  EXPECT_FALSE(psql(a, "SELECT 1", replaceDatabase(a["uri"], "a_orders", "b_orders")).ok());
}

TEST_F(ControllerIT, ObjectsWithoutOurMarkerAreNeverAdopted) {
  addNamespace("mark");
  ASSERT_TRUE(server_->superuserExec("CREATE ROLE mark_orders_app LOGIN PASSWORD 'theirs-0123456789'").ok());
  create("mark", "orders");
  auto r = reconcile("mark", "orders");
  EXPECT_EQ(r.kind, runtime::ReconcileResult::Kind::kRetry);
  auto stalled = condition("mark", "orders", "Stalled");
  ASSERT_TRUE(stalled);
  EXPECT_EQ(stalled->status, "True");
  EXPECT_EQ(stalled->reason, "ForeignObject");
  EXPECT_NE(stalled->message.find("mark_orders_app"), std::string::npos) << stalled->message;
  EXPECT_EQ(condition("mark", "orders", "Ready")->status, "False");
  // Untouched: no comment, same password, no database, no other role.
  EXPECT_EQ(server_->superuserQuery("SELECT shobj_description(oid, 'pg_authid') IS NULL FROM pg_roles "
                                    "WHERE rolname = 'mark_orders_app'")->value_or(""),
            "t");
  EXPECT_EQ(server_->superuserQuery("SELECT count(*) FROM pg_database WHERE datname = 'mark_orders'")->value_or(""), "0");
  EXPECT_EQ(server_->superuserQuery("SELECT count(*) FROM pg_roles WHERE rolname LIKE 'mark\\_orders\\_%'")->value_or(""),
            "1");
  auto theirs = psql(secret("mark", "orders-credentials"), "SELECT current_user",
                     "postgresql://mark_orders_app:theirs-0123456789@127.0.0.1:" + std::to_string(server_->port()) +
                         "/postgres?sslmode=verify-full");
  EXPECT_TRUE(theirs.ok()) << theirs.output;
}

TEST_F(ControllerIT, RotationByAnnotationChangesThePasswordOnTheServer) {
  addNamespace("rot");
  create("rot", "orders");
  ASSERT_TRUE(reconcileToReady("rot", "orders"));
  auto before = secret("rot", "orders-credentials");
  auto migBefore = secret("rot", "orders-migration-credentials");
  ASSERT_TRUE(psql(before, "SELECT 1").ok());
  auto p = inproc_->patch(res::kServiceDatabases, "rot", "orders", kube::PatchType::kMerge,
                          R"({"metadata":{"annotations":{"servicedb.io/rotate-credentials":"now"}}})");
  ASSERT_TRUE(p.ok());
  const size_t logged = server_->loggedStatementCount();
  ASSERT_TRUE(reconcileToReady("rot", "orders"));
  auto after = secret("rot", "orders-credentials");
  auto migAfter = secret("rot", "orders-migration-credentials");
  EXPECT_NE(after["password"], before["password"]);
  EXPECT_EQ(after.count("pending-password"), 0u);
  auto ok = psql(after, "SELECT current_user");
  EXPECT_TRUE(ok.ok()) << ok.output;
  auto old = psql(before, "SELECT 1");
  EXPECT_FALSE(old.ok());
  EXPECT_NE(old.output.find("password authentication failed"), std::string::npos) << old.output;
  EXPECT_TRUE(psql(migAfter, "SELECT 1").ok());
  EXPECT_FALSE(psql(migBefore, "SELECT 1").ok());
  EXPECT_EQ(server_->loggedStatementCount(), logged + 2) << "exactly one ALTER ROLE per login";
  EXPECT_EQ(slurp(server_->logFile()).find(after["password"]), std::string::npos) << "a password reached the server log";
  auto rotatedAt = inproc_->get(res::kServiceDatabases, "rot", "orders");
  EXPECT_TRUE((*rotatedAt)["status"].contains("credentialsRotatedAt"));
}

TEST_F(ControllerIT, DeleteDropsEverythingEvenWithDependentObjectsAndOpenSessions) {
  addNamespace("del");
  create("del", "orders", "Delete");
  ASSERT_TRUE(reconcileToReady("del", "orders"));
  auto mig = secret("del", "orders-migration-credentials");
  ASSERT_TRUE(psql(mig, "CREATE TABLE items (id serial PRIMARY KEY, v text); CREATE VIEW v AS SELECT * FROM items; "
                        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'")
                  .ok());
  ASSERT_TRUE(psql(secret("del", "orders-credentials"), "INSERT INTO items (v) VALUES ('x')").ok());
  // An application session stays open during the deletion.
  auto creds = secret("del", "orders-credentials");
  std::string ca = tmpDir_ + "/open-ca.crt";
  std::ofstream(ca) << creds["ca.crt"];
  std::string cmd = "PGSSLROOTCERT=" + shellQuote(ca) + " psql " + shellQuote(creds["uri"]) +
                    " -X -q -c 'SELECT pg_sleep(60)' >/dev/null 2>&1 & echo $!";
  FILE* bg = ::popen(cmd.c_str(), "r");
  char pidText[32] = {0};
  ASSERT_TRUE(std::fgets(pidText, sizeof pidText, bg));
  ::pclose(bg);
  const pid_t sleeper = static_cast<pid_t>(std::atoi(pidText));
  ASSERT_TRUE(runtime::testing::eventually(
      [&] {
        return server_->superuserQuery("SELECT count(*) FROM pg_stat_activity WHERE usename = 'del_orders_app'")
                   ->value_or("0") != "0";
      },
      10s));

  ASSERT_TRUE(inproc_->remove(res::kServiceDatabases, "del", "orders").ok());
  auto r = reconcile("del", "orders");
  EXPECT_EQ(r.kind, runtime::ReconcileResult::Kind::kOk) << r.error;
  ::kill(sleeper, SIGKILL);
  EXPECT_FALSE(inproc_->get(res::kServiceDatabases, "del", "orders").ok()) << "finalizer removed, object gone";
  EXPECT_EQ(server_->superuserQuery("SELECT count(*) FROM pg_database WHERE datname = 'del_orders'")->value_or(""), "0");
  EXPECT_EQ(server_->superuserQuery("SELECT count(*) FROM pg_roles WHERE rolname LIKE 'del\\_orders\\_%' OR "
                                    "rolname = 'del_orders_owner'")
                ->value_or(""),
            "0");
  EXPECT_FALSE(inproc_->get(res::kSecrets, "del", "orders-credentials").ok());
  EXPECT_FALSE(inproc_->get(res::kSecrets, "del", "orders-migration-credentials").ok());
}

TEST_F(ControllerIT, RetainDeleteRecreateKeepsLoginAndData) {
  addNamespace("keep");
  create("keep", "orders");
  ASSERT_TRUE(reconcileToReady("keep", "orders"));
  auto app = secret("keep", "orders-credentials");
  ASSERT_TRUE(psql(secret("keep", "orders-migration-credentials"), "CREATE TABLE t (v text)").ok());
  ASSERT_TRUE(psql(app, "INSERT INTO t VALUES ('kept')").ok());

  ASSERT_TRUE(inproc_->remove(res::kServiceDatabases, "keep", "orders").ok());
  ASSERT_EQ(reconcile("keep", "orders").kind, runtime::ReconcileResult::Kind::kOk);
  EXPECT_FALSE(inproc_->get(res::kServiceDatabases, "keep", "orders").ok());
  auto kept = inproc_->get(res::kSecrets, "keep", "orders-credentials");
  ASSERT_TRUE(kept.ok()) << "Retain keeps the credentials Secret";
  EXPECT_FALSE(runtime::controllerOf(*kept)) << "and removes its owner reference";
  EXPECT_EQ(psql(app, "SELECT v FROM t").output, "kept") << "the login still works while no object exists";

  create("keep", "orders");
  ASSERT_TRUE(reconcileToReady("keep", "orders"));
  auto again = secret("keep", "orders-credentials");
  EXPECT_EQ(again["password"], app["password"]);
  EXPECT_EQ(psql(again, "SELECT v FROM t").output, "kept");
  auto marker = server_->superuserQuery(
      "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = 'keep_orders'");
  auto uid = jsonString(*inproc_->get(res::kServiceDatabases, "keep", "orders"), {"metadata", "uid"});
  EXPECT_NE(marker->value_or("").find(uid), std::string::npos) << "re-marked with the new uid";
}

TEST_F(ControllerIT, SteadyStateWritesNothingToTheApiOrToPostgres) {
  addNamespace("steady");
  create("steady", "orders");
  create("steady", "payments");
  ASSERT_TRUE(reconcileToReady("steady", "orders"));
  ASSERT_TRUE(reconcileToReady("steady", "payments"));
  const int64_t rv = store_->resourceVersion();
  const size_t logged = server_->loggedStatementCount();
  const uint64_t runs = reconciler_->engineRuns();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(reconcile("steady", "orders").kind, runtime::ReconcileResult::Kind::kOk);
    EXPECT_EQ(reconcile("steady", "payments").kind, runtime::ReconcileResult::Kind::kOk);
  }
  makeReconciler();  // and after a restart
  EXPECT_EQ(reconcile("steady", "orders").kind, runtime::ReconcileResult::Kind::kOk);
  EXPECT_EQ(reconciler_->engineRuns(), 1u);
  EXPECT_GE(runs, 2u);
  EXPECT_EQ(store_->resourceVersion(), rv) << "API writes in steady state";
  EXPECT_EQ(server_->loggedStatementCount(), logged) << "SQL writes (log_statement=mod) in steady state";
}

// A namespace with a dash and a name long enough that the derived names are cut and hashed: the
// database is the 54-byte hashed form (63 minus the longest role suffix, "_migrator"), and the
// migration login's name is exactly 63 bytes, PostgreSQL's limit.
TEST_F(ControllerIT, LongNameInADashedNamespaceGetsHashedNamesAndWorks) {
  const std::string ns = "team-x";
  const std::string name = "invoice-ledger-reconciliation-worker-for-the-team-x-platform";
  ASSERT_LE(name.size(), 63u);
  addNamespace(ns);
  create(ns, name);
  ASSERT_TRUE(reconcileToReady(ns, name));
  auto app = secret(ns, name + "-credentials");
  auto mig = secret(ns, name + "-migration-credentials");
  const std::string db = app["database"];
  EXPECT_EQ(db.size(), 54u) << db;
  EXPECT_EQ(db.rfind("team-x_invoice-", 0), 0u) << db;
  EXPECT_NE(db.find("__"), std::string::npos) << "no hash suffix: " << db;
  EXPECT_EQ(mig["database"], db);
  EXPECT_EQ(mig["username"], db + "_migrator");
  EXPECT_EQ(mig["username"].size(), 63u);
  EXPECT_EQ(app["username"], db + "_app");
  // The server holds exactly these names, not ones it truncated itself.
  EXPECT_EQ(server_->superuserQuery("SELECT count(*) FROM pg_database WHERE datname = '" + db + "'")->value_or(""), "1");
  EXPECT_EQ(server_->superuserQuery("SELECT count(*) FROM pg_roles WHERE rolname IN ('" + db + "_owner', '" + db +
                                    "_migrator', '" + db + "_app')")
                ->value_or(""),
            "3");

  auto created = psql(mig, "CREATE TABLE t (v text)");
  ASSERT_TRUE(created.ok()) << created.output;
  auto inserted = psql(app, "INSERT INTO t VALUES ('long'); SELECT current_user || '@' || current_database() || ':' || v FROM t");
  ASSERT_TRUE(inserted.ok()) << inserted.output;
  EXPECT_EQ(inserted.output, app["username"] + "@" + db + ":long");
  EXPECT_FALSE(psql(app, "CREATE TABLE evil (id int)").ok());

  const size_t logged = server_->loggedStatementCount();
  EXPECT_EQ(reconcile(ns, name).kind, runtime::ReconcileResult::Kind::kOk);
  EXPECT_EQ(server_->loggedStatementCount(), logged) << "the hashed names must be found again, not recreated";
}

int closedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

TEST_F(ControllerIT, UnreachableServerIsAConditionAndRetriesBackOffExponentially) {
  addNamespace("down", closedPort());
  create("down", "orders");
  // The controller's own workqueue and rate limiter, for two seconds.
  runtime::ControllerOptions co;
  co.name = "servicedatabase";
  co.workers = 1;
  runtime::Controller controller(std::move(co), *reconciler_);
  controller.start();
  controller.enqueue({"down", "orders"});
  std::this_thread::sleep_for(2s);
  controller.stop(5s);
  events_->flush();
  auto ready = condition("down", "orders", "Ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, "False");
  EXPECT_EQ(ready->reason, "ServerUnreachable");
  EXPECT_NE(ready->message.find("127.0.0.1"), std::string::npos) << ready->message;
  EXPECT_EQ(condition("down", "orders", "Reconciling")->status, "True");
  // 5 ms doubling: about 9 attempts fit in 2 s; a busy loop would make thousands.
  EXPECT_GE(controller.reconciles(), 3u);
  EXPECT_LE(controller.reconciles(), 13u);
  auto evs = inproc_->list(res::kEvents, "down");
  size_t warnings = 0;
  for (const auto& e : (*evs)["items"]) warnings += e.value("reason", "") == "ServerUnreachable";
  EXPECT_EQ(warnings, 1u) << "one Warning, aggregated, not one per retry";
}

}  // namespace
