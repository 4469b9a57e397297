#include "operator/migrate/plan.h"

#include <gtest/gtest.h>

namespace sdb::migrate {
namespace {

MigrationFile file(const std::string& name, const std::string& sql = "SELECT 1;") {
  return makeMigrationFile(name, sql).value();
}

std::vector<MigrationFile> threeFiles() {
  return orderMigrations({file("V1__init.sql"), file("V2__schema.sql", "CREATE SCHEMA b;"), file("V3__idx.sql", "SELECT 3;")})
      .value();
}

AppliedRow row(const MigrationFile& f) { return {f.version.text(), f.description, f.fileName, f.checksum}; }

std::vector<std::string> pendingNames(const MigrationPlan& p) {
  std::vector<std::string> out;
  for (const auto& f : p.pending) out.push_back(f.fileName);
  return out;
}

using V = std::vector<std::string>;

TEST(PlanMigrations, FreshDatabaseAppliesEverythingInOrder) {
  auto p = planMigrations(threeFiles(), {});
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(pendingNames(*p), (V{"V1__init.sql", "V2__schema.sql", "V3__idx.sql"}));
  EXPECT_EQ(p->alreadyApplied, 0u);
  EXPECT_FALSE(p->highestApplied);
}

TEST(PlanMigrations, AppliedWithTheSameChecksumAreSkipped) {
  auto files = threeFiles();
  auto p = planMigrations(files, {row(files[0]), row(files[1])});
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(pendingNames(*p), V{"V3__idx.sql"});
  EXPECT_EQ(p->alreadyApplied, 2u);
  EXPECT_EQ(p->highestApplied->text(), "2");
  auto all = planMigrations(files, {row(files[2]), row(files[0]), row(files[1])});
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->pending.empty());
  EXPECT_EQ(all->highestApplied->text(), "3");
}

TEST(PlanMigrations, HistoryVersionsCompareNumerically) {
  auto files = threeFiles();
  AppliedRow r = row(files[0]);
  r.version = "1.0";  // written by hand, or by another tool
  auto p = planMigrations(files, {r});
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->alreadyApplied, 1u);
}

TEST(PlanMigrations, AChangedChecksumIsRefusedNamingTheFileAndBothChecksums) {
  auto files = threeFiles();
  AppliedRow old = row(files[1]);
  old.checksum = std::string(64, 'a');
  auto p = planMigrations(files, {row(files[0]), old});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, ErrorCode::kFailedPrecondition);
  const std::string& m = p.error().message;
  EXPECT_NE(m.find("V2__schema.sql has changed since it was applied"), std::string::npos) << m;
  EXPECT_NE(m.find("applied " + std::string(64, 'a')), std::string::npos) << m;
  EXPECT_NE(m.find("file now " + files[1].checksum), std::string::npos) << m;
}

TEST(PlanMigrations, AVersionOnlyInTheHistoryIsRefusedUnlessAllowed) {
  auto files = threeFiles();
  AppliedRow gone{"0.5", "dropped", "V0_5__dropped.sql", std::string(64, 'b')};
  auto refused = planMigrations(files, {gone});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("version 0.5 (V0_5__dropped.sql) is in the history but no file has it"),
            std::string::npos)
      << refused.error().message;
  auto allowed = planMigrations(files, {gone}, PlanOptions{.allowMissing = true});
  ASSERT_TRUE(allowed.ok()) << allowed.error().message;
  ASSERT_EQ(allowed->warnings.size(), 1u);
  EXPECT_EQ(pendingNames(*allowed), (V{"V1__init.sql", "V2__schema.sql", "V3__idx.sql"}));
}

TEST(PlanMigrations, OutOfOrderPendingVersionsAreRefused) {
  auto files = threeFiles();
  auto p = planMigrations(files, {row(files[0]), row(files[2])});
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("V2__schema.sql is not applied but a later version, 3, is"), std::string::npos)
      << p.error().message;
}

TEST(PlanMigrations, EveryProblemIsListedAtOnce) {
  auto files = threeFiles();
  AppliedRow changed = row(files[0]);
  changed.checksum = "0";
  AppliedRow bad{"x.y", "", "Vx.sql", ""};
  AppliedRow later{"9", "nine", "V9__nine.sql", "c"};
  auto p = planMigrations(files, {changed, bad, later});
  ASSERT_FALSE(p.ok());
  const std::string& m = p.error().message;
  EXPECT_NE(m.find("V1__init.sql has changed"), std::string::npos) << m;
  EXPECT_NE(m.find("version \"x.y\" does not parse"), std::string::npos) << m;
  EXPECT_NE(m.find("version 9 (V9__nine.sql) is in the history but no file has it"), std::string::npos) << m;
  EXPECT_NE(m.find("V2__schema.sql is not applied but a later version, 9, is"), std::string::npos) << m;
}

TEST(PlanMigrations, NoFilesAndNoHistoryIsNothingToDo) {
  auto p = planMigrations({}, {});
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->pending.empty());
}

}  // namespace
}  // namespace sdb::migrate
