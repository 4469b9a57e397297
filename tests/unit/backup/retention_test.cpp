// Retention (retention.h): a table of rules and backup series, each row with the exact ids kept and
// deleted, then a simulated series of daily backups pruned after each one on a fake clock.
#include "operator/backup/retention.h"

#include <gtest/gtest.h>

#include <set>

#include "operator/backup/runner.h"
#include "operator/core/clock.h"
#include "operator/core/random.h"

namespace sdb::backup {
namespace {

using namespace std::chrono_literals;
using std::chrono::system_clock;

system_clock::time_point at(const std::string& rfc3339) {
  system_clock::time_point t;
  EXPECT_TRUE(parseRfc3339(rfc3339, &t)) << rfc3339;
  return t;
}

// "2026-03-01T02:00:00Z" -> "20260301T020000Z-00000000", as newBackupId writes it.
std::string idAt(const std::string& rfc3339) {
  std::string compact;
  for (char c : rfc3339) {
    if (c != '-' && c != ':') compact.push_back(c);
  }
  return compact + "-00000000";
}

RetentionRules rules(int last, int daily, int weekly, int monthly, std::optional<std::chrono::seconds> maxAge) {
  RetentionRules r;
  r.keepLast = last;
  r.keepDaily = daily;
  r.keepWeekly = weekly;
  r.keepMonthly = monthly;
  r.maxAge = maxAge;
  return r;
}

struct Row {
  std::string name;
  RetentionRules rules;
  std::string now;
  std::vector<std::string> backups;  // RFC 3339 times, or literal ids starting with '!'
  std::set<std::string> kept;        // same notation
};

std::string idOf(const std::string& entry) { return entry[0] == '!' ? entry.substr(1) : idAt(entry); }

TEST(Retention, Table) {
  const std::vector<Row> rows = {
      {"no rule keeps everything", {}, "2026-03-10T00:00:00Z",
       {"2020-01-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z"},
       {"2020-01-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z"}},
      {"keepLast 2 of 4", rules(2, 0, 0, 0, std::nullopt), "2026-03-10T00:00:00Z",
       {"2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z", "2026-03-04T00:00:00Z"},
       {"2026-03-03T00:00:00Z", "2026-03-04T00:00:00Z"}},
      {"maxAge keeps only what is younger", rules(0, 0, 0, 0, 48h), "2026-03-10T12:00:00Z",
       {"2026-03-10T11:00:00Z", "2026-03-09T06:00:00Z", "2026-03-08T10:00:00Z", "2026-03-06T00:00:00Z"},
       {"2026-03-10T11:00:00Z", "2026-03-09T06:00:00Z"}},
      {"maxAge never deletes the newest good one", rules(0, 0, 0, 0, 1h), "2026-03-10T12:00:00Z",
       {"2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z"}, {"2026-03-02T00:00:00Z"}},
      {"a backup from the future (clock skew) is young", rules(0, 0, 0, 0, 1h), "2026-03-10T12:00:00Z",
       {"2026-03-11T00:00:00Z", "2026-03-10T11:30:00Z", "2026-03-01T00:00:00Z"},
       {"2026-03-11T00:00:00Z", "2026-03-10T11:30:00Z"}},
      {"keepDaily keeps the newest of each day", rules(0, 2, 0, 0, std::nullopt), "2026-03-04T00:00:00Z",
       {"2026-03-01T01:00:00Z", "2026-03-01T13:00:00Z", "2026-03-02T01:00:00Z", "2026-03-02T23:59:59Z",
        "2026-03-03T05:00:00Z", "2026-03-03T04:00:00Z"},
       {"2026-03-03T05:00:00Z", "2026-03-02T23:59:59Z"}},
      {"keepDaily counts days with backups: a pause expires nothing", rules(0, 3, 0, 0, std::nullopt), "2026-06-01T00:00:00Z",
       {"2026-03-01T00:00:00Z", "2026-03-11T00:00:00Z", "2026-03-21T00:00:00Z", "2026-02-01T00:00:00Z"},
       {"2026-03-01T00:00:00Z", "2026-03-11T00:00:00Z", "2026-03-21T00:00:00Z"}},
      {"keepWeekly uses ISO weeks across a year boundary", rules(0, 0, 2, 0, std::nullopt), "2021-01-05T00:00:00Z",
       // 2020-12-31 (Thu) and 2021-01-03 (Sun) are both in 2020-W53; 2021-01-04 (Mon) starts 2021-W01.
       {"2020-12-31T12:00:00Z", "2021-01-03T12:00:00Z", "2021-01-04T12:00:00Z", "2020-12-27T12:00:00Z"},
       {"2021-01-04T12:00:00Z", "2021-01-03T12:00:00Z"}},
      {"keepMonthly keeps the newest of each month", rules(0, 0, 0, 2, std::nullopt), "2026-04-01T00:00:00Z",
       {"2026-03-31T23:00:00Z", "2026-03-01T00:00:00Z", "2026-02-15T00:00:00Z", "2026-01-10T00:00:00Z"},
       {"2026-03-31T23:00:00Z", "2026-02-15T00:00:00Z"}},
      {"rules add up", rules(1, 0, 0, 3, 24h), "2026-03-10T12:00:00Z",
       {"2026-03-10T02:00:00Z", "2026-03-09T13:00:00Z", "2026-03-09T02:00:00Z", "2026-03-05T02:00:00Z",
        "2026-02-20T02:00:00Z", "2026-02-10T02:00:00Z", "2026-01-31T02:00:00Z", "2025-12-31T02:00:00Z"},
       {"2026-03-10T02:00:00Z", "2026-03-09T13:00:00Z", "2026-02-20T02:00:00Z", "2026-01-31T02:00:00Z"}},
      {"an undated id is never deleted", rules(1, 0, 0, 0, std::nullopt), "2026-03-10T00:00:00Z",
       {"!before-migration", "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z"},
       {"!before-migration", "2026-03-02T00:00:00Z"}},
      {"two backups in one second: the larger id is newer", rules(1, 0, 0, 0, std::nullopt), "2026-03-10T00:00:00Z",
       {"!20260301T000000Z-aaaaaaaa", "!20260301T000000Z-bbbbbbbb"}, {"!20260301T000000Z-bbbbbbbb"}},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.name);
    std::vector<std::string> ids;
    std::set<std::string> expectKept, expectDeleted;
    for (const auto& b : row.backups) ids.push_back(idOf(b));
    for (const auto& k : row.kept) expectKept.insert(idOf(k));
    for (const auto& id : ids) {
      if (!expectKept.count(id)) expectDeleted.insert(id);
    }
    RetentionPlan plan = planRetention(ids, row.rules, at(row.now));
    EXPECT_EQ(std::set<std::string>(plan.keep.begin(), plan.keep.end()), expectKept);
    EXPECT_EQ(std::set<std::string>(plan.remove.begin(), plan.remove.end()), expectDeleted);
    EXPECT_EQ(plan.decisions.size(), ids.size());
    for (const auto& d : plan.decisions) EXPECT_EQ(d.keep, !d.reasons.empty()) << d.id;
  }
}

TEST(Retention, ReasonsNameTheRuleAndTheBucket) {
  RetentionPlan plan = planRetention({idAt("2021-01-03T12:00:00Z"), idAt("2021-01-04T12:00:00Z")},
                                     rules(1, 2, 2, 2, std::nullopt),
                                     at("2021-01-05T00:00:00Z"));
  ASSERT_EQ(plan.decisions.size(), 2u);
  EXPECT_EQ(plan.decisions[0].reasons,
            (std::vector<std::string>{"newest", "last 1", "daily 2021-01-04", "weekly 2021-W01", "monthly 2021-01"}));
  EXPECT_EQ(plan.decisions[1].reasons,
            (std::vector<std::string>{"daily 2021-01-03", "weekly 2020-W53"}));  // January's newest is the other
}

TEST(Retention, BackupIdTimeReadsOnlyWellFormedIds) {
  EXPECT_EQ(backupIdTime("20261125T031500Z-0a1b2c3d"), at("2026-11-25T03:15:00Z"));
  EXPECT_EQ(backupIdTime("20261125T031500Z"), at("2026-11-25T03:15:00Z"));
  EXPECT_FALSE(backupIdTime("20261325T031500Z-x"));  // month 13
  EXPECT_FALSE(backupIdTime("20260230T031500Z-x"));  // 30 February
  EXPECT_FALSE(backupIdTime("20261125T251500Z-x"));
  EXPECT_FALSE(backupIdTime("20261125T031500Zx"));
  EXPECT_FALSE(backupIdTime("manual"));
  EXPECT_FALSE(backupIdTime("2026112AT031500Z-x"));
}

// A daily backup at 02:00 for 60 days (2026-01-01, a Thursday, to 2026-03-01, a Sunday), pruned
// after each one as the backup Job does, on a fake clock. What is left is exactly GFS's answer.
TEST(Retention, SimulatedDailySeriesPrunedAfterEachBackup) {
  FakeClock clock(at("2026-01-01T02:00:00Z"));
  SeededRandom random(7);
  const RetentionRules gfs = rules(2, 7, 4, 3, std::nullopt);
  std::vector<std::string> stored;
  size_t deletedTotal = 0;
  for (int day = 0; day < 60; ++day) {
    if (day > 0) clock.advance(24h);
    const std::string id = newBackupId(clock.now(), random);
    stored.push_back(id);
    RetentionPlan plan = planRetention(stored, gfs, clock.now() + 5min);
    ASSERT_FALSE(plan.keep.empty());
    EXPECT_EQ(plan.keep.front(), id) << "the fresh backup is the newest and always kept";
    EXPECT_LE(plan.keep.size(), 2u + 7u + 4u + 3u);
    deletedTotal += plan.remove.size();
    stored = plan.keep;
  }
  std::set<std::string> days;
  for (const auto& id : stored) days.insert(id.substr(0, 8));
  EXPECT_EQ(days, (std::set<std::string>{"20260301", "20260228", "20260227", "20260226", "20260225", "20260224",
                                         "20260223", "20260222", "20260215", "20260208", "20260131"}));
  EXPECT_EQ(deletedTotal, 60u - 11u);
}

}  // namespace
}  // namespace sdb::backup
