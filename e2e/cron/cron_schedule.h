// CronJob schedules: the standard 5-field cron syntax as Kubernetes accepts it (it uses
// github.com/robfig/cron/v3's ParseStandard), and the next-run computation in a time zone.
//
// Syntax: minute hour day-of-month month day-of-week, each a comma list of `*`, `?`, `N`, `N-M`,
// with an optional `/step` (`N/step` means N to the field's maximum). Months JAN-DEC and weekdays
// SUN-SAT by name (case-insensitive); weekdays 0-6. Descriptors @yearly @annually @monthly
// @weekly @daily @midnight @hourly and `@every <duration>` (Go duration syntax, at least 1s).
// When day-of-month or day-of-week is `*`/`?`, a day must match both fields; otherwise either.
// Error texts are robfig's, since kube-apiserver puts them in its 422 answers.
//
// next() follows robfig's SpecSchedule.Next exactly, including its DST behaviour: hours advance in
// absolute time, so a wall time skipped by a spring-forward gap does not run that day, and a wall
// time repeated by a fall-back overlap runs twice.
//
// Contract: Schedule is an immutable value; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "e2e/cron/time_zone.h"
#include "operator/core/result.h"

namespace sdb::cron {

class Schedule {
 public:
  static Result<Schedule> parse(const std::string& spec);

  // The first activation strictly after `after` (whole seconds), or nullopt when none exists in
  // the next five years (e.g. "0 0 30 2 *").
  std::optional<int64_t> next(int64_t afterUnix, const TimeZone& zone) const;
  std::optional<std::chrono::system_clock::time_point> next(std::chrono::system_clock::time_point after,
                                                            const TimeZone& zone) const;

 private:
  bool dayMatches(const CivilTime& t) const;

  uint64_t second_ = 1, minute_ = 0, hour_ = 0, dom_ = 0, month_ = 0, dow_ = 0;
  int64_t everySeconds_ = 0;  // > 0 for "@every"
};

}  // namespace sdb::cron
