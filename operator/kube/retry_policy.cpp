#include "operator/kube/retry_policy.h"

#include <algorithm>

namespace sdb::kube {

bool replaySafe(const std::string& method, const std::string& contentType) {
  if (method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE") return true;
  if (method == "PATCH") return contentType.rfind("application/json-patch+json", 0) != 0;
  return false;  // POST and anything unknown
}

std::optional<std::chrono::milliseconds> retryDelay(const RetryOptions& o, int attemptsMade, const ApiError& error,
                                                    bool safe, bool sent, double unitRandom) {
  if (attemptsMade >= o.maxAttempts) return std::nullopt;
  bool retry = false;
  if (error.is(ApiErrorReason::kTooManyRequests)) {
    retry = true;
  } else if (!sent && error.is(ApiErrorReason::kNetwork)) {
    retry = true;
  } else if (safe && (error.is(ApiErrorReason::kServerError) || error.is(ApiErrorReason::kTimeout) ||
                      error.is(ApiErrorReason::kNetwork))) {
    retry = true;
  }
  if (!retry) return std::nullopt;
  if (error.retryAfterSeconds && *error.retryAfterSeconds > o.maxRetryAfterSeconds) return std::nullopt;
  // Step k (k = attemptsMade): initial * 2^(k-1), capped; wait half of it plus a random half.
  int64_t step = o.backoffInitial.count();
  for (int i = 1; i < attemptsMade && step < o.backoffMax.count(); ++i) step *= 2;
  step = std::min<int64_t>(step, o.backoffMax.count());
  unitRandom = std::clamp(unitRandom, 0.0, 1.0);
  auto wait = std::chrono::milliseconds(step / 2 + static_cast<int64_t>(static_cast<double>(step / 2) * unitRandom));
  if (error.retryAfterSeconds) wait = std::max<std::chrono::milliseconds>(wait, std::chrono::seconds(*error.retryAfterSeconds));
  return wait;
}

}  // namespace sdb::kube
