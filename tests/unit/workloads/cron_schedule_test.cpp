// Cron schedules: parsing (robfig/cron v3 ParseStandard's grammar and errors) and next() in time
// zones, including both DST transitions.
#include "e2e/cron/cron_schedule.h"

#include <gtest/gtest.h>

namespace sdb::cron {
namespace {

int64_t utc(int64_t y, int mo, int d, int h, int mi, int s = 0) {
  return daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

std::string error(const std::string& spec) {
  auto s = Schedule::parse(spec);
  return s.ok() ? "" : s.error().message;
}

int64_t next(const std::string& spec, int64_t after, const TimeZone& z = TimeZone::utc()) {
  auto s = Schedule::parse(spec);
  EXPECT_TRUE(s.ok()) << spec << ": " << (s.ok() ? "" : s.error().message);
  if (!s.ok()) return -1;
  auto n = s->next(after, z);
  return n ? *n : -1;
}

TEST(CronParse, RejectsWhatKubernetesRejectsWithItsWords) {
  EXPECT_EQ(error(""), "empty spec string");
  EXPECT_EQ(error("* * * *"), "expected exactly 5 fields, found 4: [* * * *]");
  EXPECT_EQ(error("0 0 * * * *"), "expected exactly 5 fields, found 6: [0 0 * * * *]");
  EXPECT_EQ(error("60 * * * *"), "end of range (60) above maximum (59): 60");
  EXPECT_EQ(error("* 24 * * *"), "end of range (24) above maximum (23): 24");
  EXPECT_EQ(error("* * 0 * *"), "beginning of range (0) below minimum (1): 0");
  EXPECT_EQ(error("* * * 13 *"), "end of range (13) above maximum (12): 13");
  EXPECT_EQ(error("* * * * 7"), "end of range (7) above maximum (6): 7");
  EXPECT_EQ(error("5-1 * * * *"), "beginning of range (5) beyond end of range (1): 5-1");
  EXPECT_EQ(error("*/0 * * * *"), "step of range should be a positive number: */0");
  EXPECT_EQ(error("1-2-3 * * * *"), "too many hyphens: 1-2-3");
  EXPECT_EQ(error("*/2/3 * * * *"), "too many slashes: */2/3");
  EXPECT_EQ(error("x * * * *"), "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax");
  EXPECT_EQ(error("@fortnightly"), "unrecognized descriptor: @fortnightly");
  EXPECT_EQ(error("CRON_TZ=UTC * * * * *"), "cannot use TZ or CRON_TZ in schedule, use timeZone field instead");
  EXPECT_NE(error("@every 5 minutes").find("failed to parse duration @every 5 minutes"), std::string::npos);
  for (const char* ok : {"* * * * *", "*/5 1-5,22 1,15 JAN-mar,dec sun-THU", "0 0 ? * ?", "5/15 * * * *", "@daily",
                         "@midnight", "@hourly", "@weekly", "@monthly", "@yearly", "@annually", "@every 1h30m"}) {
    EXPECT_EQ(error(ok), "") << ok;
  }
}

TEST(CronNext, FieldsStepsListsAndNames) {
  const int64_t t = utc(2024, 5, 15, 10, 7, 30);  // a Wednesday
  EXPECT_EQ(next("* * * * *", t), utc(2024, 5, 15, 10, 8));
  EXPECT_EQ(next("*/15 * * * *", t), utc(2024, 5, 15, 10, 15));
  EXPECT_EQ(next("5/20 * * * *", t), utc(2024, 5, 15, 10, 25));
  EXPECT_EQ(next("0 9 * * MON-FRI", t), utc(2024, 5, 16, 9, 0));
  EXPECT_EQ(next("0 9 * * sat,sun", t), utc(2024, 5, 18, 9, 0));
  EXPECT_EQ(next("30 4 1 jan *", t), utc(2025, 1, 1, 4, 30));
  EXPECT_EQ(next("0 0 29 2 *", t), utc(2028, 2, 29, 0, 0));
  EXPECT_EQ(next("0 0 30 2 *", t), -1);  // never: gives up after five years
  // Exactly on a boundary: strictly after.
  EXPECT_EQ(next("0 * * * *", utc(2024, 5, 15, 10, 0)), utc(2024, 5, 15, 11, 0));
  // Day-of-month OR day-of-week when both are restricted; AND when one is '*'.
  EXPECT_EQ(next("0 0 1 * MON", t), utc(2024, 5, 20, 0, 0));
  EXPECT_EQ(next("0 0 1 * *", t), utc(2024, 6, 1, 0, 0));
  EXPECT_EQ(next("0 0 */10 * MON", t), utc(2024, 5, 20, 0, 0));  // "*/10" is not a star for dom
}

TEST(CronNext, Descriptors) {
  const int64_t t = utc(2024, 5, 15, 10, 7, 30);
  EXPECT_EQ(next("@hourly", t), utc(2024, 5, 15, 11, 0));
  EXPECT_EQ(next("@daily", t), utc(2024, 5, 16, 0, 0));
  EXPECT_EQ(next("@weekly", t), utc(2024, 5, 19, 0, 0));  // Sunday
  EXPECT_EQ(next("@monthly", t), utc(2024, 6, 1, 0, 0));
  EXPECT_EQ(next("@yearly", t), utc(2025, 1, 1, 0, 0));
  EXPECT_EQ(next("@every 1h30m", t), t + 5400);
  EXPECT_EQ(next("@every 10ms", t), t + 1);  // at least a second
}

TEST(CronNext, InTimeZones) {
  auto ny = TimeZone::load("America/New_York");
  ASSERT_TRUE(ny.ok());
  // 09:00 New York in winter (EST, UTC-5) and summer (EDT, UTC-4).
  EXPECT_EQ(next("0 9 * * *", utc(2024, 1, 10, 0, 0), *ny), utc(2024, 1, 10, 14, 0));
  EXPECT_EQ(next("0 9 * * *", utc(2024, 7, 10, 0, 0), *ny), utc(2024, 7, 10, 13, 0));
  // The day boundary is New York's: at 02:00 UTC on Jan 11 it is still 21:00 on Jan 10 there.
  EXPECT_EQ(next("0 23 10 * *", utc(2024, 1, 11, 2, 0), *ny), utc(2024, 1, 11, 4, 0));
  auto kolkata = TimeZone::load("Asia/Kolkata");  // UTC+05:30
  ASSERT_TRUE(kolkata.ok());
  EXPECT_EQ(next("0 0 * * *", utc(2024, 1, 10, 0, 0), *kolkata), utc(2024, 1, 10, 18, 30));
}

TEST(CronNext, SpringForwardSkipsTheMissingWallTime) {
  auto berlin = TimeZone::load("Europe/Berlin");
  ASSERT_TRUE(berlin.ok());
  // 2024-03-31 02:30 does not exist in Berlin: that day has no run (robfig/cron v3 behaviour).
  const int64_t before = utc(2024, 3, 30, 12, 0);
  EXPECT_EQ(next("30 2 * * *", before, *berlin), utc(2024, 4, 1, 0, 30));
  // An hourly schedule goes from 01:00 CET straight to 03:00 CEST.
  EXPECT_EQ(next("0 * * * *", utc(2024, 3, 31, 0, 0), *berlin), utc(2024, 3, 31, 1, 0));
  // Midnight-anchored schedules are unaffected.
  EXPECT_EQ(next("0 0 * * *", before, *berlin), utc(2024, 3, 30, 23, 0));
  EXPECT_EQ(next("0 0 * * *", utc(2024, 3, 30, 23, 0), *berlin), utc(2024, 3, 31, 22, 0));
}

TEST(CronNext, FallBackRunsTheRepeatedWallTimeTwice) {
  auto berlin = TimeZone::load("Europe/Berlin");
  ASSERT_TRUE(berlin.ok());
  const int64_t first = next("30 2 * * *", utc(2024, 10, 26, 12, 0), *berlin);
  EXPECT_EQ(first, utc(2024, 10, 27, 0, 30));  // 02:30 CEST
  const int64_t second = next("30 2 * * *", first, *berlin);
  EXPECT_EQ(second, utc(2024, 10, 27, 1, 30));  // 02:30 CET
  EXPECT_EQ(next("30 2 * * *", second, *berlin), utc(2024, 10, 28, 1, 30));
}

TEST(CronNext, SouthernHemisphereAndFarFuture) {
  auto syd = TimeZone::load("Australia/Sydney");
  ASSERT_TRUE(syd.ok());
  // Sydney leaves DST on 2024-04-07 (03:00 AEDT → 02:00 AEST). 09:00 on the 8th is AEST (UTC+10).
  EXPECT_EQ(next("0 9 * * *", utc(2024, 4, 7, 12, 0), *syd), utc(2024, 4, 7, 23, 0));
  auto berlin = TimeZone::load("Europe/Berlin");
  ASSERT_TRUE(berlin.ok());
  // Past the TZif file's explicit transitions, the footer rule decides: 2100-07-01 noon CEST.
  EXPECT_EQ(next("0 12 1 7 *", utc(2100, 6, 1, 0, 0), *berlin), utc(2100, 7, 1, 10, 0));
}

}  // namespace
}  // namespace sdb::cron
