#include "operator/backup/retention.h"

#include <algorithm>
#include <cstdio>

namespace sdb::backup {
namespace {

using std::chrono::system_clock;

std::string twoDigits(unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02u", v);
  return buf;
}

std::chrono::year_month_day civilDay(system_clock::time_point t) {
  return std::chrono::year_month_day{std::chrono::floor<std::chrono::days>(t)};
}

std::string dayBucket(system_clock::time_point t) {
  const auto d = civilDay(t);
  return std::to_string(static_cast<int>(d.year())) + "-" + twoDigits(static_cast<unsigned>(d.month())) + "-" +
         twoDigits(static_cast<unsigned>(d.day()));
}

std::string monthBucket(system_clock::time_point t) {
  const auto d = civilDay(t);
  return std::to_string(static_cast<int>(d.year())) + "-" + twoDigits(static_cast<unsigned>(d.month()));
}

// ISO 8601 week: weeks start on Monday, and week 1 is the one with the year's first Thursday.
std::string isoWeekBucket(system_clock::time_point t) {
  using namespace std::chrono;
  const sys_days day = floor<days>(t);
  const unsigned isoWeekday = weekday{day}.iso_encoding();  // Monday 1 .. Sunday 7
  const sys_days thursday = day + days{4 - static_cast<int>(isoWeekday)};
  const year isoYear = year_month_day{thursday}.year();
  const sys_days firstOfYear = sys_days{isoYear / January / 1};
  const int week = static_cast<int>((thursday - firstOfYear).count() / 7) + 1;
  return std::to_string(static_cast<int>(isoYear)) + "-W" + twoDigits(static_cast<unsigned>(week));
}

// Keeps the newest backup of each of the newest `count` buckets that hold a backup.
void keepPerBucket(std::vector<RetentionDecision>& dated, int count, const char* rule,
                   std::string (*bucketOf)(system_clock::time_point)) {
  std::string last;
  int kept = 0;
  for (auto& d : dated) {
    if (kept >= count) return;
    const std::string bucket = bucketOf(*d.time);
    if (bucket == last) continue;
    last = bucket;
    d.reasons.push_back(std::string(rule) + " " + bucket);
    ++kept;
  }
}

}  // namespace

std::string RetentionRules::describe() const {
  std::string out;
  auto add = [&](const std::string& part) { out += (out.empty() ? "" : ",") + part; };
  if (keepLast) add("keepLast=" + std::to_string(keepLast));
  if (keepDaily) add("keepDaily=" + std::to_string(keepDaily));
  if (keepWeekly) add("keepWeekly=" + std::to_string(keepWeekly));
  if (keepMonthly) add("keepMonthly=" + std::to_string(keepMonthly));
  if (maxAge) add("maxAge=" + std::to_string(maxAge->count()) + "s");
  return out.empty() ? "none (keep everything)" : out;
}

std::optional<system_clock::time_point> backupIdTime(const std::string& id) {
  // YYYYMMDDTHHMMSSZ, then '-' or the end.
  if (id.size() < 16 || id[8] != 'T' || id[15] != 'Z' || (id.size() > 16 && id[16] != '-')) return std::nullopt;
  int v[6];
  const int offsets[6] = {0, 4, 6, 9, 11, 13};
  const int widths[6] = {4, 2, 2, 2, 2, 2};
  for (int i = 0; i < 6; ++i) {
    int n = 0;
    for (int k = 0; k < widths[i]; ++k) {
      const char c = id[offsets[i] + k];
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + (c - '0');
    }
    v[i] = n;
  }
  using namespace std::chrono;
  const year_month_day ymd{year{v[0]}, month{static_cast<unsigned>(v[1])}, day{static_cast<unsigned>(v[2])}};
  if (!ymd.ok() || v[3] > 23 || v[4] > 59 || v[5] > 60) return std::nullopt;
  return sys_days{ymd} + hours{v[3]} + minutes{v[4]} + seconds{v[5]};
}

RetentionPlan planRetention(const std::vector<std::string>& ids, const RetentionRules& rules,
                            system_clock::time_point now) {
  std::vector<RetentionDecision> all;
  for (const auto& id : ids) all.push_back({id, backupIdTime(id), false, {}});
  // Newest first: by time, then by id (two backups in one second).
  std::sort(all.begin(), all.end(), [](const RetentionDecision& a, const RetentionDecision& b) {
    if (a.time && b.time && *a.time != *b.time) return *a.time > *b.time;
    if (a.time.has_value() != b.time.has_value()) return a.time.has_value();
    return a.id > b.id;
  });
  std::vector<RetentionDecision> dated, undated;
  for (auto& d : all) (d.time ? dated : undated).push_back(std::move(d));
  for (auto& d : undated) d.reasons.push_back("undated id");
  if (rules.empty()) {
    for (auto& d : dated) d.reasons.push_back("no retention rule");
  } else {
    for (int i = 0; i < rules.keepLast && i < static_cast<int>(dated.size()); ++i) {
      dated[i].reasons.push_back("last " + std::to_string(i + 1));
    }
    keepPerBucket(dated, rules.keepDaily, "daily", dayBucket);
    keepPerBucket(dated, rules.keepWeekly, "weekly", isoWeekBucket);
    keepPerBucket(dated, rules.keepMonthly, "monthly", monthBucket);
    if (rules.maxAge) {
      for (auto& d : dated) {
        if (now - *d.time < *rules.maxAge) d.reasons.push_back("maxAge");
      }
    }
  }
  if (!dated.empty()) dated.front().reasons.insert(dated.front().reasons.begin(), "newest");
  RetentionPlan plan;
  for (auto* group : {&dated, &undated}) {
    for (auto& d : *group) {
      d.keep = !d.reasons.empty();
      (d.keep ? plan.keep : plan.remove).push_back(d.id);
      plan.decisions.push_back(std::move(d));
    }
  }
  return plan;
}

}  // namespace sdb::backup
