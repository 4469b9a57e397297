#include "operator/kube/http_client.h"

#include <atomic>
#include <cstring>

#include "operator/core/log.h"
#include "operator/kube/watch_decoder.h"

namespace sdb::kube {

std::string percentEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

std::string resourcePath(const ResourceRef& r, const std::string& ns, const std::string& name,
                         const std::string& subresource) {
  std::string p = r.group.empty() ? "/api/" + r.version : "/apis/" + r.group + "/" + r.version;
  if (r.namespaced && !ns.empty()) p += "/namespaces/" + percentEncode(ns);
  p += "/" + r.resource;
  if (!name.empty()) p += "/" + percentEncode(name);
  if (!subresource.empty()) p += "/" + subresource;
  return p;
}

namespace {

class Query {
 public:
  Query& add(const std::string& key, const std::string& value) {
    if (!value.empty()) s_ += (s_.empty() ? "?" : "&") + key + "=" + percentEncode(value);
    return *this;
  }
  const std::string& str() const { return s_; }

 private:
  std::string s_;
};

void addWriteOptions(Query& q, const WriteOptions& o) {
  q.add("fieldManager", o.fieldManager).add("fieldValidation", o.fieldValidation);
  if (o.dryRun) q.add("dryRun", "All");
}

std::string objectNamespace(const std::string& ns, const Json& obj) {
  return ns.empty() ? jsonString(obj, {"metadata", "namespace"}) : ns;
}

class HttpWatchStream final : public WatchStream {
 public:
  HttpWatchStream(std::unique_ptr<BodyStream> body, std::string what) : body_(std::move(body)), what_(std::move(what)) {}

  KResult<std::optional<WatchEvent>> next() override {
    while (true) {
      if (auto event = decoder_.next()) {
        if (!event->ok()) return event->error();
        return std::optional<WatchEvent>(std::move(*event).value());
      }
      if (stopped_.load()) return std::optional<WatchEvent>();
      auto chunk = body_->read();
      if (!chunk.ok()) {
        if (stopped_.load()) return std::optional<WatchEvent>();
        ApiError e = chunk.error();
        if (decoder_.pendingBytes()) {
          e.message = what_ + ": stream cut mid-event (" + std::to_string(decoder_.pendingBytes()) +
                      " bytes of an incomplete line dropped): " + e.message;
        } else {
          e.message = what_ + ": " + e.message;
        }
        return e;
      }
      if (chunk->empty()) {
        if (decoder_.pendingBytes()) {
          return networkError(what_ + ": stream ended mid-event (" + std::to_string(decoder_.pendingBytes()) +
                              " bytes of an incomplete line dropped)");
        }
        return std::optional<WatchEvent>();  // the server ended the watch (timeoutSeconds)
      }
      decoder_.feed(*chunk);
    }
  }

  void stop() override {
    stopped_ = true;
    body_->cancel();
  }

 private:
  std::unique_ptr<BodyStream> body_;
  std::string what_;
  WatchLineDecoder decoder_;
  std::atomic<bool> stopped_{false};
};

}  // namespace

struct HttpKubeClient::Impl {
  std::unique_ptr<Transport> transport;
  std::shared_ptr<BearerToken> token;
  HttpClientOptions options;
  Clock& clock;
  Random& random;

  Impl(std::unique_ptr<Transport> t, std::shared_ptr<BearerToken> tok, HttpClientOptions o)
      : transport(std::move(t)),
        token(std::move(tok)),
        options(std::move(o)),
        clock(options.clock ? *options.clock : SystemClock::instance()),
        random(options.random ? *options.random : CryptoRandom::instance()) {}

  double unitRandom() {
    uint64_t x = 0;
    if (!random.fill(reinterpret_cast<uint8_t*>(&x), sizeof x).ok()) return 0.5;
    return static_cast<double>(x >> 11) * (1.0 / 9007199254740992.0);
  }

  KResult<std::string> bearer() {
    if (!token) return std::string();
    auto t = token->token();
    if (!t.ok()) {
      ApiError e;
      e.reason = ApiErrorReason::kUnauthorized;
      e.httpCode = 0;
      e.message = t.error().message;
      return e;
    }
    return *t;
  }

  // Sends with retries (retry_policy.h). `send` does one attempt; a non-2xx head is turned into an
  // ApiError here. Returns the successful (2xx) StreamResponse.
  template <class Send>
  KResult<StreamResponse> withRetries(TransportRequest req, const std::string& accept, Send send) {
    const bool safe = replaySafe(req.method, req.contentType);
    bool tokenRetried = false;
    for (int attempts = 1;; ++attempts) {
      auto bearerToken = bearer();
      if (!bearerToken.ok()) return bearerToken.error();
      req.headers.clear();
      req.headers.emplace_back("Accept", accept);
      req.headers.emplace_back("User-Agent", options.userAgent);
      if (!bearerToken->empty()) req.headers.emplace_back("Authorization", "Bearer " + *bearerToken);
      TResult<StreamResponse> res = send(req);
      ApiError error;
      bool sent = true;
      if (!res.ok()) {
        error = res.error().error;
        sent = res.error().sent;
      } else if (res->head.status >= 200 && res->head.status < 300) {
        for (const auto& w : res->head.warnings) {
          logStructured(spdlog::level::warn, "API server warning", {{"request", req.method + " " + req.target}, {"warning", w}});
        }
        return std::move(res).value();
      } else {
        if (res->head.status == 401 && !tokenRetried && token && token->invalidate()) {
          auto fresh = bearer();
          tokenRetried = true;
          if (fresh.ok() && *fresh != *bearerToken) {
            --attempts;  // a rotated token is not a failure of the server
            continue;
          }
        }
        error = fromHttpResponse(res->head.status, res->head.body, res->head.retryAfterSeconds);
      }
      auto delay = retryDelay(options.retry, attempts, error, safe, sent, unitRandom());
      if (!delay) return error;
      logStructured(spdlog::level::debug, "retrying an API request",
                    {{"request", req.method + " " + req.target}, {"error", error.toString()},
                     {"attempt", std::to_string(attempts + 1)}, {"waitMs", std::to_string(delay->count())}});
      clock.sleepFor(*delay);
    }
  }

  KResult<TransportResponse> execute(const std::string& method, const std::string& target,
                                     const std::string& contentType = "", const std::string& body = "") {
    TransportRequest req;
    req.method = method;
    req.target = target;
    req.contentType = contentType;
    req.body = body;
    req.timeout = options.requestTimeout;
    auto res = withRetries(std::move(req), "application/json", [this](const TransportRequest& r) -> TResult<StreamResponse> {
      auto sent = transport->send(r);
      if (!sent.ok()) return sent.error();
      StreamResponse s;
      s.head = std::move(*sent);
      return s;
    });
    if (!res.ok()) return res.error();
    return std::move(res->head);
  }

  KResult<Json> executeJson(const std::string& method, const std::string& target, const std::string& contentType = "",
                            const std::string& body = "", bool textAllowed = false) {
    auto res = execute(method, target, contentType, body);
    if (!res.ok()) return res.error();
    auto parsed = parseJson(res->body, "the answer to " + method + " " + target);
    if (!parsed.ok()) {
      if (textAllowed) return Json(res->body);
      ApiError e;
      e.reason = ApiErrorReason::kServerError;
      e.httpCode = res->status;
      e.message = parsed.error().message;
      return e;
    }
    return std::move(parsed).value();
  }
};

HttpKubeClient::HttpKubeClient(std::unique_ptr<Transport> transport, std::shared_ptr<BearerToken> token,
                               HttpClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(transport), std::move(token), std::move(options))) {}

HttpKubeClient::~HttpKubeClient() = default;

KResult<Json> HttpKubeClient::get(const ResourceRef& r, const std::string& ns, const std::string& name,
                                  const std::string& subresource) {
  if (name.empty()) return badRequestError("get " + r.groupResource() + ": a name is required");
  return impl_->executeJson("GET", resourcePath(r, ns, name, subresource), "", "", subresource == "log");
}

KResult<Json> HttpKubeClient::list(const ResourceRef& r, const std::string& ns, const ListOptions& o) {
  Query q;
  q.add("labelSelector", o.labelSelector).add("fieldSelector", o.fieldSelector).add("continue", o.continueToken);
  q.add("resourceVersion", o.resourceVersion);
  if (o.limit > 0) q.add("limit", std::to_string(o.limit));
  return impl_->executeJson("GET", resourcePath(r, ns) + q.str());
}

KResult<std::unique_ptr<WatchStream>> HttpKubeClient::watch(const ResourceRef& r, const std::string& ns,
                                                            const WatchOptions& o) {
  Query q;
  q.add("watch", "true");
  if (o.allowWatchBookmarks) q.add("allowWatchBookmarks", "true");
  q.add("resourceVersion", o.resourceVersion).add("labelSelector", o.labelSelector).add("fieldSelector", o.fieldSelector);
  if (o.timeoutSeconds > 0) q.add("timeoutSeconds", std::to_string(o.timeoutSeconds));
  TransportRequest req;
  req.method = "GET";
  req.target = resourcePath(r, ns) + q.str();
  req.timeout = impl_->options.requestTimeout;
  const auto idle = o.timeoutSeconds > 0
                        ? std::chrono::milliseconds(std::chrono::seconds(o.timeoutSeconds) + impl_->options.watchIdleMargin)
                        : std::chrono::milliseconds(impl_->options.defaultWatchIdle);
  auto res = impl_->withRetries(req, "application/json", [&](const TransportRequest& rq) {
    return impl_->transport->stream(rq, idle);
  });
  if (!res.ok()) return res.error();
  std::string what = "watch " + r.groupResource() + (ns.empty() || !r.namespaced ? "" : " in " + ns);
  return std::unique_ptr<WatchStream>(std::make_unique<HttpWatchStream>(std::move(res->body), std::move(what)));
}

KResult<Json> HttpKubeClient::create(const ResourceRef& r, const std::string& ns, const Json& obj,
                                     const WriteOptions& opts, const std::string& name, const std::string& subresource) {
  if (!subresource.empty() && name.empty()) {
    return badRequestError("create " + r.groupResource() + "/" + subresource + ": the parent's name is required");
  }
  Query q;
  addWriteOptions(q, opts);
  return impl_->executeJson("POST", resourcePath(r, objectNamespace(ns, obj), name, subresource) + q.str(),
                            "application/json", dumpJson(obj));
}

KResult<Json> HttpKubeClient::update(const ResourceRef& r, const std::string& ns, const Json& obj,
                                     const WriteOptions& opts, const std::string& subresource) {
  const std::string name = jsonString(obj, {"metadata", "name"});
  if (name.empty()) return badRequestError("update " + r.groupResource() + ": metadata.name: required");
  Query q;
  addWriteOptions(q, opts);
  return impl_->executeJson("PUT", resourcePath(r, objectNamespace(ns, obj), name, subresource) + q.str(),
                            "application/json", dumpJson(obj));
}

KResult<Json> HttpKubeClient::patch(const ResourceRef& r, const std::string& ns, const std::string& name,
                                    PatchType type, const std::string& body, const PatchOptions& opts,
                                    const std::string& subresource) {
  if (name.empty()) return badRequestError("patch " + r.groupResource() + ": a name is required");
  if (type == PatchType::kApply && opts.fieldManager.empty()) {
    return badRequestError("apply " + r.groupResource() + " " + name + ": fieldManager: required for server-side apply");
  }
  Query q;
  addWriteOptions(q, opts);
  if (type == PatchType::kApply && opts.force) q.add("force", "true");
  return impl_->executeJson("PATCH", resourcePath(r, ns, name, subresource) + q.str(), patchContentType(type), body);
}

KResult<Json> HttpKubeClient::remove(const ResourceRef& r, const std::string& ns, const std::string& name,
                                     const DeleteOptions& o) {
  if (name.empty()) return badRequestError("delete " + r.groupResource() + ": a name is required");
  Json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (!o.propagationPolicy.empty()) body["propagationPolicy"] = o.propagationPolicy;
  if (o.preconditionUid) body["preconditions"]["uid"] = *o.preconditionUid;
  if (o.preconditionResourceVersion) body["preconditions"]["resourceVersion"] = *o.preconditionResourceVersion;
  if (o.gracePeriodSeconds) body["gracePeriodSeconds"] = *o.gracePeriodSeconds;
  if (o.dryRun) body["dryRun"] = Json::array({"All"});
  return impl_->executeJson("DELETE", resourcePath(r, ns, name), "application/json", dumpJson(body));
}

KResult<Json> HttpKubeClient::raw(const std::string& method, const std::string& target, const std::string& contentType,
                                  const std::string& body) {
  return impl_->executeJson(method, target, contentType, body, /*textAllowed=*/true);
}

}  // namespace sdb::kube
