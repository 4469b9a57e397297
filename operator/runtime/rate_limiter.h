// Rate limiters for the workqueue, after client-go's workqueue.DefaultControllerRateLimiter():
// per-item exponential backoff (5 ms doubling to a 1000 s cap) combined with an overall token
// bucket (10 qps, burst 100). `when(key)` returns how long the key must wait before it is
// processed again; `forget(key)` resets its backoff after a success.
//
// Contract: every limiter is thread-safe. Time comes from an injected Clock (FakeClock in tests).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "operator/core/clock.h"

namespace sdb::runtime {

using Duration = std::chrono::nanoseconds;

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  virtual Duration when(const std::string& key) = 0;
  virtual void forget(const std::string& key) = 0;
  virtual int numRequeues(const std::string& key) = 0;
};

struct ExponentialBackoffOptions {
  Duration base = std::chrono::milliseconds(5);
  Duration cap = std::chrono::seconds(1000);  // about 16.7 minutes
};

// base * 2^failures, capped.
class ItemExponentialRateLimiter final : public RateLimiter {
 public:
  explicit ItemExponentialRateLimiter(ExponentialBackoffOptions options = {}) : options_(options) {}
  Duration when(const std::string& key) override;
  void forget(const std::string& key) override;
  int numRequeues(const std::string& key) override;

 private:
  ExponentialBackoffOptions options_;
  std::mutex mu_;
  std::map<std::string, int> failures_;
};

struct TokenBucketOptions {
  double qps = 10;
  int burst = 100;
};

// An overall limit shared by all keys: each when() reserves one token and returns the wait until
// that token exists (like golang.org/x/time/rate's Reserve().Delay()).
class TokenBucketRateLimiter final : public RateLimiter {
 public:
  TokenBucketRateLimiter(TokenBucketOptions options, Clock& clock);
  Duration when(const std::string& key) override;
  void forget(const std::string&) override {}
  int numRequeues(const std::string&) override { return 0; }

 private:
  TokenBucketOptions options_;
  Clock& clock_;
  std::mutex mu_;
  double tokens_;
  std::chrono::steady_clock::time_point last_;
};

// The maximum of two limiters' delays (client-go's MaxOfRateLimiter).
class MaxOfRateLimiter final : public RateLimiter {
 public:
  MaxOfRateLimiter(std::unique_ptr<RateLimiter> a, std::unique_ptr<RateLimiter> b) : a_(std::move(a)), b_(std::move(b)) {}
  Duration when(const std::string& key) override;
  void forget(const std::string& key) override;
  int numRequeues(const std::string& key) override;

 private:
  std::unique_ptr<RateLimiter> a_, b_;
};

// 5 ms..1000 s per item, max'ed with 10 qps / burst 100 overall.
std::unique_ptr<RateLimiter> defaultControllerRateLimiter(Clock& clock);

}  // namespace sdb::runtime
