#include "e2e/cron/cron_schedule.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

namespace sdb::cron {

namespace {

constexpr uint64_t kStar = uint64_t{1} << 63;

struct Bounds {
  unsigned min, max;
  std::vector<std::string> names;  // names[i] is value min+i... only for months (1..) and weekdays (0..)
  unsigned namesBase = 0;
};

const Bounds kMinutes{0, 59, {}};
const Bounds kHours{0, 23, {}};
const Bounds kDom{1, 31, {}};
const Bounds kMonths{1, 12, {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}, 1};
const Bounds kDow{0, 6, {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}, 0};

uint64_t bits(unsigned min, unsigned max, unsigned step) {
  uint64_t b = 0;
  if (step == 1) return ~(~uint64_t{0} << (max + 1)) & (~uint64_t{0} << min);
  for (unsigned i = min; i <= max; i += step) b |= uint64_t{1} << i;
  return b;
}
uint64_t all(const Bounds& r) { return bits(r.min, r.max, 1) | kStar; }

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

Result<unsigned> mustParseInt(const std::string& expr) {
  // strconv.Atoi: optional sign, decimal digits.
  size_t i = (!expr.empty() && (expr[0] == '+' || expr[0] == '-')) ? 1 : 0;
  if (i == expr.size()) return invalidArgument("failed to parse int from " + expr + ": strconv.Atoi: parsing \"" + expr + "\": invalid syntax");
  long long v = 0;
  for (size_t j = i; j < expr.size(); ++j) {
    if (expr[j] < '0' || expr[j] > '9') {
      return invalidArgument("failed to parse int from " + expr + ": strconv.Atoi: parsing \"" + expr + "\": invalid syntax");
    }
    v = v * 10 + (expr[j] - '0');
    if (v > 1000000000) return invalidArgument("failed to parse int from " + expr + ": strconv.Atoi: parsing \"" + expr + "\": value out of range");
  }
  if (expr[0] == '-') v = -v;
  if (v < 0) return invalidArgument("negative number (" + std::to_string(v) + ") not allowed: " + expr);
  return static_cast<unsigned>(v);
}

Result<unsigned> parseIntOrName(const std::string& expr, const Bounds& r) {
  std::string lower = expr;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (size_t i = 0; i < r.names.size(); ++i) {
    if (r.names[i] == lower) return static_cast<unsigned>(i + r.namesBase);
  }
  return mustParseInt(expr);
}

Result<uint64_t> getRange(const std::string& expr, const Bounds& r) {
  const auto rangeAndStep = split(expr, '/');
  const auto lowAndHigh = split(rangeAndStep[0], '-');
  const bool singleDigit = lowAndHigh.size() == 1;
  unsigned start = 0, end = 0, step = 1;
  uint64_t extra = 0;
  if (lowAndHigh[0] == "*" || lowAndHigh[0] == "?") {
    start = r.min;
    end = r.max;
    extra = kStar;
  } else {
    auto s = parseIntOrName(lowAndHigh[0], r);
    if (!s.ok()) return s.error();
    start = *s;
    if (lowAndHigh.size() == 1) {
      end = start;
    } else if (lowAndHigh.size() == 2) {
      auto e = parseIntOrName(lowAndHigh[1], r);
      if (!e.ok()) return e.error();
      end = *e;
    } else {
      return invalidArgument("too many hyphens: " + expr);
    }
  }
  if (rangeAndStep.size() == 2) {
    auto st = mustParseInt(rangeAndStep[1]);
    if (!st.ok()) return st.error();
    step = *st;
    if (singleDigit) end = r.max;  // "N/step" means "N-max/step"
    if (step > 1) extra = 0;
  } else if (rangeAndStep.size() > 2) {
    return invalidArgument("too many slashes: " + expr);
  }
  if (start < r.min) {
    return invalidArgument("beginning of range (" + std::to_string(start) + ") below minimum (" + std::to_string(r.min) + "): " + expr);
  }
  if (end > r.max) {
    return invalidArgument("end of range (" + std::to_string(end) + ") above maximum (" + std::to_string(r.max) + "): " + expr);
  }
  if (start > end) {
    return invalidArgument("beginning of range (" + std::to_string(start) + ") beyond end of range (" + std::to_string(end) + "): " + expr);
  }
  if (step == 0) return invalidArgument("step of range should be a positive number: " + expr);
  return bits(start, end, step) | extra;
}

Result<uint64_t> getField(const std::string& field, const Bounds& r) {
  uint64_t b = 0;
  for (const auto& expr : split(field, ',')) {
    auto v = getRange(expr, r);
    if (!v.ok()) return v.error();
    b |= *v;
  }
  return b;
}

// Go's time.ParseDuration, for "@every": a sequence of decimal numbers with units.
Result<double> parseGoDuration(const std::string& s) {
  const std::string bad = "time: invalid duration \"" + s + "\"";
  std::string str = s;
  double sign = 1;
  if (!str.empty() && (str[0] == '-' || str[0] == '+')) {
    sign = str[0] == '-' ? -1 : 1;
    str = str.substr(1);
  }
  if (str == "0") return 0.0;
  if (str.empty()) return invalidArgument(bad);
  double total = 0;
  size_t i = 0;
  while (i < str.size()) {
    size_t j = i;
    while (j < str.size() && ((str[j] >= '0' && str[j] <= '9') || str[j] == '.')) ++j;
    if (j == i) return invalidArgument(bad);
    double v = 0;
    try {
      v = std::stod(str.substr(i, j - i));
    } catch (...) {
      return invalidArgument(bad);
    }
    size_t k = j;
    while (k < str.size() && !((str[k] >= '0' && str[k] <= '9') || str[k] == '.')) ++k;
    const std::string unit = str.substr(j, k - j);
    double scale = 0;
    if (unit == "ns") scale = 1e-9;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") scale = 1e-6;
    else if (unit == "ms") scale = 1e-3;
    else if (unit == "s") scale = 1;
    else if (unit == "m") scale = 60;
    else if (unit == "h") scale = 3600;
    else if (unit.empty()) return invalidArgument("time: missing unit in duration \"" + s + "\"");
    else return invalidArgument("time: unknown unit \"" + unit + "\" in duration \"" + s + "\"");
    total += v * scale;
    i = k;
  }
  return sign * total;
}

}  // namespace

Result<Schedule> Schedule::parse(const std::string& specIn) {
  if (specIn.empty()) return invalidArgument("empty spec string");
  if (specIn.rfind("TZ=", 0) == 0 || specIn.rfind("CRON_TZ=", 0) == 0) {
    return invalidArgument("cannot use TZ or CRON_TZ in schedule, use timeZone field instead");
  }
  Schedule s;
  if (specIn[0] == '@') {
    const std::string& d = specIn;
    s.second_ = 1;
    s.minute_ = 1;
    s.hour_ = 1;
    s.dom_ = all(kDom);
    s.month_ = all(kMonths);
    s.dow_ = all(kDow);
    if (d == "@yearly" || d == "@annually") {
      s.dom_ = 1 << 1;
      s.month_ = 1 << 1;
    } else if (d == "@monthly") {
      s.dom_ = 1 << 1;
    } else if (d == "@weekly") {
      s.dow_ = 1 << 0;
    } else if (d == "@daily" || d == "@midnight") {
    } else if (d == "@hourly") {
      s.hour_ = all(kHours);
    } else if (d.rfind("@every ", 0) == 0) {
      auto dur = parseGoDuration(d.substr(7));
      if (!dur.ok()) return invalidArgument("failed to parse duration " + d + ": " + dur.error().message);
      s.everySeconds_ = std::max<int64_t>(1, static_cast<int64_t>(std::floor(*dur)));
    } else {
      return invalidArgument("unrecognized descriptor: " + d);
    }
    return s;
  }
  std::istringstream in(specIn);
  std::vector<std::string> fields;
  for (std::string f; in >> f;) fields.push_back(f);
  if (fields.size() != 5) {
    std::string joined;
    for (size_t i = 0; i < fields.size(); ++i) joined += (i ? " " : "") + fields[i];
    return invalidArgument("expected exactly 5 fields, found " + std::to_string(fields.size()) + ": [" + joined + "]");
  }
  const Bounds* bounds[] = {&kMinutes, &kHours, &kDom, &kMonths, &kDow};
  uint64_t* targets[] = {&s.minute_, &s.hour_, &s.dom_, &s.month_, &s.dow_};
  for (int i = 0; i < 5; ++i) {
    auto b = getField(fields[i], *bounds[i]);
    if (!b.ok()) return b.error();
    *targets[i] = *b;
  }
  return s;
}

bool Schedule::dayMatches(const CivilTime& t) const {
  const bool domMatch = (uint64_t{1} << t.day) & dom_;
  const bool dowMatch = (uint64_t{1} << t.weekday) & dow_;
  if ((dom_ & kStar) || (dow_ & kStar)) return domMatch && dowMatch;
  return domMatch || dowMatch;
}

std::optional<int64_t> Schedule::next(int64_t after, const TimeZone& zone) const {
  if (everySeconds_ > 0) return after + everySeconds_;
  int64_t t = after + 1;
  bool added = false;
  CivilTime lt = zone.toLocal(t);
  const int64_t yearLimit = lt.year + 5;
  auto set = [&](int64_t v) {
    t = v;
    lt = zone.toLocal(t);
  };
wrap:
  if (lt.year > yearLimit) return std::nullopt;
  while (!((uint64_t{1} << lt.month) & month_)) {
    if (!added) {
      added = true;
      set(zone.fromLocal(lt.year, lt.month, 1, 0, 0, 0));
    }
    set(zone.fromLocal(lt.year, lt.month + 1, lt.day, lt.hour, lt.minute, lt.second));
    if (lt.month == 1) goto wrap;
  }
  while (!dayMatches(lt)) {
    if (!added) {
      added = true;
      set(zone.fromLocal(lt.year, lt.month, lt.day, 0, 0, 0));
    }
    set(zone.fromLocal(lt.year, lt.month, lt.day + 1, lt.hour, lt.minute, lt.second));
    // Midnight may have moved by DST; put it back.
    if (lt.hour != 0) {
      if (lt.hour > 12) set(t + int64_t{24 - lt.hour} * 3600);
      else set(t - int64_t{lt.hour} * 3600);
    }
    if (lt.day == 1) goto wrap;
  }
  while (!((uint64_t{1} << lt.hour) & hour_)) {
    if (!added) {
      added = true;
      set(zone.fromLocal(lt.year, lt.month, lt.day, lt.hour, 0, 0));
    }
    set(t + 3600);
    if (lt.hour == 0) goto wrap;
  }
  while (!((uint64_t{1} << lt.minute) & minute_)) {
    if (!added) {
      added = true;
      set(t - (((t % 60) + 60) % 60));
    }
    set(t + 60);
    if (lt.minute == 0) goto wrap;
  }
  while (!((uint64_t{1} << lt.second) & second_)) {
    added = true;
    set(t + 1);
    if (lt.second == 0) goto wrap;
  }
  return t;
}

std::optional<std::chrono::system_clock::time_point> Schedule::next(std::chrono::system_clock::time_point after,
                                                                    const TimeZone& zone) const {
  const int64_t secs = std::chrono::floor<std::chrono::seconds>(after.time_since_epoch()).count();
  auto n = next(secs, zone);
  if (!n) return std::nullopt;
  return std::chrono::system_clock::time_point(std::chrono::seconds(*n));
}

}  // namespace sdb::cron
