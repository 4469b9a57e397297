// The built-in migration runner against a real PostgreSQL 15, as a service's real migration login.
#include <thread>

#include "operator/migrate/summary.h"
#include "tests/integration/migrate/migrate_test_support.h"

namespace sdb::migrate {
namespace {

using V = std::vector<std::string>;

TEST_F(MigrateIT, AppliesThreeMigrationsWithIdentityColumnsAndANewSchema) {
  auto set = files(kThreeMigrations);
  RunReport r = runMigrations(set, options());
  ASSERT_EQ(r.outcome, Outcome::kApplied) << dumpJson(summaryJson(r));
  EXPECT_EQ(versions(r), (V{"1", "2", "3"}));
  EXPECT_EQ(r.schemaVersion, std::optional<std::string>("3"));
  ASSERT_EQ(r.applied.size(), 3u);
  EXPECT_TRUE(r.applied[0].transactional);
  EXPECT_FALSE(r.applied[2].transactional);
  EXPECT_TRUE(r.warnings.empty()) << r.warnings.front();

  EXPECT_EQ(value("SELECT string_agg(version || ' ' || checksum || ' ' || transactional || ' ' || file_name, ',' "
                  "ORDER BY version) FROM servicedb_schema_history"),
            "1 " + set[0].checksum + " true V1__create_orders.sql,2 " + set[1].checksum +
                " true V2__billing_schema.sql,3 " + set[2].checksum + " false V3__indexes.sql");
  EXPECT_EQ(value("SELECT count(*) FROM servicedb_schema_history WHERE applied_by = '" + names_.migrationRole +
                  "' AND duration_ms >= 0 AND applied_at <= now()"),
            "3");
  // Everything belongs to the owner role, so the app's default privileges applied.
  EXPECT_EQ(value("SELECT string_agg(DISTINCT tableowner, ',') FROM pg_tables WHERE tablename IN "
                  "('orders', 'invoices', 'servicedb_schema_history')"),
            names_.ownerRole);
  EXPECT_EQ(value("SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'billing'"), names_.ownerRole);
  EXPECT_EQ(value("SELECT attidentity FROM pg_attribute WHERE attrelid = 'public.orders'::regclass AND attname = 'id'"), "a");
  EXPECT_EQ(value("SELECT attidentity FROM pg_attribute WHERE attrelid = 'billing.invoices'::regclass AND attname = 'id'"), "d");
  EXPECT_EQ(value("SELECT count(*) FROM pg_index WHERE indisvalid AND indexrelid IN "
                  "('billing.invoices_order_id'::regclass, 'public.orders_customer'::regclass)"),
            "2");
}

TEST_F(MigrateIT, ARerunIsANoOp) {
  auto set = files(kThreeMigrations);
  ASSERT_EQ(runMigrations(set, options()).outcome, Outcome::kApplied);
  const std::string history = value("SELECT string_agg(version || applied_at::text, ',') FROM servicedb_schema_history");
  const size_t writes = server_->loggedStatementCount();
  RunReport again = runMigrations(set, options());
  EXPECT_EQ(again.outcome, Outcome::kUpToDate) << dumpJson(summaryJson(again));
  EXPECT_TRUE(again.applied.empty());
  EXPECT_EQ(again.alreadyApplied, 3u);
  EXPECT_EQ(again.schemaVersion, std::optional<std::string>("3"));
  EXPECT_EQ(exitCodeFor(again.outcome), 0);
  EXPECT_EQ(server_->loggedStatementCount(), writes) << "a re-run wrote to the database";
  EXPECT_EQ(value("SELECT string_agg(version || applied_at::text, ',') FROM servicedb_schema_history"), history);
}

TEST_F(MigrateIT, AChangedChecksumIsRefusedAndNothingRuns) {
  ASSERT_EQ(runMigrations(files(kThreeMigrations), options()).outcome, Outcome::kApplied);
  auto changed = kThreeMigrations;
  changed[1].second += "-- a harmless-looking edit\n";
  changed.push_back({"V4__more.sql", "CREATE TABLE more (id int);"});
  auto set = files(changed);
  const size_t writes = server_->loggedStatementCount();
  RunReport r = runMigrations(set, options());
  ASSERT_EQ(r.outcome, Outcome::kRefused) << dumpJson(summaryJson(r));
  EXPECT_EQ(exitCodeFor(r.outcome), 2);
  EXPECT_NE(r.error.find("V2__billing_schema.sql has changed since it was applied: checksum applied " +
                         files(kThreeMigrations)[1].checksum + ", file now " + set[1].checksum),
            std::string::npos)
      << r.error;
  EXPECT_TRUE(r.applied.empty());
  EXPECT_EQ(value("SELECT to_regclass('public.more')"), "") << "V4 ran although the set was refused";
  EXPECT_EQ(server_->loggedStatementCount(), writes);
}

TEST_F(MigrateIT, AFailingFileRollsBackAndIsReported) {
  auto withBad = kThreeMigrations;
  withBad.push_back({"V4__bad.sql",
                     "CREATE TABLE audit (id bigint GENERATED ALWAYS AS IDENTITY, what text);\n"
                     "INSERT INTO audit (what) VALUES ('first');\n"
                     "-- the next statement names a table that does not exist\n"
                     "INSERT INTO audit (what) SELECT customer FROM no_such_table;\n"});
  withBad.push_back({"V5__after.sql", "CREATE TABLE after_bad (id int);"});
  RunReport r = runMigrations(files(withBad), options());
  ASSERT_EQ(r.outcome, Outcome::kFailed) << dumpJson(summaryJson(r));
  EXPECT_EQ(exitCodeFor(r.outcome), 1);
  EXPECT_EQ(versions(r), (V{"1", "2", "3"}));
  EXPECT_EQ(r.schemaVersion, std::optional<std::string>("3"));
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->fileName, "V4__bad.sql");
  EXPECT_EQ(r.failure->version, "4");
  EXPECT_EQ(r.failure->diagnostics.sqlstate, "42P01");
  EXPECT_EQ(r.failure->diagnostics.message, "relation \"no_such_table\" does not exist");
  EXPECT_EQ(r.failure->line, 4);
  EXPECT_EQ(r.failure->column, 47);
  EXPECT_FALSE(r.failure->partialEffects);
  EXPECT_EQ(value("SELECT to_regclass('public.audit')"), "") << "the failed file was not rolled back";
  EXPECT_EQ(value("SELECT to_regclass('public.after_bad')"), "") << "the run went on past a failure";
  EXPECT_EQ(value("SELECT string_agg(version, ',' ORDER BY version) FROM servicedb_schema_history"), "1,2,3");
  Json summary = summaryJson(r);
  EXPECT_EQ(summary["failure"]["file"], "V4__bad.sql");
  EXPECT_EQ(summary["failure"]["sqlstate"], "42P01");

  // The failed file left no history row, so once fixed it applies, followed by the rest.
  withBad[3].second = "CREATE TABLE audit (id bigint GENERATED ALWAYS AS IDENTITY, what text);\n";
  RunReport fixed = runMigrations(files(withBad), options());
  ASSERT_EQ(fixed.outcome, Outcome::kApplied) << dumpJson(summaryJson(fixed));
  EXPECT_EQ(versions(fixed), (V{"4", "5"}));
}

TEST_F(MigrateIT, ConcurrentRunnersApplyEachVersionExactlyOnce) {
  auto set = kThreeMigrations;
  // Holds the lock long enough for the other runner to find it taken; V3's CREATE INDEX
  // CONCURRENTLY then runs while the other runner waits (it must not wait on the waiter).
  set[0].second += "SELECT pg_sleep(0.5);\n";
  auto migrations = files(set);
  std::atomic<int> ready{0};
  RunReport reports[2];
  std::vector<std::thread> runners;
  for (int i = 0; i < 2; ++i) {
    runners.emplace_back([&, i] {
      ++ready;
      while (ready.load() < 2) std::this_thread::yield();
      reports[i] = runMigrations(migrations, options());
    });
  }
  for (auto& t : runners) t.join();
  int appliedAll = 0, appliedNone = 0;
  for (const RunReport& r : reports) {
    EXPECT_EQ(exitCodeFor(r.outcome), 0) << dumpJson(summaryJson(r));
    EXPECT_EQ(r.schemaVersion, std::optional<std::string>("3"));
    if (r.outcome == Outcome::kApplied && versions(r) == V{"1", "2", "3"}) ++appliedAll;
    if (r.outcome == Outcome::kUpToDate && r.applied.empty() && r.alreadyApplied == 3) ++appliedNone;
  }
  EXPECT_EQ(appliedAll, 1) << dumpJson(summaryJson(reports[0])) << "\n" << dumpJson(summaryJson(reports[1]));
  EXPECT_EQ(appliedNone, 1);
  EXPECT_EQ(value("SELECT string_agg(version || ':' || n, ',' ORDER BY version) FROM "
                  "(SELECT version, count(*) AS n FROM servicedb_schema_history GROUP BY version) h"),
            "1:1,2:1,3:1");
  EXPECT_EQ(value("SELECT count(*) FROM pg_index WHERE NOT indisvalid"), "0");
}

TEST_F(MigrateIT, TheAppLoginCanUseTheNewTablesButCannotCreateOrAlter) {
  ASSERT_EQ(runMigrations(files(kThreeMigrations), options()).outcome, Outcome::kApplied);
  auto app = appLogin();
  ASSERT_TRUE(app.ok()) << app.error().toString();
  auto ok = [&](const std::string& sql) {
    auto r = app->run(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << (r.ok() ? "" : r.error().sqlstate + " " + r.error().message);
  };
  auto denied = [&](const std::string& sql) {
    auto r = app->run(sql);
    ASSERT_FALSE(r.ok()) << "the app login could run: " << sql;
    EXPECT_EQ(r.error().sqlstate, "42501") << sql << ": " << r.error().message;
  };
  ok("INSERT INTO orders (customer) VALUES ('ada'), ('bob')");
  ok("INSERT INTO billing.invoices (order_id, amount_cents) SELECT id, 1200 FROM orders WHERE customer = 'ada'");
  ok("UPDATE billing.invoices SET amount_cents = 1300");
  ok("SELECT o.customer, i.amount_cents FROM orders o JOIN billing.invoices i ON i.order_id = o.id");
  ok("DELETE FROM orders WHERE customer = 'bob'");
  ok("SELECT version FROM servicedb_schema_history");
  auto ids = app->query("SELECT string_agg(id::text, ',' ORDER BY id) FROM orders", {}, "identity values");
  ASSERT_TRUE(ids.ok()) << ids.error().toString();
  EXPECT_EQ(ids->front()[0].value_or(""), "1");

  denied("CREATE TABLE evil (id int)");
  denied("CREATE TABLE billing.evil (id int)");
  denied("CREATE SCHEMA evil");
  denied("ALTER TABLE orders ADD COLUMN evil int");
  denied("ALTER TABLE billing.invoices DROP CONSTRAINT invoices_amount_cents_check");
  denied("DROP TABLE billing.invoices");
  denied("CREATE INDEX evil ON orders (created_at)");
  denied("INSERT INTO servicedb_schema_history (version, description, file_name, checksum, transactional, duration_ms) "
         "VALUES ('99', 'x', 'V99__x.sql', 'x', true, 0)");
  denied("DELETE FROM servicedb_schema_history");
}

}  // namespace
}  // namespace sdb::migrate
