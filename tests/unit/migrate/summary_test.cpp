#include "operator/migrate/summary.h"

#include <gtest/gtest.h>

namespace sdb::migrate {
namespace {

TEST(Summary, ExitCodesByOutcome) {
  EXPECT_EQ(exitCodeFor(Outcome::kUpToDate), 0);
  EXPECT_EQ(exitCodeFor(Outcome::kApplied), 0);
  EXPECT_EQ(exitCodeFor(Outcome::kDryRun), 0);
  EXPECT_EQ(exitCodeFor(Outcome::kFailed), 1);
  EXPECT_EQ(exitCodeFor(Outcome::kRefused), 2);
}

TEST(Summary, AppliedRunIsOneLineWithTheSchemaVersion) {
  RunReport r;
  r.outcome = Outcome::kApplied;
  r.alreadyApplied = 1;
  r.applied = {{"2", "add orders", "V2__add_orders.sql", true, 12}, {"3", "idx", "V3__idx.sql", false, 40}};
  r.schemaVersion = "3";
  const std::string line = dumpJson(summaryJson(r));
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line,
            R"({"alreadyApplied":1,"applied":[{"description":"add orders","durationMs":12,"file":"V2__add_orders.sql",)"
            R"("transactional":true,"version":"2"},{"description":"idx","durationMs":40,"file":"V3__idx.sql",)"
            R"("transactional":false,"version":"3"}],"result":"applied","schemaVersion":"3",)"
            R"("type":"servicedb.io/migration-summary"})");
}

TEST(Summary, AFailureCarriesTheFileSqlstateAndPosition) {
  RunReport r;
  r.outcome = Outcome::kFailed;
  MigrationFailure f;
  f.fileName = "V4__bad.sql";
  f.version = "4";
  f.diagnostics.sqlstate = "42P01";
  f.diagnostics.message = "relation \"nope\" does not exist";
  f.line = 3;
  f.column = 15;
  r.failure = f;
  Json j = summaryJson(r);
  EXPECT_EQ(j["result"], "failed");
  EXPECT_TRUE(j["schemaVersion"].is_null());
  EXPECT_EQ(j["failure"]["file"], "V4__bad.sql");
  EXPECT_EQ(j["failure"]["sqlstate"], "42P01");
  EXPECT_EQ(j["failure"]["line"], 3);
  EXPECT_EQ(j["failure"]["column"], 15);
  EXPECT_EQ(j["failure"]["partialEffects"], false);
  EXPECT_FALSE(j.contains("error"));
  EXPECT_FALSE(j["failure"].contains("statement"));
}

TEST(Summary, RefusalAndDryRun) {
  Json refused = summaryJson(refusedBeforeRunning("\"V1_x.sql\": bad name", {"ignoring README.md: not a .sql file"}));
  EXPECT_EQ(refused["result"], "refused");
  EXPECT_EQ(refused["error"], "\"V1_x.sql\": bad name");
  EXPECT_EQ(refused["warnings"].size(), 1u);
  RunReport dry;
  dry.outcome = Outcome::kDryRun;
  dry.pending = {"V1__init.sql"};
  Json d = summaryJson(dry);
  EXPECT_EQ(d["result"], "dryRun");
  EXPECT_EQ(d["pending"], Json::array({"V1__init.sql"}));
}

}  // namespace
}  // namespace sdb::migrate
