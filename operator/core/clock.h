// Injected time, so controllers, backoff and retention are testable with a fake clock.
//
// Contract: Clock is an interface; SystemClock reads the real clocks and is thread-safe.
// FakeClock is thread-safe; sleep() on it advances its own time instead of blocking.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

namespace sdb {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, for timestamps written to the API (RFC 3339) and schedules.
  virtual std::chrono::system_clock::time_point now() const = 0;
  // Monotonic time, for timeouts and backoff.
  virtual std::chrono::steady_clock::time_point monotonic() const = 0;
  virtual void sleepFor(std::chrono::nanoseconds d) = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override;
  std::chrono::steady_clock::time_point monotonic() const override;
  void sleepFor(std::chrono::nanoseconds d) override;
  static SystemClock& instance();
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::chrono::system_clock::time_point start = std::chrono::system_clock::time_point{});
  std::chrono::system_clock::time_point now() const override;
  std::chrono::steady_clock::time_point monotonic() const override;
  void sleepFor(std::chrono::nanoseconds d) override { advance(d); }
  void advance(std::chrono::nanoseconds d);

 private:
  mutable std::mutex mu_;
  std::chrono::system_clock::time_point wall_;
  std::chrono::steady_clock::time_point mono_{};
};

// "2026-11-25T03:15:00Z" (seconds precision, UTC), as Kubernetes writes metav1.Time.
std::string formatRfc3339(std::chrono::system_clock::time_point t);
// Parses the RFC 3339 forms Kubernetes emits (Z or numeric offset, optional fraction).
bool parseRfc3339(const std::string& s, std::chrono::system_clock::time_point* out);

}  // namespace sdb
