#include "operator/core/clock.h"

#include <cstdio>
#include <ctime>
#include <thread>

namespace sdb {

std::chrono::system_clock::time_point SystemClock::now() const { return std::chrono::system_clock::now(); }
std::chrono::steady_clock::time_point SystemClock::monotonic() const { return std::chrono::steady_clock::now(); }
void SystemClock::sleepFor(std::chrono::nanoseconds d) { std::this_thread::sleep_for(d); }
SystemClock& SystemClock::instance() {
  static SystemClock clock;
  return clock;
}

FakeClock::FakeClock(std::chrono::system_clock::time_point start) : wall_(start) {}
std::chrono::system_clock::time_point FakeClock::now() const {
  std::lock_guard<std::mutex> lock(mu_);
  return wall_;
}
std::chrono::steady_clock::time_point FakeClock::monotonic() const {
  std::lock_guard<std::mutex> lock(mu_);
  return mono_;
}
void FakeClock::advance(std::chrono::nanoseconds d) {
  std::lock_guard<std::mutex> lock(mu_);
  wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
  mono_ += std::chrono::duration_cast<std::chrono::steady_clock::duration>(d);
}

std::string formatRfc3339(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool parseRfc3339(const std::string& s, std::chrono::system_clock::time_point* out) {
  int y, mo, d, h, mi, sec;
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &consumed) != 6) return false;
  size_t i = static_cast<size_t>(consumed);
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  }
  long offset = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh, om;
    if (std::sscanf(s.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2) return false;
    offset = (oh * 3600L + om * 60L) * (s[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return false;
  }
  if (i != s.size()) return false;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  std::time_t t = timegm(&tm);
  *out = std::chrono::system_clock::from_time_t(t - offset);
  return true;
}

}  // namespace sdb
