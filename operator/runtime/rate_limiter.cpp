#include "operator/runtime/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace sdb::runtime {

Duration ItemExponentialRateLimiter::when(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  int exp = failures_[key]++;
  // Compute in double to avoid overflow, then cap.
  double ns = static_cast<double>(options_.base.count()) * std::pow(2.0, std::min(exp, 62));
  if (ns >= static_cast<double>(options_.cap.count())) return options_.cap;
  return Duration(static_cast<int64_t>(ns));
}

void ItemExponentialRateLimiter::forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.erase(key);
}

int ItemExponentialRateLimiter::numRequeues(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

TokenBucketRateLimiter::TokenBucketRateLimiter(TokenBucketOptions options, Clock& clock)
    : options_(options), clock_(clock), tokens_(options.burst), last_(clock.monotonic()) {}

Duration TokenBucketRateLimiter::when(const std::string&) {
  std::lock_guard<std::mutex> lock(mu_);
  auto now = clock_.monotonic();
  if (now > last_) {
    double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min<double>(options_.burst, tokens_ + elapsed * options_.qps);
    last_ = now;
  }
  tokens_ -= 1;
  if (tokens_ >= 0) return Duration::zero();
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(-tokens_ / options_.qps));
}

Duration MaxOfRateLimiter::when(const std::string& key) { return std::max(a_->when(key), b_->when(key)); }
void MaxOfRateLimiter::forget(const std::string& key) {
  a_->forget(key);
  b_->forget(key);
}
int MaxOfRateLimiter::numRequeues(const std::string& key) {
  return std::max(a_->numRequeues(key), b_->numRequeues(key));
}

std::unique_ptr<RateLimiter> defaultControllerRateLimiter(Clock& clock) {
  return std::make_unique<MaxOfRateLimiter>(std::make_unique<ItemExponentialRateLimiter>(),
                                            std::make_unique<TokenBucketRateLimiter>(TokenBucketOptions{}, clock));
}

}  // namespace sdb::runtime
