// When HttpKubeClient sends a failed request again, and how long it waits first.
//
// The rule (a retry must never apply a write twice):
// - 429 TooManyRequests: retried for every verb. The server refused the request before processing it
//   (kube-apiserver's max-in-flight and priority-and-fairness filters answer 429 up front).
// - Connection refused or unreachable: retried for every verb; the request never left.
// - 5xx, 504, client-side timeouts and connections cut after sending: retried only when the request
//   is replay-safe, because the server may have applied it before the answer was lost:
//     replay-safe:  GET, PUT (a replay carries the same resourceVersion precondition, or is a
//                   last-writer-wins overwrite with the same content), DELETE (a replay finds the
//                   object gone or already terminating; pass a uid precondition to be exact), and
//                   PATCH with merge, strategic-merge or apply bodies (applying one twice gives the
//                   same object);
//     not replay-safe: POST (a create with generateName, or a subresource such as a TokenRequest,
//                   would happen twice) and JSON patch (`add` to a list appends twice).
// - Nothing else is retried (4xx answers are final; a 401 is handled separately by re-reading a
//   rotated token once).
//
// Waits: jittered exponential backoff (half the step plus a random half: initial, 2x, 4x ... up to
// max), but never shorter than the server's Retry-After. A Retry-After longer than
// maxRetryAfterSeconds is not slept through: the 429 surfaces so the caller's own (workqueue)
// backoff takes over instead of holding a worker. Attempts are bounded by maxAttempts.
//
// Contract: pure functions.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "operator/kube/api_error.h"

namespace sdb::kube {

struct RetryOptions {
  int maxAttempts = 5;  // including the first
  std::chrono::milliseconds backoffInitial{200};
  std::chrono::milliseconds backoffMax{5000};
  int maxRetryAfterSeconds = 10;
};

// True when sending the request twice cannot apply it twice (see above).
bool replaySafe(const std::string& method, const std::string& contentType);

// The wait before the next attempt, or nullopt when `error` must surface. `attemptsMade` counts the
// attempts so far (>= 1); `sent` is false when the request provably never reached the server;
// `unitRandom` is uniform in [0, 1) (injected, for tests).
std::optional<std::chrono::milliseconds> retryDelay(const RetryOptions& options, int attemptsMade, const ApiError& error,
                                                    bool replaySafe, bool sent, double unitRandom);

}  // namespace sdb::kube
