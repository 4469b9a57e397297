// TimeZone: TZif parsing and Go's local-time semantics. glibc's localtime_r, with TZ set in this
// single-threaded test process, is the independent checker for offsets.
#include "e2e/cron/time_zone.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

namespace sdb::cron {
namespace {

int64_t utc(int64_t y, int mo, int d, int h, int mi, int s = 0) {
  return daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

TEST(CivilCalendar, RoundTripsAndKnowsWeekdays) {
  for (int64_t t : {int64_t{0}, int64_t{951782400} /*2000-02-29*/, int64_t{-86400}, int64_t{4102444800} /*2100-01-01*/}) {
    CivilTime c = civilFromUnix(t);
    EXPECT_EQ(daysFromCivil(c.year, c.month, c.day) * 86400 + c.hour * 3600 + c.minute * 60 + c.second, t);
  }
  CivilTime c = civilFromUnix(utc(2000, 2, 29, 13, 14, 15));
  EXPECT_EQ(c.year, 2000);
  EXPECT_EQ(c.month, 2);
  EXPECT_EQ(c.day, 29);
  EXPECT_EQ(c.weekday, 2);  // a Tuesday
  EXPECT_EQ(c.yearDay, 59);
  EXPECT_EQ(civilFromUnix(-1).weekday, 3);  // 1969-12-31, a Wednesday
  EXPECT_TRUE(isLeapYear(2000));
  EXPECT_FALSE(isLeapYear(2100));
  EXPECT_EQ(daysInMonth(2024, 2), 29);
}

TEST(TimeZone, RefusesUnknownAndUnsafeNames) {
  EXPECT_FALSE(TimeZone::load("Mars/Olympus_Mons").ok());
  EXPECT_NE(TimeZone::load("Mars/Olympus_Mons").error().message.find("unknown time zone Mars/Olympus_Mons"),
            std::string::npos);
  EXPECT_FALSE(TimeZone::load("../../etc/passwd").ok());
  EXPECT_FALSE(TimeZone::load("/etc/localtime").ok());
  EXPECT_FALSE(TimeZone::load("Europe/Berlin; rm").ok());
  EXPECT_FALSE(TimeZone::fromTzif("x", "not a tzif file at all, not at all, no no no no").ok());
  auto u = TimeZone::load("UTC");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->lookup(12345).offset, 0);
}

TEST(TimeZone, BerlinTransitionsIn2024) {
  auto z = TimeZone::load("Europe/Berlin");
  ASSERT_TRUE(z.ok()) << z.error().message;
  // CET → CEST on 2024-03-31 at 01:00 UTC.
  EXPECT_EQ(z->lookup(utc(2024, 3, 31, 0, 59, 59)).offset, 3600);
  ZonePeriod summer = z->lookup(utc(2024, 3, 31, 1, 0, 0));
  EXPECT_EQ(summer.offset, 7200);
  EXPECT_TRUE(summer.isDst);
  EXPECT_EQ(summer.abbreviation, "CEST");
  EXPECT_EQ(summer.start, utc(2024, 3, 31, 1, 0));
  EXPECT_EQ(summer.end, utc(2024, 10, 27, 1, 0));
  CivilTime noon = z->toLocal(utc(2024, 7, 1, 10, 0));
  EXPECT_EQ(noon.hour, 12);
}

TEST(TimeZone, FromLocalResolvesGapsAndOverlapsAsGoDoes) {
  auto z = TimeZone::load("Europe/Berlin");
  ASSERT_TRUE(z.ok());
  // Ordinary times.
  EXPECT_EQ(z->fromLocal(2024, 1, 15, 12, 0, 0), utc(2024, 1, 15, 11, 0));
  EXPECT_EQ(z->fromLocal(2024, 7, 15, 12, 0, 0), utc(2024, 7, 15, 10, 0));
  // 02:30 does not exist on 2024-03-31; Go answers 03:30 CEST (= 01:30 UTC).
  EXPECT_EQ(z->fromLocal(2024, 3, 31, 2, 30, 0), utc(2024, 3, 31, 1, 30));
  // 02:30 happens twice on 2024-10-27; Go's lookup lands in the later period (CET, 01:30 UTC).
  EXPECT_EQ(z->fromLocal(2024, 10, 27, 2, 30, 0), utc(2024, 10, 27, 1, 30));
  // Normalisation: month 13 and day 0.
  EXPECT_EQ(z->fromLocal(2023, 13, 1, 0, 0, 0), z->fromLocal(2024, 1, 1, 0, 0, 0));
  EXPECT_EQ(z->fromLocal(2024, 3, 0, 0, 0, 0), z->fromLocal(2024, 2, 29, 0, 0, 0));
}

TEST(TimeZone, FooterRuleCoversTheFarFuture) {
  auto z = TimeZone::load("Europe/Berlin");
  ASSERT_TRUE(z.ok());
  // EU rule: last Sunday of March / October at 01:00 UTC. In 2100 those are March 28 and October 31.
  EXPECT_EQ(z->lookup(utc(2100, 3, 28, 0, 59, 59)).offset, 3600);
  EXPECT_EQ(z->lookup(utc(2100, 3, 28, 1, 0, 0)).offset, 7200);
  EXPECT_EQ(z->lookup(utc(2100, 10, 31, 0, 59, 59)).offset, 7200);
  EXPECT_EQ(z->lookup(utc(2100, 10, 31, 1, 0, 0)).offset, 3600);
  // Southern hemisphere (DST spans the new year): Sydney, first Sunday of April / October.
  auto syd = TimeZone::load("Australia/Sydney");
  ASSERT_TRUE(syd.ok());
  EXPECT_EQ(syd->lookup(utc(2100, 1, 10, 0, 0)).offset, 11 * 3600);
  EXPECT_EQ(syd->lookup(utc(2100, 6, 10, 0, 0)).offset, 10 * 3600);
}

// Every zone we care about agrees with glibc at many instants from 1970 to 2099.
TEST(TimeZone, AgreesWithGlibcLocaltime) {
  const char* zones[] = {"Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata",
                         "America/Sao_Paulo", "Pacific/Chatham", "Asia/Tokyo", "Africa/Casablanca",
                         "America/St_Johns", "Europe/London", "Pacific/Apia", "UTC"};
  for (const char* name : zones) {
    auto z = TimeZone::load(name);
    ASSERT_TRUE(z.ok()) << name;
    setenv("TZ", (std::string(":") + name).c_str(), 1);
    tzset();
    int mismatches = 0;
    for (int64_t t = 0; t < utc(2099, 12, 1, 0, 0); t += 86400 * 7 + 3607) {
      std::time_t tt = static_cast<std::time_t>(t);
      std::tm tm{};
      localtime_r(&tt, &tm);
      if (z->lookup(t).offset != tm.tm_gmtoff) ++mismatches;
      CivilTime c = z->toLocal(t);
      if (c.hour != tm.tm_hour || c.day != tm.tm_mday || c.weekday != tm.tm_wday) ++mismatches;
    }
    EXPECT_EQ(mismatches, 0) << name;
  }
  unsetenv("TZ");
  tzset();
}

}  // namespace
}  // namespace sdb::cron
