// IANA time zones read from TZif files (RFC 8536, /usr/share/zoneinfo), with the POSIX TZ footer
// rule for instants past the last transition. libstdc++ 12 has no std::chrono::tzdb, and setenv(TZ)
// plus localtime_r is process-global state that threads must not touch, so we parse the files.
//
// Semantics follow Go's time package (which the CronJob controller's cron library relies on):
// - lookup(unix) gives the offset in force and the half-open period [start, end) it covers;
// - fromLocal() is Go's time.Date: fields out of range are normalised (month 13 → next January,
//   day 0 → last day of the previous month), and a wall time that falls in a gap or an overlap is
//   resolved the way Go resolves it.
//
// Contract: TimeZone is an immutable value, safe to share between threads. load() reads a file and
// returns an error naming the zone ("unknown time zone X") when it cannot.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "operator/core/result.h"

namespace sdb::cron {

// A wall-clock reading in some zone. month 1-12, day 1-31, weekday 0 (Sunday) - 6, yearDay 0-365.
struct CivilTime {
  int64_t year = 1970;
  int month = 1, day = 1, hour = 0, minute = 0, second = 0;
  int weekday = 4, yearDay = 0;
};

struct ZonePeriod {
  int32_t offset = 0;  // seconds east of UTC
  bool isDst = false;
  std::string abbreviation;
  int64_t start = INT64_MIN, end = INT64_MAX;  // [start, end) in Unix seconds
};

class TimeZone {
 public:
  // "UTC" (and "") give UTC without reading a file. Names with "..", a leading '/' or characters
  // outside [A-Za-z0-9._+-/] are refused.
  static Result<TimeZone> load(const std::string& name, const std::string& zoneinfoDir = "/usr/share/zoneinfo");
  static Result<TimeZone> fromTzif(const std::string& name, std::string_view data);
  static TimeZone utc();

  const std::string& name() const { return name_; }
  ZonePeriod lookup(int64_t unix) const;
  CivilTime toLocal(int64_t unix) const;
  // Go's time.Date(year, month, day, hour, minute, second, 0, zone).Unix().
  int64_t fromLocal(int64_t year, int month, int day, int hour, int minute, int second) const;

 private:
  struct Type {
    int32_t offset;
    bool isDst;
    std::string abbreviation;
  };
  struct Transition {
    int64_t at;
    uint8_t type;
  };
  struct Rule;  // a parsed POSIX TZ string
  TimeZone() = default;
  size_t firstType() const;

  std::string name_;
  std::vector<Type> types_;
  std::vector<Transition> transitions_;
  std::shared_ptr<const Rule> extend_;  // footer rule, may be null
};

// Civil-calendar arithmetic (proleptic Gregorian), shared with the cron schedule.
int64_t daysFromCivil(int64_t year, int month, int day);
CivilTime civilFromUnix(int64_t unix);  // in UTC
bool isLeapYear(int64_t year);
int daysInMonth(int64_t year, int month);

}  // namespace sdb::cron
