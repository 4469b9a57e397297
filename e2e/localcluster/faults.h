// Faults on demand for the local API server, to test clients under the failures real clusters have:
// a rate of 500 and 429 answers (429s carry Retry-After), added latency, and watches cut every N
// seconds in the middle of an event's line. Set by flags at start and at run time through
// `GET/POST /admin/faults` (admin token only) with the same settings as JSON:
//
//   {"errorRate": 0.1, "tooManyRequestsRate": 0.05, "retryAfterSeconds": 1, "latencyMs": 200,
//    "watchCutSeconds": 3, "match": {"userAgent": "leader-a", "path": "/leases"}}
//
// POST replaces the whole setting (a missing field is off); `{}` turns every fault off. A new cut
// period applies to watches already open too, counted from their start. `match`
// narrows the faults to requests whose User-Agent and path contain the given substrings, so one
// client among several can be slowed. /admin/*, /healthz, /readyz and /livez are never faulted.
// GET answers the settings plus `injected`: how many of each fault happened so far (watchCuts, and
// watchCutEvents: cuts that dropped half of a real event rather than of a made-up line).
//
// Contract: FaultInjector is thread-safe; its randomness is seeded (--fault-seed) for repeatable
// runs. parseFaultSettings() errors name the field.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>

#include "e2e/localcluster/http_server.h"
#include "operator/core/json.h"
#include "operator/core/result.h"

namespace sdb::localcluster {

struct FaultSettings {
  double errorRate = 0;            // fraction of matching requests answered 500 InternalError
  double tooManyRequestsRate = 0;  // fraction answered 429 TooManyRequests with Retry-After
  int retryAfterSeconds = 1;
  int latencyMs = 0;               // added before a matching request is handled
  int watchCutSeconds = 0;         // a matching watch is cut after this long, mid-line
  std::string matchUserAgent, matchPath;

  bool any() const { return errorRate > 0 || tooManyRequestsRate > 0 || latencyMs > 0 || watchCutSeconds > 0; }
};

Result<FaultSettings> parseFaultSettings(const Json& j);
Json faultSettingsToJson(const FaultSettings& s);

// What happens to one request.
struct FaultDecision {
  int latencyMs = 0;
  int status = 0;  // 0: handle normally; 500 or 429: answer that
  int retryAfterSeconds = 0;
};

class FaultInjector {
 public:
  explicit FaultInjector(FaultSettings initial = {}, uint64_t seed = std::random_device{}());
  FaultSettings settings() const;
  void set(FaultSettings s);
  // Decides, without sleeping; the caller applies the latency.
  FaultDecision decide(const HttpRequest& request);
  // The cut period that applies now to an open watch (settings may change while it streams).
  int watchCutSeconds(const std::string& userAgent, const std::string& path) const;
  void countWatchCut(bool droppedAnEvent) {
    ++cuts_;
    if (droppedAnEvent) ++cutEvents_;
  }
  // The admin endpoint: GET and POST /admin/faults.
  HttpResponse serveAdmin(const HttpRequest& request);

 private:
  mutable std::mutex mu_;
  FaultSettings settings_;
  std::mt19937_64 rng_;
  std::atomic<uint64_t> errors_{0}, throttled_{0}, delayed_{0}, cuts_{0}, cutEvents_{0};
};

}  // namespace sdb::localcluster
