#include "e2e/cron/time_zone.h"

#include <cstring>
#include <fstream>
#include <sstream>

namespace sdb::cron {

namespace {

constexpr int64_t kDay = 86400;

int64_t floorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

uint32_t be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
int64_t be64(const unsigned char* p) {
  return static_cast<int64_t>((uint64_t{be32(p)} << 32) | uint64_t{be32(p + 4)});
}

bool validZoneName(const std::string& name) {
  if (name.empty() || name[0] == '/' || name.find("..") != std::string::npos) return false;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-' || c == '+' || c == '/';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

bool isLeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int daysInMonth(int64_t year, int month) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && isLeapYear(year) ? 29 : days[month - 1];
}

// Howard Hinnant's days_from_civil: days since 1970-01-01.
int64_t daysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = floorDiv(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilTime civilFromUnix(int64_t unix) {
  const int64_t days = floorDiv(unix, kDay);
  const int64_t secs = unix - days * kDay;
  const int64_t z = days + 719468;
  const int64_t era = floorDiv(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  CivilTime c;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = yoe + era * 400 + (c.month <= 2);
  c.hour = static_cast<int>(secs / 3600);
  c.minute = static_cast<int>(secs / 60 % 60);
  c.second = static_cast<int>(secs % 60);
  c.weekday = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
  c.yearDay = static_cast<int>(days - daysFromCivil(c.year, 1, 1));
  return c;
}

// ------------------------------------------------------------------ POSIX TZ rules (TZif footer)

struct TimeZone::Rule {
  struct When {
    enum class Kind { kJulian, kDayOfYear, kMonthWeekDay } kind = Kind::kMonthWeekDay;
    int day = 0, week = 0, month = 0;
    int time = 2 * 3600;  // local seconds after midnight
  };
  std::string stdName, dstName;
  int32_t stdOffset = 0, dstOffset = 0;  // seconds east of UTC
  bool hasDst = false;
  When start, end;

  static std::shared_ptr<const Rule> parse(std::string_view s);
  // Seconds after Jan 1 00:00 UTC of `year` at which `w` happens, for a zone at `offset`.
  static int64_t timeInYear(int64_t year, const When& w, int32_t offset);
  bool lookup(int64_t lastTransition, int64_t unix, ZonePeriod* out) const;
};

namespace {

bool parseName(std::string_view& s, std::string* out) {
  if (s.empty()) return false;
  if (s[0] == '<') {
    auto close = s.find('>');
    if (close == std::string_view::npos) return false;
    *out = std::string(s.substr(1, close - 1));
    s.remove_prefix(close + 1);
    return true;
  }
  size_t i = 0;
  while (i < s.size() && std::string_view("0123456789,-+").find(s[i]) == std::string_view::npos) ++i;
  if (i < 3) return false;
  *out = std::string(s.substr(0, i));
  s.remove_prefix(i);
  return true;
}

bool parseNum(std::string_view& s, int min, int max, int* out) {
  size_t i = 0;
  int v = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    v = v * 10 + (s[i] - '0');
    if (v > max) return false;
    ++i;
  }
  if (i == 0 || v < min) return false;
  s.remove_prefix(i);
  *out = v;
  return true;
}

// [+-]hh[:mm[:ss]] → seconds (POSIX sign: positive is west of Greenwich).
bool parseOffset(std::string_view& s, int* out) {
  int sign = 1;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    sign = s[0] == '-' ? -1 : 1;
    s.remove_prefix(1);
  }
  int h = 0, m = 0, sec = 0;
  if (!parseNum(s, 0, 24 * 7, &h)) return false;
  if (!s.empty() && s[0] == ':') {
    s.remove_prefix(1);
    if (!parseNum(s, 0, 59, &m)) return false;
    if (!s.empty() && s[0] == ':') {
      s.remove_prefix(1);
      if (!parseNum(s, 0, 59, &sec)) return false;
    }
  }
  *out = sign * (h * 3600 + m * 60 + sec);
  return true;
}

bool parseWhen(std::string_view& s, int* kind, int* day, int* week, int* month, int* time) {
  if (s.empty()) return false;
  if (s[0] == 'J') {
    s.remove_prefix(1);
    *kind = 0;
    if (!parseNum(s, 1, 365, day)) return false;
  } else if (s[0] == 'M') {
    s.remove_prefix(1);
    *kind = 2;
    if (!parseNum(s, 1, 12, month) || s.empty() || s[0] != '.') return false;
    s.remove_prefix(1);
    if (!parseNum(s, 1, 5, week) || s.empty() || s[0] != '.') return false;
    s.remove_prefix(1);
    if (!parseNum(s, 0, 6, day)) return false;
  } else {
    *kind = 1;
    if (!parseNum(s, 0, 365, day)) return false;
  }
  *time = 2 * 3600;
  if (!s.empty() && s[0] == '/') {
    s.remove_prefix(1);
    if (!parseOffset(s, time)) return false;
  }
  return true;
}

}  // namespace

std::shared_ptr<const TimeZone::Rule> TimeZone::Rule::parse(std::string_view s) {
  auto r = std::make_shared<Rule>();
  int off = 0;
  if (!parseName(s, &r->stdName) || !parseOffset(s, &off)) return nullptr;
  r->stdOffset = -off;
  if (s.empty() || s[0] == ',') return r;  // no daylight saving time
  if (!parseName(s, &r->dstName)) return nullptr;
  if (s.empty() || s[0] == ',') {
    r->dstOffset = r->stdOffset + 3600;
  } else {
    if (!parseOffset(s, &off)) return nullptr;
    r->dstOffset = -off;
  }
  r->hasDst = true;
  std::string_view rules = s.empty() ? std::string_view(",M3.2.0,M11.1.0") : s;
  if (rules[0] != ',' && rules[0] != ';') return nullptr;
  rules.remove_prefix(1);
  for (When* w : {&r->start, &r->end}) {
    int kind = 0;
    if (!parseWhen(rules, &kind, &w->day, &w->week, &w->month, &w->time)) return nullptr;
    w->kind = static_cast<When::Kind>(kind);
    if (w == &r->start) {
      if (rules.empty() || rules[0] != ',') return nullptr;
      rules.remove_prefix(1);
    }
  }
  if (!rules.empty()) return nullptr;
  return r;
}

int64_t TimeZone::Rule::timeInYear(int64_t year, const When& w, int32_t offset) {
  int64_t day = 0;
  switch (w.kind) {
    case When::Kind::kJulian:
      day = w.day - 1 + (isLeapYear(year) && w.day >= 60 ? 1 : 0);
      break;
    case When::Kind::kDayOfYear:
      day = w.day;
      break;
    case When::Kind::kMonthWeekDay: {
      const int64_t first = daysFromCivil(year, w.month, 1);
      const int firstDow = static_cast<int>(((first % 7) + 11) % 7);
      int d = w.day - firstDow;
      if (d < 0) d += 7;
      for (int i = 1; i < w.week; ++i) {
        if (d + 7 >= daysInMonth(year, w.month)) break;
        d += 7;
      }
      day = first - daysFromCivil(year, 1, 1) + d;
      break;
    }
  }
  return day * kDay + w.time - offset;
}

bool TimeZone::Rule::lookup(int64_t lastTransition, int64_t unix, ZonePeriod* out) const {
  if (!hasDst) {
    *out = {stdOffset, false, stdName, lastTransition, INT64_MAX};
    return true;
  }
  const CivilTime c = civilFromUnix(unix);
  const int64_t yearStart = daysFromCivil(c.year, 1, 1) * kDay;
  const int64_t ysec = unix - yearStart;
  int64_t startSec = timeInYear(c.year, start, stdOffset);
  int64_t endSec = timeInYear(c.year, end, dstOffset);
  std::string sName = stdName, dName = dstName;
  int32_t sOff = stdOffset, dOff = dstOffset;
  bool sDst = false, dDst = true;
  if (endSec < startSec) {  // southern hemisphere: the year starts in "DST"
    std::swap(startSec, endSec);
    std::swap(sName, dName);
    std::swap(sOff, dOff);
    std::swap(sDst, dDst);
  }
  const int64_t yearLen = (isLeapYear(c.year) ? 366 : 365) * kDay;
  if (ysec < startSec) {
    *out = {sOff, sDst, sName, yearStart, yearStart + startSec};
  } else if (ysec >= endSec) {
    *out = {sOff, sDst, sName, yearStart + endSec, yearStart + yearLen};
  } else {
    *out = {dOff, dDst, dName, yearStart + startSec, yearStart + endSec};
  }
  return true;
}

// ------------------------------------------------------------------ TZif

TimeZone TimeZone::utc() {
  TimeZone z;
  z.name_ = "UTC";
  return z;
}

Result<TimeZone> TimeZone::load(const std::string& name, const std::string& zoneinfoDir) {
  if (name.empty() || name == "UTC") return utc();
  if (!validZoneName(name)) return invalidArgument("unknown time zone " + name);
  std::ifstream in(zoneinfoDir + "/" + name, std::ios::binary);
  if (!in) return notFound("unknown time zone " + name);
  std::stringstream ss;
  ss << in.rdbuf();
  auto z = fromTzif(name, ss.str());
  if (!z.ok()) return notFound("unknown time zone " + name + " (" + z.error().message + ")");
  return z;
}

Result<TimeZone> TimeZone::fromTzif(const std::string& name, std::string_view data) {
  auto bytes = reinterpret_cast<const unsigned char*>(data.data());
  size_t size = data.size();
  auto header = [&](size_t at, uint32_t counts[6]) -> bool {
    if (at + 44 > size || data.substr(at, 4) != "TZif") return false;
    for (int i = 0; i < 6; ++i) counts[i] = be32(bytes + at + 20 + 4 * i);
    return true;
  };
  uint32_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  if (!header(0, c)) return invalidArgument("not a TZif file");
  const char version = data[4];
  size_t at = 44;
  int timeSize = 4;
  if (version >= '2') {
    // Skip the 32-bit block; use the 64-bit one that follows.
    at += size_t{c[3]} * 4 + c[3] + size_t{c[4]} * 6 + c[5] + size_t{c[2]} * 8 + c[1] + c[0];
    if (!header(at, c)) return invalidArgument("truncated TZif file");
    at += 44;
    timeSize = 8;
  }
  const uint32_t timecnt = c[3], typecnt = c[4], charcnt = c[5];
  const size_t need = size_t{timecnt} * timeSize + timecnt + size_t{typecnt} * 6 + charcnt +
                      size_t{c[2]} * (timeSize + 4) + c[1] + c[0];
  if (typecnt == 0 || at + need > size) return invalidArgument("truncated TZif file");
  TimeZone z;
  z.name_ = name;
  const unsigned char* times = bytes + at;
  const unsigned char* indexes = times + size_t{timecnt} * timeSize;
  const unsigned char* types = indexes + timecnt;
  const char* chars = reinterpret_cast<const char*>(types + size_t{typecnt} * 6);
  for (uint32_t i = 0; i < typecnt; ++i) {
    const unsigned char* t = types + i * 6;
    const size_t abbr = t[5];
    std::string a = abbr < charcnt ? std::string(chars + abbr, strnlen(chars + abbr, charcnt - abbr)) : "";
    z.types_.push_back({static_cast<int32_t>(be32(t)), t[4] != 0, a});
  }
  for (uint32_t i = 0; i < timecnt; ++i) {
    const int64_t when = timeSize == 8 ? be64(times + size_t{i} * 8) : static_cast<int32_t>(be32(times + size_t{i} * 4));
    if (indexes[i] >= typecnt) return invalidArgument("bad transition type");
    z.transitions_.push_back({when, indexes[i]});
  }
  if (z.transitions_.empty()) z.transitions_.push_back({INT64_MIN, 0});  // a fixed zone, as Go does
  at += need;
  if (version >= '2' && at < size && data[at] == '\n') {
    auto nl = data.find('\n', at + 1);
    if (nl != std::string_view::npos && nl > at + 1) z.extend_ = Rule::parse(data.substr(at + 1, nl - at - 1));
  }
  return z;
}

size_t TimeZone::firstType() const {
  // Go's lookupFirstZone: the zone in force before the first transition.
  bool firstUsed = false;
  for (const auto& t : transitions_) firstUsed = firstUsed || t.type == 0;
  if (!firstUsed) return 0;
  if (!transitions_.empty() && types_[transitions_[0].type].isDst) {
    for (int i = static_cast<int>(transitions_[0].type) - 1; i >= 0; --i) {
      if (!types_[i].isDst) return i;
    }
  }
  for (size_t i = 0; i < types_.size(); ++i) {
    if (!types_[i].isDst) return i;
  }
  return 0;
}

ZonePeriod TimeZone::lookup(int64_t unix) const {
  if (types_.empty()) return {0, false, "UTC", INT64_MIN, INT64_MAX};
  if (transitions_.empty() || unix < transitions_[0].at) {
    const Type& t = types_[firstType()];
    return {t.offset, t.isDst, t.abbreviation, INT64_MIN, transitions_.empty() ? INT64_MAX : transitions_[0].at};
  }
  // The last transition at or before `unix`.
  size_t lo = 0, hi = transitions_.size();
  int64_t end = INT64_MAX;
  while (hi - lo > 1) {
    const size_t m = (lo + hi) / 2;
    if (unix < transitions_[m].at) {
      end = transitions_[m].at;
      hi = m;
    } else {
      lo = m;
    }
  }
  const Type& t = types_[transitions_[lo].type];
  ZonePeriod p{t.offset, t.isDst, t.abbreviation, transitions_[lo].at, end};
  if (lo == transitions_.size() - 1 && extend_) {
    ZonePeriod e;
    if (extend_->lookup(p.start, unix, &e)) return e;
  }
  return p;
}

CivilTime TimeZone::toLocal(int64_t unix) const { return civilFromUnix(unix + lookup(unix).offset); }

int64_t TimeZone::fromLocal(int64_t year, int month, int day, int hour, int minute, int second) const {
  // Normalise as Go's time.Date does: month into year; seconds, minutes and hours into days.
  int64_t m = month - 1;
  year += floorDiv(m, 12);
  m -= floorDiv(m, 12) * 12;
  const int64_t secs = int64_t{hour} * 3600 + int64_t{minute} * 60 + second;
  const int64_t days = daysFromCivil(year, static_cast<int>(m + 1), 1) + (day - 1);
  const int64_t unix = days * kDay + secs;  // the wall time read as if it were UTC
  ZonePeriod p = lookup(unix);
  if (p.offset == 0) return unix;
  const int64_t utc = unix - p.offset;
  if (utc < p.start || utc >= p.end) p = lookup(utc);
  return unix - p.offset;
}

}  // namespace sdb::cron
