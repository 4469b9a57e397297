// HttpKubeClient's pure logic over a scripted Transport (a fake of the HTTP seam only; the real
// transport is exercised against the local cluster in e2e/client_tests): URLs and bodies, typed
// errors, the retry rule (POST and JSON patch never replayed after a lost answer), Retry-After,
// token re-read on 401, and incremental watch decoding.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <thread>

#include "operator/kube/http_client.h"
#include "operator/kube/watch_decoder.h"

using namespace sdb;
using namespace sdb::kube;
using namespace std::chrono_literals;

namespace {

class ScriptedBody final : public BodyStream {
 public:
  void push(KResult<std::string> chunk) {
    std::lock_guard<std::mutex> lock(mu_);
    chunks_.push_back(std::move(chunk));
    cv_.notify_all();
  }
  KResult<std::string> read() override {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return cancelled_ || !chunks_.empty(); });
    if (cancelled_) return networkError("cancelled");
    auto c = std::move(chunks_.front());
    chunks_.pop_front();
    return c;
  }
  void cancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }
  bool cancelled() const override { return cancelled_; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<KResult<std::string>> chunks_;
  bool cancelled_ = false;
};

class ScriptedTransport final : public Transport {
 public:
  std::vector<TransportRequest> requests;
  std::deque<TResult<TransportResponse>> replies;
  ScriptedBody* lastBody = nullptr;

  void reply(int status, std::string body = "{}", std::optional<int> retryAfter = std::nullopt) {
    TransportResponse r;
    r.status = status;
    r.body = std::move(body);
    r.retryAfterSeconds = retryAfter;
    replies.emplace_back(std::move(r));
  }
  void fail(ApiError e, bool sent) { replies.emplace_back(TransportFailure{std::move(e), sent}); }

  TResult<TransportResponse> send(const TransportRequest& r) override {
    requests.push_back(r);
    if (replies.empty()) {
      TransportResponse none;
      none.status = 599;
      return none;
    }
    auto out = std::move(replies.front());
    replies.pop_front();
    return out;
  }
  TResult<StreamResponse> stream(const TransportRequest& r, std::chrono::milliseconds idle) override {
    lastIdle = idle;
    auto head = send(r);
    if (!head.ok()) return head.error();
    StreamResponse s;
    s.head = *head;
    if (s.head.status == 200) {
      auto body = std::make_unique<ScriptedBody>();
      lastBody = body.get();
      for (auto& c : pendingChunks) body->push(std::move(c));
      pendingChunks.clear();
      s.body = std::move(body);
    }
    return s;
  }
  std::vector<KResult<std::string>> pendingChunks;
  std::chrono::milliseconds lastIdle{0};

  std::string header(size_t i, const std::string& name) const {
    for (const auto& [k, v] : requests.at(i).headers) {
      if (k == name) return v;
    }
    return "";
  }
};

std::string status(int code, const std::string& reason, const std::string& message, const Json& details = nullptr) {
  Json s = {{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"}, {"code", code}, {"reason", reason},
            {"message", message}};
  if (!details.is_null()) s["details"] = details;
  return s.dump();
}

struct Fixture {
  FakeClock clock;
  SeededRandom random{7};
  ScriptedTransport* t = nullptr;
  std::unique_ptr<HttpKubeClient> client;
  explicit Fixture(std::shared_ptr<BearerToken> token = std::make_shared<BearerToken>("tok")) {
    auto transport = std::make_unique<ScriptedTransport>();
    t = transport.get();
    HttpClientOptions o;
    o.clock = &clock;
    o.random = &random;
    o.userAgent = "test-agent/1";
    client = std::make_unique<HttpKubeClient>(std::move(transport), std::move(token), o);
  }
  std::chrono::milliseconds slept() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock.monotonic().time_since_epoch());
  }
};

const Json kCm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "a"}, {"namespace", "ns1"}}}};

}  // namespace

TEST(HttpClient, PathsQueriesHeadersAndBodies) {
  EXPECT_EQ(resourcePath(resources::kPods, "ns", "p", "log"), "/api/v1/namespaces/ns/pods/p/log");
  EXPECT_EQ(resourcePath(resources::kStatefulSets, ""), "/apis/apps/v1/statefulsets");
  EXPECT_EQ(resourcePath(resources::kNamespaces, "ignored", "x", "status"), "/api/v1/namespaces/x/status");
  EXPECT_EQ(resourcePath(resources::kServiceDatabases, "a", "b"), "/apis/servicedb.io/v1alpha1/namespaces/a/servicedatabases/b");
  EXPECT_EQ(percentEncode("tier in (a,b),!x"), "tier%20in%20%28a%2Cb%29%2C%21x");

  Fixture f;
  f.t->reply(200, R"({"kind":"ConfigMapList","items":[]})");
  ListOptions lo;
  lo.labelSelector = "app=x,tier in (a,b)";
  lo.limit = 50;
  lo.continueToken = "c/1";
  ASSERT_TRUE(f.client->list(resources::kConfigMaps, "ns1", lo).ok());
  EXPECT_EQ(f.t->requests[0].method, "GET");
  EXPECT_EQ(f.t->requests[0].target,
            "/api/v1/namespaces/ns1/configmaps?labelSelector=app%3Dx%2Ctier%20in%20%28a%2Cb%29&continue=c%2F1&limit=50");
  EXPECT_EQ(f.t->header(0, "Authorization"), "Bearer tok");
  EXPECT_EQ(f.t->header(0, "User-Agent"), "test-agent/1");
  EXPECT_EQ(f.t->header(0, "Accept"), "application/json");
  EXPECT_EQ(f.t->requests[0].timeout, 30s) << "every request has a deadline";

  f.t->reply(201, kCm.dump());
  WriteOptions wo;
  wo.fieldManager = "mgr";
  wo.dryRun = true;
  Json noNs = kCm;
  ASSERT_TRUE(f.client->create(resources::kConfigMaps, "", noNs, wo).ok());
  EXPECT_EQ(f.t->requests[1].method, "POST");
  EXPECT_EQ(f.t->requests[1].target, "/api/v1/namespaces/ns1/configmaps?fieldManager=mgr&dryRun=All")
      << "the object's namespace is used when none is given";
  EXPECT_EQ(f.t->requests[1].contentType, "application/json");
  EXPECT_EQ(Json::parse(f.t->requests[1].body), kCm);

  f.t->reply(200, kCm.dump());
  ASSERT_TRUE(f.client->updateStatus(resources::kConfigMaps, "ns1", kCm).ok());
  EXPECT_EQ(f.t->requests[2].method, "PUT");
  EXPECT_EQ(f.t->requests[2].target, "/api/v1/namespaces/ns1/configmaps/a/status");

  const std::pair<PatchType, const char*> types[] = {{PatchType::kMerge, "application/merge-patch+json"},
                                                     {PatchType::kJson, "application/json-patch+json"},
                                                     {PatchType::kStrategicMerge, "application/strategic-merge-patch+json"},
                                                     {PatchType::kApply, "application/apply-patch+yaml"}};
  for (auto [type, ct] : types) {
    f.t->reply(200, kCm.dump());
    PatchOptions po;
    po.fieldManager = "mgr";
    po.force = true;
    ASSERT_TRUE(f.client->patch(resources::kConfigMaps, "ns1", "a", type, "{}", po, "").ok());
    EXPECT_EQ(f.t->requests.back().contentType, ct);
    const bool forced = f.t->requests.back().target.find("force=true") != std::string::npos;
    EXPECT_EQ(forced, type == PatchType::kApply) << "force is only meaningful for apply";
  }
  PatchOptions noManager;
  auto apply = f.client->patch(resources::kConfigMaps, "ns1", "a", PatchType::kApply, "{}", noManager);
  ASSERT_FALSE(apply.ok());
  EXPECT_NE(apply.error().message.find("fieldManager"), std::string::npos);

  f.t->reply(200, R"({"kind":"Status","status":"Success"})");
  DeleteOptions d;
  d.propagationPolicy = "Foreground";
  d.preconditionUid = "u-1";
  d.preconditionResourceVersion = "42";
  d.gracePeriodSeconds = 0;
  ASSERT_TRUE(f.client->remove(resources::kConfigMaps, "ns1", "a", d).ok());
  Json body = Json::parse(f.t->requests.back().body);
  EXPECT_EQ(f.t->requests.back().method, "DELETE");
  EXPECT_EQ(body["kind"], "DeleteOptions");
  EXPECT_EQ(body["propagationPolicy"], "Foreground");
  EXPECT_EQ(body["preconditions"]["uid"], "u-1");
  EXPECT_EQ(body["preconditions"]["resourceVersion"], "42");
  EXPECT_EQ(body["gracePeriodSeconds"], 0);

  f.t->reply(200, "line one\nline two\n");
  auto log = f.client->get(resources::kPods, "ns1", "p", "log");
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(*log, "line one\nline two\n");
  auto unnamed = f.client->update(resources::kConfigMaps, "ns1", Json{{"metadata", Json::object()}});
  ASSERT_FALSE(unnamed.ok());
  EXPECT_NE(unnamed.error().message.find("metadata.name"), std::string::npos);
}

TEST(HttpClient, TypedErrorsFromStatus) {
  Fixture f;
  f.t->reply(422, status(422, "Invalid", "ServiceDatabase.servicedb.io \"x\" is invalid: spec.engine: Unsupported value",
                         {{"name", "x"}, {"group", "servicedb.io"}, {"kind", "ServiceDatabase"},
                          {"causes", {{{"reason", "FieldValueNotSupported"}, {"message", "Unsupported value"}, {"field", "spec.engine"}}}}}));
  auto invalid = f.client->create(resources::kServiceDatabases, "a", Json::object());
  ASSERT_FALSE(invalid.ok());
  EXPECT_TRUE(invalid.error().is(ApiErrorReason::kInvalid));
  ASSERT_EQ(invalid.error().causes.size(), 1u);
  EXPECT_EQ(invalid.error().causes[0].field, "spec.engine");
  EXPECT_EQ(invalid.error().kind, "ServiceDatabase");

  const std::tuple<int, const char*, ApiErrorReason> cases[] = {
      {404, "NotFound", ApiErrorReason::kNotFound},      {409, "AlreadyExists", ApiErrorReason::kAlreadyExists},
      {409, "Conflict", ApiErrorReason::kConflict},      {410, "Expired", ApiErrorReason::kGone},
      {403, "Forbidden", ApiErrorReason::kForbidden},    {401, "Unauthorized", ApiErrorReason::kUnauthorized},
      {400, "BadRequest", ApiErrorReason::kBadRequest},  {415, "UnsupportedMediaType", ApiErrorReason::kUnsupportedMediaType}};
  for (auto [code, reason, want] : cases) {
    f.t->reply(code, status(code, reason, std::string("m-") + reason));
    auto r = f.client->remove(resources::kConfigMaps, "a", "b");
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.error().is(want)) << reason << " -> " << r.error().toString();
    EXPECT_EQ(r.error().httpCode, code);
    EXPECT_EQ(r.error().message, std::string("m-") + reason);
  }
  EXPECT_EQ(f.t->requests.size(), 9u) << "4xx answers are final";
  f.t->reply(200, "<html>not json</html>");
  auto garbage = f.client->get(resources::kConfigMaps, "a", "b");
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.error().message.find("the answer to GET"), std::string::npos);
}

TEST(HttpClient, RetriesReplaySafeRequestsWithJitteredBackoff) {
  Fixture f;
  f.t->reply(503, "overloaded");
  f.t->fail(timeoutError("slow"), true);
  f.t->reply(200, kCm.dump());
  auto got = f.client->get(resources::kConfigMaps, "ns1", "a");
  ASSERT_TRUE(got.ok()) << got.error().toString();
  EXPECT_EQ(f.t->requests.size(), 3u);
  // Waits: step 200 ms then 400 ms, each between half and all of its step.
  EXPECT_GE(f.slept(), 100ms + 200ms);
  EXPECT_LE(f.slept(), 200ms + 400ms);

  for (int i = 0; i < 10; ++i) f.t->reply(500, "boom");
  auto bounded = f.client->update(resources::kConfigMaps, "ns1", kCm);
  ASSERT_FALSE(bounded.ok());
  EXPECT_TRUE(bounded.error().is(ApiErrorReason::kServerError));
  EXPECT_EQ(f.t->requests.size(), 3u + 5u) << "at most maxAttempts sends";
  f.t->replies.clear();

  f.t->reply(500, "boom");
  f.t->reply(200, kCm.dump());
  EXPECT_TRUE(f.client->patch(resources::kConfigMaps, "ns1", "a", PatchType::kMerge, "{}").ok())
      << "a merge patch is idempotent: replayed";
  f.t->reply(502, "bad gateway");
  f.t->reply(200, kCm.dump());
  EXPECT_TRUE(f.client->remove(resources::kConfigMaps, "ns1", "a").ok()) << "DELETE is replayed";
}

TEST(HttpClient, NeverReplaysAWriteThatMayHaveBeenApplied) {
  Fixture f;
  f.t->reply(500, "boom");
  f.t->reply(201, kCm.dump());
  auto created = f.client->create(resources::kConfigMaps, "ns1", kCm);
  ASSERT_FALSE(created.ok()) << "a POST that got a 500 may have been applied: surfaced, not re-sent";
  EXPECT_EQ(f.t->requests.size(), 1u);
  f.t->replies.clear();

  f.t->fail(networkError("connection reset by peer"), /*sent=*/true);
  EXPECT_FALSE(f.client->create(resources::kConfigMaps, "ns1", kCm).ok());
  EXPECT_EQ(f.t->requests.size(), 2u) << "a lost answer to a POST is surfaced";

  f.t->reply(504, status(504, "Timeout", "the server may still be processing the request"));
  EXPECT_FALSE(f.client->patch(resources::kConfigMaps, "ns1", "a", PatchType::kJson, "[]").ok());
  EXPECT_EQ(f.t->requests.size(), 3u) << "a JSON patch (add to a list twice) is not replayed";

  f.t->reply(429, status(429, "TooManyRequests", "slow down"), 2);
  f.t->reply(201, kCm.dump());
  auto start = f.slept();
  EXPECT_TRUE(f.client->create(resources::kConfigMaps, "ns1", kCm).ok()) << "a 429 was refused before processing";
  EXPECT_EQ(f.t->requests.size(), 5u);
  EXPECT_GE(f.slept() - start, 2s) << "Retry-After honoured";

  f.t->fail(networkError("connection refused"), /*sent=*/false);
  f.t->reply(201, kCm.dump());
  EXPECT_TRUE(f.client->create(resources::kConfigMaps, "ns1", kCm).ok()) << "a request that never left is re-sent";
  EXPECT_EQ(f.t->requests.size(), 7u);

  f.t->reply(429, status(429, "TooManyRequests", "come back later"), 120);
  auto later = f.client->get(resources::kConfigMaps, "ns1", "a");
  ASSERT_FALSE(later.ok()) << "a Retry-After beyond the cap surfaces instead of holding the caller";
  EXPECT_TRUE(later.error().is(ApiErrorReason::kTooManyRequests));
  EXPECT_EQ(later.error().retryAfterSeconds, 120);
}

TEST(RetryPolicy, Rule) {
  RetryOptions o;
  ApiError e500 = fromHttpResponse(500, "");
  ApiError e429 = fromHttpResponse(429, "");
  EXPECT_TRUE(replaySafe("GET", ""));
  EXPECT_TRUE(replaySafe("PUT", "application/json"));
  EXPECT_TRUE(replaySafe("PATCH", "application/apply-patch+yaml"));
  EXPECT_FALSE(replaySafe("PATCH", "application/json-patch+json"));
  EXPECT_FALSE(replaySafe("POST", "application/json"));
  EXPECT_FALSE(retryDelay(o, 1, e500, false, true, 0.5));
  EXPECT_TRUE(retryDelay(o, 1, e429, false, true, 0.5));
  EXPECT_FALSE(retryDelay(o, 1, fromHttpResponse(404, ""), true, true, 0.5));
  EXPECT_FALSE(retryDelay(o, 5, e500, true, true, 0.5)) << "bounded";
  // Backoff doubles up to the cap; jitter spans the upper half of each step.
  EXPECT_EQ(*retryDelay(o, 1, e500, true, true, 0.0), 100ms);
  EXPECT_EQ(*retryDelay(o, 1, e500, true, true, 0.999999), 199ms);
  EXPECT_EQ(*retryDelay(o, 3, e500, true, true, 0.0), 400ms);
  o.maxAttempts = 100;
  EXPECT_EQ(*retryDelay(o, 40, e500, true, true, 0.0), 2500ms);
}

TEST(HttpClient, UnauthorizedRereadsARotatedTokenFileOnce) {
  char tmpl[] = "/tmp/sdb-token-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::ofstream(dir + "/token") << "old";
  FakeClock tokenClock;
  auto token = std::make_shared<BearerToken>(dir + "/token", tokenClock);
  Fixture f(token);
  f.t->reply(200, kCm.dump());
  ASSERT_TRUE(f.client->get(resources::kConfigMaps, "ns1", "a").ok());
  EXPECT_EQ(f.t->header(0, "Authorization"), "Bearer old");
  // Rotated in place with the same size and timestamp granularity hiding it: only the 401 reveals it.
  struct stat st {};
  ::stat((dir + "/token").c_str(), &st);
  std::ofstream(dir + "/token") << "new";
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  ::utimensat(AT_FDCWD, (dir + "/token").c_str(), times, 0);
  f.t->reply(401, status(401, "Unauthorized", "Unauthorized"));
  f.t->reply(200, kCm.dump());
  ASSERT_TRUE(f.client->get(resources::kConfigMaps, "ns1", "a").ok());
  EXPECT_EQ(f.t->header(1, "Authorization"), "Bearer old");
  EXPECT_EQ(f.t->header(2, "Authorization"), "Bearer new");
  f.t->reply(401, status(401, "Unauthorized", "Unauthorized"));
  auto denied = f.client->get(resources::kConfigMaps, "ns1", "a");
  ASSERT_FALSE(denied.ok()) << "the same token again: the 401 surfaces";
  EXPECT_TRUE(denied.error().is(ApiErrorReason::kUnauthorized));
  EXPECT_EQ(f.t->requests.size(), 4u);
  std::filesystem::remove_all(dir);
}

TEST(HttpClient, WatchDecodesEventsSplitAnywhereAndReportsGoneAndCuts) {
  Fixture f;
  const std::string a = R"({"type":"ADDED","object":{"kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"5"}}})";
  const std::string b = R"({"type":"BOOKMARK","object":{"kind":"ConfigMap","metadata":{"resourceVersion":"9"}}})";
  const std::string gone = R"json({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version: 1 (7)"}})json";
  f.t->pendingChunks = {std::string("{\"type\":"), a.substr(8) + "\n" + b.substr(0, 10), b.substr(10) + "\n\n" + gone + "\n"};
  f.t->reply(200, "");
  WatchOptions o;
  o.resourceVersion = "4";
  o.timeoutSeconds = 60;
  auto w = f.client->watch(resources::kConfigMaps, "ns1", o);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(f.t->requests[0].target,
            "/api/v1/namespaces/ns1/configmaps?watch=true&allowWatchBookmarks=true&resourceVersion=4&timeoutSeconds=60");
  EXPECT_EQ(f.t->lastIdle, 90s) << "idle timeout above timeoutSeconds";
  auto e1 = (*w)->next();
  ASSERT_TRUE(e1.ok() && e1->has_value());
  EXPECT_EQ((*e1)->type, WatchEvent::Type::kAdded);
  EXPECT_EQ(jsonString((*e1)->object, {"metadata", "name"}), "a");
  auto e2 = (*w)->next();
  ASSERT_TRUE(e2.ok() && e2->has_value());
  EXPECT_EQ((*e2)->type, WatchEvent::Type::kBookmark);
  auto e3 = (*w)->next();
  ASSERT_FALSE(e3.ok());
  EXPECT_TRUE(e3.error().is(ApiErrorReason::kGone)) << "an ERROR event with 410 is kGone";

  // 410 as the HTTP status of the watch request.
  f.t->reply(410, status(410, "Expired", "too old"));
  auto gone410 = f.client->watch(resources::kConfigMaps, "ns1", o);
  ASSERT_FALSE(gone410.ok());
  EXPECT_TRUE(gone410.error().is(ApiErrorReason::kGone));

  // A connection cut mid-line: the partial event is dropped and named, never decoded.
  f.t->pendingChunks = {a.substr(0, 30), KResult<std::string>(networkError("EOF without the last chunk"))};
  f.t->reply(200, "");
  auto cut = f.client->watch(resources::kConfigMaps, "", {});
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(f.t->lastIdle, 330s);
  auto partial = (*cut)->next();
  ASSERT_FALSE(partial.ok());
  EXPECT_TRUE(partial.error().is(ApiErrorReason::kNetwork));
  EXPECT_NE(partial.error().message.find("cut mid-event (30 bytes"), std::string::npos) << partial.error().message;

  // A clean end after a partial line is also a cut; a clean end on a line boundary is the end.
  f.t->pendingChunks = {a + "\n", std::string()};
  f.t->reply(200, "");
  auto clean = f.client->watch(resources::kConfigMaps, "", {});
  ASSERT_TRUE((*clean)->next()->has_value());
  auto end = (*clean)->next();
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->has_value());
}

TEST(HttpClient, WatchStopFromAnotherThreadUnblocksNext) {
  Fixture f;
  f.t->reply(200, "");
  auto w = f.client->watch(resources::kConfigMaps, "", {});
  ASSERT_TRUE(w.ok());
  std::thread stopper([&] {
    std::this_thread::sleep_for(50ms);
    (*w)->stop();
  });
  auto start = std::chrono::steady_clock::now();
  auto r = (*w)->next();
  stopper.join();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value()) << "stop() ends the watch without an error";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(WatchDecoder, ManyLinesPerReadAndUnknownTypes) {
  WatchLineDecoder d;
  d.feed("{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"x\"}}}\r\n{\"type\":\"MODIFIED\",\"object\":{}}\n{\"ty");
  auto e1 = d.next();
  ASSERT_TRUE(e1 && e1->ok());
  EXPECT_EQ((*e1)->type, WatchEvent::Type::kDeleted);
  auto e2 = d.next();
  ASSERT_TRUE(e2 && e2->ok());
  EXPECT_EQ((*e2)->type, WatchEvent::Type::kModified);
  EXPECT_FALSE(d.next());
  EXPECT_EQ(d.pendingBytes(), 4u);
  d.feed("pe\":\"SURPRISE\",\"object\":{}}\n");
  auto e3 = d.next();
  ASSERT_TRUE(e3);
  EXPECT_FALSE(e3->ok());
  EXPECT_FALSE(decodeWatchEvent("not json").ok());
  EXPECT_FALSE(decodeWatchEvent(R"({"type":"ADDED"})").ok());
}
