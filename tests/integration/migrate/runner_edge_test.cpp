// The runner's edges against a real PostgreSQL 15: non-transactional failures, the lock, dry runs,
// sessions, and what reaches the report.
#include "operator/migrate/history.h"
#include "operator/migrate/summary.h"
#include "tests/integration/migrate/migrate_test_support.h"

namespace sdb::migrate {
namespace {

using V = std::vector<std::string>;

TEST_F(MigrateIT, ANonTransactionalFileFailingMidwayReportsTheStatementAndItsEffects) {
  std::vector<std::pair<std::string, std::string>> set = {
      {"V1__t.sql", "CREATE TABLE t (id int, v text);"},
      {"V2__idx.sql",
       "-- servicedb:transaction=false\n"
       "CREATE INDEX CONCURRENTLY t_id ON t (id);\n"
       "CREATE INDEX CONCURRENTLY t_w\n  ON t ((w || 'x'));\n"}};
  RunReport r = runMigrations(files(set), options());
  ASSERT_EQ(r.outcome, Outcome::kFailed) << dumpJson(summaryJson(r));
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->fileName, "V2__idx.sql");
  EXPECT_EQ(r.failure->statement, 2);
  EXPECT_TRUE(r.failure->partialEffects);
  EXPECT_EQ(r.failure->diagnostics.sqlstate, "42703");  // undefined_column
  EXPECT_EQ(r.failure->line, 4) << "the server's position, mapped from the statement into the file";
  EXPECT_EQ(r.failure->column, 10);
  EXPECT_EQ(value("SELECT to_regclass('public.t_id') IS NOT NULL"), "t") << "statement 1 took effect";
  EXPECT_EQ(value("SELECT string_agg(version, ',') FROM servicedb_schema_history"), "1");
  // Written to be re-runnable, the fixed file then applies from its first statement.
  set[1].second =
      "-- servicedb:transaction=false\n"
      "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_id ON t (id);\n"
      "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_v ON t (v);\n";
  RunReport fixed = runMigrations(files(set), options());
  ASSERT_EQ(fixed.outcome, Outcome::kApplied) << dumpJson(summaryJson(fixed));
  EXPECT_EQ(versions(fixed), V{"2"});
}

TEST_F(MigrateIT, ConcurrentIndexInATransactionalFileFailsWithAHintAboutTheDirective) {
  RunReport r = runMigrations(files({{"V1__t.sql", "CREATE TABLE t (id int);\nCREATE INDEX CONCURRENTLY t_id ON t (id);"}}),
                              options());
  ASSERT_EQ(r.outcome, Outcome::kFailed) << dumpJson(summaryJson(r));
  EXPECT_EQ(r.failure->diagnostics.sqlstate, "25001");
  EXPECT_NE(r.failure->diagnostics.hint.find("-- servicedb:transaction=false"), std::string::npos);
  EXPECT_EQ(value("SELECT to_regclass('public.t')"), "");
}

TEST_F(MigrateIT, AFileThatCommitsItselfIsAFailure) {
  RunReport r = runMigrations(files({{"V1__commits.sql", "CREATE TABLE c (id int);\nCOMMIT;\nCREATE TABLE d (id int);"}}),
                              options());
  ASSERT_EQ(r.outcome, Outcome::kFailed) << dumpJson(summaryJson(r));
  EXPECT_TRUE(r.failure->partialEffects);
  EXPECT_NE(r.failure->diagnostics.message.find("ended the transaction itself"), std::string::npos);
  EXPECT_EQ(value("SELECT count(*) FROM servicedb_schema_history"), "0");
}

TEST_F(MigrateIT, ARunnerWaitsForTheLockAndGivesUpAfterItsTimeoutNamingTheHolder) {
  auto holder = PgConnection::openConninfo(migratorConninfo(), "lock-holder");
  ASSERT_TRUE(holder.ok()) << holder.error().toString();
  auto pid = holder->query("SELECT pg_backend_pid()::text, pg_advisory_lock($1::bigint)::text",
                           {std::to_string(migrationLockKey())}, "lock");
  ASSERT_TRUE(pid.ok()) << pid.error().toString();
  RunnerOptions o = options();
  o.lock.waitTimeout = std::chrono::milliseconds(300);
  RunReport r = runMigrations(files(kThreeMigrations), o);
  ASSERT_EQ(r.outcome, Outcome::kFailed) << dumpJson(summaryJson(r));
  EXPECT_EQ(exitCodeFor(r.outcome), 1);
  EXPECT_NE(r.error.find("waiting for the migration lock, held by the session with pid " + *pid->front()[0]),
            std::string::npos)
      << r.error;
  EXPECT_EQ(value("SELECT to_regclass('public.orders')"), "");
  // Once the holder lets go, the next run proceeds.
  ASSERT_TRUE(holder->run("SELECT pg_advisory_unlock_all()").ok());
  EXPECT_EQ(runMigrations(files(kThreeMigrations), o).outcome, Outcome::kApplied);
}

TEST_F(MigrateIT, ADryRunListsWhatWouldRunAndWritesNothing) {
  const size_t writes = server_->loggedStatementCount();
  RunnerOptions o = options();
  o.dryRun = true;
  RunReport r = runMigrations(files(kThreeMigrations), o);
  ASSERT_EQ(r.outcome, Outcome::kDryRun) << dumpJson(summaryJson(r));
  EXPECT_EQ(r.pending, (V{"V1__create_orders.sql", "V2__billing_schema.sql", "V3__indexes.sql"}));
  EXPECT_EQ(server_->loggedStatementCount(), writes);
  EXPECT_EQ(value("SELECT to_regclass('public.servicedb_schema_history')"), "");
}

TEST_F(MigrateIT, WithoutOwnerRoleTheLoginsDefaultRoleOwnsTheObjects) {
  RunnerOptions o = options();
  o.ownerRole.clear();
  RunReport r = runMigrations(files(kThreeMigrations), o);
  ASSERT_EQ(r.outcome, Outcome::kApplied) << dumpJson(summaryJson(r));
  EXPECT_TRUE(r.warnings.empty()) << r.warnings.front();
  EXPECT_EQ(value("SELECT string_agg(DISTINCT tableowner, ',') FROM pg_tables WHERE tablename IN ('orders', 'invoices')"),
            names_.ownerRole)
      << "the engine gives the migration login `role = owner`";
}

TEST_F(MigrateIT, EveryFileStartsFromTheSameSessionState) {
  // V1 leaves a changed search_path and role behind; V2 must not inherit them.
  RunReport r = runMigrations(files({{"V1__wander.sql", "CREATE SCHEMA side; SET search_path = side; RESET ROLE;"},
                                     {"V2__here.sql", "CREATE TABLE here (id int);"}}),
                              options());
  ASSERT_EQ(r.outcome, Outcome::kApplied) << dumpJson(summaryJson(r));
  EXPECT_EQ(value("SELECT schemaname || ' ' || tableowner FROM pg_tables WHERE tablename = 'here'"),
            "public " + names_.ownerRole);
}

TEST_F(MigrateIT, FailuresToConnectNameTheServerButNeverThePassword) {
  RunnerOptions o = options();
  o.conninfo = conninfo(names_.migrationRole, "Wrong-Secret-42");
  RunReport r = runMigrations(files(kThreeMigrations), o);
  ASSERT_EQ(r.outcome, Outcome::kFailed);
  EXPECT_NE(r.error.find(names_.migrationRole + "@127.0.0.1:"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("password authentication failed"), std::string::npos) << r.error;
  EXPECT_EQ(dumpJson(summaryJson(r)).find("Wrong-Secret-42"), std::string::npos);
  o.conninfo = "postgresql://user:Wrong%zzSecret@127.0.0.1/db";
  RunReport malformed = runMigrations({}, o);
  ASSERT_EQ(malformed.outcome, Outcome::kFailed);
  EXPECT_EQ(dumpJson(summaryJson(malformed)).find("Secret"), std::string::npos) << malformed.error;
}

TEST_F(MigrateIT, ARoleTheLoginCannotSetIsAFailureBeforeAnythingRuns) {
  RunnerOptions o = options();
  o.ownerRole = server_->adminRole();
  RunReport r = runMigrations(files(kThreeMigrations), o);
  ASSERT_EQ(r.outcome, Outcome::kFailed);
  EXPECT_NE(r.error.find("cannot SET ROLE " + server_->adminRole()), std::string::npos) << r.error;
  EXPECT_EQ(value("SELECT to_regclass('public.servicedb_schema_history')"), "");
}

}  // namespace
}  // namespace sdb::migrate
