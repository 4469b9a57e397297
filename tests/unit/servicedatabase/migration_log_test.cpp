// What a failed migration pod's log puts into status: the runner's summary as a sentence, the
// tail within its budget, secrets and URI passwords redacted (also at the cut), valid UTF-8.
#include "controllers/servicedatabase/migration_log.h"

#include <gtest/gtest.h>

#include "operator/core/json.h"
#include "operator/migrate/summary.h"

using namespace sdb;
using namespace sdb::controllers::servicedatabase;

namespace {

TEST(MigrationLog, SummaryTypeIsTheRunners) { EXPECT_STREQ(kMigrationSummaryType, migrate::kSummaryType); }

TEST(MigrationLog, RedactsKnownSecretsAndUriPasswords) {
  const std::string pw = "Zq8vT3nW1pL0sK9x";
  std::string text = "pw=" + pw + " twice " + pw + "\n" +
                     "DATABASE_URL=postgresql://shop_orders_migrator:s3cr%40t@db.shop.svc:5432/shop_orders?sslmode=verify-full\n"
                     "redis://:only-a-password@cache:6379/0 and https://example.com/path@x and mailto:a@b\n";
  std::string out = redactSecrets(text, {pw, "abc"});
  EXPECT_EQ(out.find(pw), std::string::npos);
  EXPECT_EQ(out.find("s3cr%40t"), std::string::npos);
  EXPECT_EQ(out.find("only-a-password"), std::string::npos);
  EXPECT_NE(out.find("pw=<redacted> twice <redacted>"), std::string::npos) << out;
  EXPECT_NE(out.find("postgresql://shop_orders_migrator:<redacted>@db.shop.svc:5432/shop_orders?sslmode"), std::string::npos)
      << out;
  EXPECT_NE(out.find("redis://:<redacted>@cache:6379/0"), std::string::npos) << out;
  EXPECT_NE(out.find("https://example.com/path@x"), std::string::npos) << "no user information: unchanged";
  EXPECT_NE(out.find("mailto:a@b"), std::string::npos);
}

TEST(MigrationLog, TailIsBoundedStartsAtALineAndNeverShowsPartOfASecretAtTheCut) {
  const std::string pw = "PASSWORD-0123456789-abcdefghij";
  std::string log;
  for (int i = 0; i < 100; ++i) log += "line " + std::to_string(i) + " " + pw + "\n";
  std::string report = migrationLogReport(log, {pw}, 256);
  EXPECT_LE(report.size(), 256u + 32u);
  EXPECT_EQ(report.rfind("log tail:\n...", 0), 0u) << report;
  EXPECT_NE(report.find("line 99 <redacted>"), std::string::npos) << report;
  EXPECT_EQ(report.find("line 0 "), std::string::npos);
  for (size_t n = 6; n <= pw.size(); ++n) {
    EXPECT_EQ(report.find(pw.substr(pw.size() - n)), std::string::npos) << "a suffix of length " << n;
    EXPECT_EQ(report.find(pw.substr(0, n)), std::string::npos) << "a prefix of length " << n;
  }
  EXPECT_EQ(migrationLogReport("", {}), "the pod's log is empty");
}

TEST(MigrationLog, OutputIsValidUtf8WithoutControlCharacters) {
  std::string log = std::string("ok \xE2\x9C\x93 bad \xFF\xC3 bell \x07 cr\r\n") + std::string(2000, 'x') + "\xE2\x9C\x93";
  std::string report = migrationLogReport(log, {}, 100);
  EXPECT_NO_THROW((void)Json(report).dump());
  EXPECT_EQ(report.find('\x07'), std::string::npos);
  std::string s = sanitizeText("a\xFF" "b\xC3\xA9" "c\x01");
  EXPECT_EQ(s, "a?b\xC3\xA9" "c?");
  // A cut inside a multi-byte character moves to the next character.
  std::string wide;
  for (int i = 0; i < 300; ++i) wide += "\xC3\xA9";
  EXPECT_NO_THROW((void)Json(migrationLogReport(wide, {}, 101)).dump());
}

TEST(MigrationLog, SummaryLineBecomesASentence) {
  const std::string failed =
      R"({"alreadyApplied":0,"applied":[],"failure":{"file":"V2__idx.sql","version":"2","sqlstate":"25001","message":"CREATE INDEX CONCURRENTLY cannot run inside a transaction block","hint":"mark the file -- servicedb:transaction=false","statement":1,"partialEffects":true},"result":"failed","schemaVersion":"1","type":"servicedb.io/migration-summary"})";
  std::string log = "{\"level\":\"info\"}\n" + failed + "\n{\"level\":\"error\",\"msg\":\"done\"}\n";
  EXPECT_EQ(describeMigrationSummary(log),
            "V2__idx.sql failed: SQLSTATE 25001: CREATE INDEX CONCURRENTLY cannot run inside a transaction block "
            "(statement 1); hint: mark the file -- servicedb:transaction=false; the file's earlier statements took effect");
  const std::string refused =
      R"J({"result":"refused","error":"V1__init.sql: checksum changed (applied abc, now def)","type":"servicedb.io/migration-summary"})J";
  EXPECT_EQ(describeMigrationSummary(refused + "\n"), "refused: V1__init.sql: checksum changed (applied abc, now def)");
  EXPECT_EQ(describeMigrationSummary("psql: error: connection refused\n"), "");
  // Any tool can print a line that looks like a summary: fields of the wrong type never throw.
  const std::string odd =
      R"({"type":"servicedb.io/migration-summary","result":7,"failure":{"file":3,"sqlstate":["x"],"message":null,"line":"4","partialEffects":"yes"}})";
  EXPECT_EQ(describeMigrationSummary(odd), "a migration failed: ");
  EXPECT_NO_THROW(migrationLogReport(odd + "\n{\"type\":\"servicedb.io/migration-summary\",\"error\":{}}\n", {}));
  // The sentence comes first in the report, then the tail.
  std::string report = migrationLogReport(log, {});
  EXPECT_EQ(report.rfind("V2__idx.sql failed", 0), 0u) << report;
  EXPECT_NE(report.find("\nlog tail:\n"), std::string::npos);
}

}  // namespace
