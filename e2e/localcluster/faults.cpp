#include "e2e/localcluster/faults.h"

#include "e2e/localcluster/responses.h"
#include "operator/kube/api_error.h"

namespace sdb::localcluster {

namespace {

Result<double> rate(const Json& j, const char* key) {
  if (!j.contains(key)) return 0.0;
  if (!j[key].is_number()) return invalidArgument(std::string(key) + ": must be a number between 0 and 1");
  double v = j[key].get<double>();
  if (v < 0 || v > 1) return invalidArgument(std::string(key) + ": must be between 0 and 1, got " + j[key].dump());
  return v;
}

Result<int> nonNegative(const Json& j, const char* key, int fallback, int max) {
  if (!j.contains(key)) return fallback;
  if (!j[key].is_number_integer()) return invalidArgument(std::string(key) + ": must be a whole number");
  int64_t v = j[key].get<int64_t>();
  if (v < 0 || v > max) {
    return invalidArgument(std::string(key) + ": must be between 0 and " + std::to_string(max) + ", got " + j[key].dump());
  }
  return static_cast<int>(v);
}

bool exempt(const std::string& path) {
  return path.rfind("/admin/", 0) == 0 || path == "/healthz" || path == "/readyz" || path == "/livez";
}

}  // namespace

Result<FaultSettings> parseFaultSettings(const Json& j) {
  if (!j.is_object()) return invalidArgument("fault settings: must be a JSON object");
  static const char* known[] = {"errorRate", "tooManyRequestsRate", "retryAfterSeconds", "latencyMs", "watchCutSeconds",
                                "match", "injected"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool ok = false;
    for (const char* k : known) ok = ok || it.key() == k;
    if (!ok) return invalidArgument(it.key() + ": unknown field");
  }
  FaultSettings s;
  auto e = rate(j, "errorRate");
  if (!e.ok()) return e.error();
  auto t = rate(j, "tooManyRequestsRate");
  if (!t.ok()) return t.error();
  if (*e + *t > 1) return invalidArgument("errorRate + tooManyRequestsRate: must not exceed 1");
  auto ra = nonNegative(j, "retryAfterSeconds", 1, 3600);
  if (!ra.ok()) return ra.error();
  auto lat = nonNegative(j, "latencyMs", 0, 600000);
  if (!lat.ok()) return lat.error();
  auto cut = nonNegative(j, "watchCutSeconds", 0, 86400);
  if (!cut.ok()) return cut.error();
  s.errorRate = *e;
  s.tooManyRequestsRate = *t;
  s.retryAfterSeconds = *ra;
  s.latencyMs = *lat;
  s.watchCutSeconds = *cut;
  if (j.contains("match")) {
    const Json& m = j["match"];
    if (!m.is_object()) return invalidArgument("match: must be an object with userAgent and/or path");
    for (auto it = m.begin(); it != m.end(); ++it) {
      if (it.key() != "userAgent" && it.key() != "path") return invalidArgument("match." + it.key() + ": unknown field");
      if (!it.value().is_string()) return invalidArgument("match." + it.key() + ": must be a string");
    }
    s.matchUserAgent = m.value("userAgent", "");
    s.matchPath = m.value("path", "");
  }
  return s;
}

Json faultSettingsToJson(const FaultSettings& s) {
  Json j = {{"errorRate", s.errorRate}, {"tooManyRequestsRate", s.tooManyRequestsRate},
            {"retryAfterSeconds", s.retryAfterSeconds}, {"latencyMs", s.latencyMs}, {"watchCutSeconds", s.watchCutSeconds}};
  if (!s.matchUserAgent.empty() || !s.matchPath.empty()) {
    j["match"] = Json::object();
    if (!s.matchUserAgent.empty()) j["match"]["userAgent"] = s.matchUserAgent;
    if (!s.matchPath.empty()) j["match"]["path"] = s.matchPath;
  }
  return j;
}

FaultInjector::FaultInjector(FaultSettings initial, uint64_t seed) : settings_(std::move(initial)), rng_(seed) {}

FaultSettings FaultInjector::settings() const {
  std::lock_guard<std::mutex> lock(mu_);
  return settings_;
}

void FaultInjector::set(FaultSettings s) {
  std::lock_guard<std::mutex> lock(mu_);
  settings_ = std::move(s);
}

FaultDecision FaultInjector::decide(const HttpRequest& req) {
  FaultDecision d;
  if (exempt(req.path)) return d;
  std::lock_guard<std::mutex> lock(mu_);
  const FaultSettings& s = settings_;
  if (!s.any()) return d;
  if (!s.matchUserAgent.empty() && req.header("user-agent").find(s.matchUserAgent) == std::string::npos) return d;
  if (!s.matchPath.empty() && req.path.find(s.matchPath) == std::string::npos) return d;
  d.latencyMs = s.latencyMs;
  if (d.latencyMs > 0) ++delayed_;
  double roll = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  if (roll < s.errorRate) {
    d.status = 500;
    ++errors_;
  } else if (roll < s.errorRate + s.tooManyRequestsRate) {
    d.status = 429;
    d.retryAfterSeconds = s.retryAfterSeconds;
    ++throttled_;
  }
  return d;
}

int FaultInjector::watchCutSeconds(const std::string& userAgent, const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  const FaultSettings& s = settings_;
  if (s.watchCutSeconds <= 0) return 0;
  if (!s.matchUserAgent.empty() && userAgent.find(s.matchUserAgent) == std::string::npos) return 0;
  if (!s.matchPath.empty() && path.find(s.matchPath) == std::string::npos) return 0;
  return s.watchCutSeconds;
}

HttpResponse FaultInjector::serveAdmin(const HttpRequest& req) {
  if (req.path != "/admin/faults") {
    return responses::json(404, kube::toStatusJson(kube::fromHttpResponse(404, "", std::nullopt)));
  }
  if (req.method == "POST" || req.method == "PUT") {
    auto body = parseJson(req.body, "fault settings");
    if (!body.ok()) return responses::json(400, kube::toStatusJson(kube::badRequestError(body.error().message)));
    auto parsed = parseFaultSettings(*body);
    if (!parsed.ok()) return responses::json(400, kube::toStatusJson(kube::badRequestError("fault settings: " + parsed.error().message)));
    set(*parsed);
  } else if (req.method != "GET") {
    kube::ApiError e = kube::fromHttpResponse(405, "");
    e.message = "GET or POST /admin/faults";
    return responses::json(405, kube::toStatusJson(e));
  }
  Json out = faultSettingsToJson(settings());
  out["injected"] = {{"errors", errors_.load()}, {"tooManyRequests", throttled_.load()}, {"delayed", delayed_.load()},
                     {"watchCuts", cuts_.load()}, {"watchCutEvents", cutEvents_.load()}};
  return responses::json(200, out);
}

}  // namespace sdb::localcluster
