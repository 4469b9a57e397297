// The HTTP client and the informer under the local cluster's faults on demand, over HTTPS: watches cut
// mid-line (no event lost), 410 Gone (re-list), 10 % 500s and 429s with Retry-After (everything
// converges), added latency against request deadlines, a restart that keeps state (clients
// reconnect), and the in-cluster config with a token file that rotates.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "e2e/fixture/local_cluster.h"
#include "operator/runtime/informer.h"

using namespace sdb;
using namespace sdb::e2e;
using namespace std::chrono_literals;
namespace res = sdb::kube::resources;
using kube::ApiErrorReason;

namespace {

Json ns(const std::string& name) { return {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}}; }
Json cm(const std::string& name, const std::string& value) {
  return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}, {"data", {{"v", value}}}};
}
std::string rvOf(const Json& o) { return jsonString(o, {"metadata", "resourceVersion"}); }
std::string nameOf(const Json& o) { return jsonString(o, {"metadata", "name"}); }

// Records every object state an informer delivers, by name.
struct Recorder {
  std::mutex mu;
  std::map<std::string, std::set<std::string>> rvs;  // name -> resourceVersions delivered
  std::set<std::string> deleted;
  runtime::InformerHandlers handlers() {
    runtime::InformerHandlers h;
    h.onAdd = [this](const runtime::ObjectPtr& o) { note(*o); };
    h.onUpdate = [this](const runtime::ObjectPtr&, const runtime::ObjectPtr& o) { note(*o); };
    h.onDelete = [this](const runtime::ObjectPtr& o) {
      std::lock_guard<std::mutex> lock(mu);
      deleted.insert(nameOf(*o));
    };
    return h;
  }
  void note(const Json& o) {
    std::lock_guard<std::mutex> lock(mu);
    rvs[nameOf(o)].insert(rvOf(o));
  }
};

runtime::InformerOptions informerOn(const std::string& namespaceName) {
  runtime::InformerOptions o;
  o.resource = res::kConfigMaps;
  o.ns = namespaceName;
  o.watchTimeoutSeconds = 60;
  o.resyncPeriod = 0ms;
  o.backoffInitial = 100ms;
  o.backoffMax = 1s;
  return o;
}

// A level-triggered write that converges under injected 500s: a create that failed may or may not
// have happened (POST is never replayed), so look before writing again.
kube::KResult<Json> ensureConfigMap(kube::KubeClient& c, const std::string& nsName, const std::string& name,
                                    const std::string& value) {
  kube::ApiError last;
  for (int i = 0; i < 20; ++i) {
    auto cur = c.get(res::kConfigMaps, nsName, name);
    if (cur.ok()) {
      if (jsonString(*cur, {"data", "v"}) == value) return cur;
      Json next = *cur;
      next["data"]["v"] = value;
      auto up = c.update(res::kConfigMaps, nsName, next);
      if (up.ok()) return up;
      last = up.error();
    } else if (cur.error().is(ApiErrorReason::kNotFound)) {
      auto made = c.create(res::kConfigMaps, nsName, cm(name, value));
      if (made.ok()) return made;
      last = made.error();
    } else {
      last = cur.error();
    }
  }
  return last;
}

// Namespace creation that converges when a restart drops the request (the create may have happened).
bool ensureNamespace(kube::KubeClient& c, const std::string& name) {
  for (int i = 0; i < 20; ++i) {
    if (c.get(res::kNamespaces, "", name).ok()) return true;
    (void)c.create(res::kNamespaces, "", ns(name));
  }
  return false;
}

int64_t injected(const LocalCluster& cluster, const std::string& what) {
  auto f = cluster.faults();
  if (!f.ok()) return -1;
  return (*f)["injected"].value(what, int64_t{-1});
}

TEST(FaultsE2E, AdminEndpointValidatesAndReportsSettings) {
  LocalCluster cluster({"--fault-latency-ms", "5", "--fault-match-user-agent", "nobody"});
  ASSERT_TRUE(cluster.start().ok());
  auto got = cluster.faults();
  ASSERT_TRUE(got.ok()) << got.error().toString();
  EXPECT_EQ((*got)["latencyMs"], 5) << "flags set the initial faults";
  EXPECT_EQ((*got)["match"]["userAgent"], "nobody");
  auto bad = cluster.faults({{"errorRate", 1.5}});
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.error().is(ApiErrorReason::kBadRequest));
  EXPECT_NE(bad.error().message.find("errorRate: must be between 0 and 1"), std::string::npos) << bad.error().message;
  auto unknown = cluster.faults({{"errorRat", 0.5}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("errorRat: unknown field"), std::string::npos);
  auto set = cluster.faults(Json::object());
  ASSERT_TRUE(set.ok());
  EXPECT_EQ((*set)["latencyMs"], 0) << "POST replaces the whole setting";

  // The admin endpoint needs the admin token.
  auto config = kube::loadKubeconfig(cluster.kubeconfigPath());
  ASSERT_TRUE(config.ok());
  config->token = std::make_shared<kube::BearerToken>("guess");
  auto stranger = kube::HttpKubeClient::fromConfig(*config);
  ASSERT_TRUE(stranger.ok());
  auto denied = (*stranger)->raw("POST", "/admin/faults", "application/json", "{}");
  ASSERT_FALSE(denied.ok());
  EXPECT_TRUE(denied.error().is(ApiErrorReason::kUnauthorized));

  // A bad flag is refused at start, naming it.
  LocalCluster badFlag({"--fault-error-rate", "lots"});
  auto refused = badFlag.start();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(badFlag.log().find("--fault-error-rate: not a number"), std::string::npos) << badFlag.log();
}

TEST(FaultsE2E, WatchCutMidLineIsReportedAndTheInformerLosesNoEvent) {
  LocalCluster cluster({"--fault-watch-cut-seconds", "1", "--fault-seed", "1"});
  ASSERT_TRUE(cluster.start().ok());
  auto client = cluster.client();
  ASSERT_TRUE(client->create(res::kNamespaces, "", ns("cut")).ok());

  // The raw stream: a cut mid-line surfaces as a network error naming the dropped bytes.
  auto raw = client->watch(res::kNamespaces, "", {});
  ASSERT_TRUE(raw.ok());
  kube::ApiError cutError;
  for (int i = 0; i < 100; ++i) {
    auto e = (*raw)->next();
    if (!e.ok()) {
      cutError = e.error();
      break;
    }
    ASSERT_TRUE(e->has_value()) << "the stream must be cut, not ended";
  }
  EXPECT_TRUE(cutError.is(ApiErrorReason::kNetwork)) << cutError.toString();
  EXPECT_NE(cutError.message.find("cut mid-event"), std::string::npos) << cutError.message;

  Recorder rec;
  runtime::Informer informer(*client, informerOn("cut"));
  informer.addHandlers(rec.handlers());
  informer.start();
  ASSERT_TRUE(informer.waitForSync(10s));
  // Writes spread over several cut periods; every resourceVersion the server returned must reach
  // the handlers (a resumed watch replays what the cut dropped).
  auto writer = cluster.client();
  std::map<std::string, std::vector<std::string>> written;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 40; ++i) {
      const std::string name = "c" + std::to_string(i);
      auto r = round == 0 ? writer->create(res::kConfigMaps, "cut", cm(name, "0"))
                          : writer->patch(res::kConfigMaps, "cut", name, kube::PatchType::kMerge,
                                          Json{{"data", {{"v", std::to_string(round)}}}}.dump());
      ASSERT_TRUE(r.ok()) << r.error().toString();
      written[name].push_back(rvOf(*r));
      std::this_thread::sleep_for(30ms);
    }
  }
  ASSERT_TRUE(eventually([&] {
    std::lock_guard<std::mutex> lock(rec.mu);
    for (const auto& [name, rvs] : written) {
      for (const auto& rv : rvs) {
        if (!rec.rvs[name].count(rv)) return false;
      }
    }
    return true;
  }, 20s)) << "an event was lost across watch cuts";
  auto stats = informer.stats();
  informer.stop();
  EXPECT_GE(stats.watches, 3u) << "the watch was cut and resumed several times";
  EXPECT_EQ(stats.relistsOnGone, 0u) << "resuming from the last resourceVersion needs no re-list";
  EXPECT_GE(injected(cluster, "watchCuts"), 3);
  EXPECT_GE(injected(cluster, "watchCutEvents"), 2) << "cuts dropped halves of real events, which came again";
  std::cout << "watch cuts: " << injected(cluster, "watchCuts") << " (" << injected(cluster, "watchCutEvents")
            << " through a real event), informer watches: " << stats.watches
            << ", events: " << stats.events << "\n";
}

TEST(FaultsE2E, ExpiredResourceVersionIsGoneAndTheInformerRelists) {
  LocalCluster cluster({"--watch-history", "20"});
  ASSERT_TRUE(cluster.start().ok());
  auto client = cluster.client();
  ASSERT_TRUE(client->create(res::kNamespaces, "", ns("gone")).ok());
  ASSERT_TRUE(client->create(res::kConfigMaps, "gone", cm("doomed", "x")).ok());
  auto listed = client->list(res::kConfigMaps, "gone");
  ASSERT_TRUE(listed.ok());
  const std::string oldRv = jsonString(*listed, {"metadata", "resourceVersion"});
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(client->create(res::kConfigMaps, "gone", cm("p" + std::to_string(i), "x")).ok());
  kube::WatchOptions wo;
  wo.resourceVersion = oldRv;
  auto w = client->watch(res::kConfigMaps, "gone", wo);
  ASSERT_TRUE(w.ok()) << "kube-apiserver answers 200 and sends the 410 as an ERROR event";
  auto e = (*w)->next();
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(e.error().is(ApiErrorReason::kGone)) << e.error().toString();

  // The informer: its watch is cut and its reconnects fail while more than the history is written
  // (and one object deleted); when the faults end, it resumes from an expired version, gets 410,
  // re-lists, and delivers the deletion it missed.
  kube::HttpClientOptions o;
  o.userAgent = "informer-under-test";
  auto informerClient = cluster.client(o);
  Recorder rec;
  runtime::Informer informer(*informerClient, informerOn("gone"));
  informer.addHandlers(rec.handlers());
  informer.start();
  ASSERT_TRUE(informer.waitForSync(10s));
  ASSERT_TRUE(cluster.faults({{"errorRate", 1.0}, {"watchCutSeconds", 1}, {"match", {{"userAgent", "informer-under-test"}}}}).ok());
  ASSERT_TRUE(eventually([&] { return injected(cluster, "errors") > 0; }, 10s)) << "the informer's watch was not cut";
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(client->create(res::kConfigMaps, "gone", cm("q" + std::to_string(i), "x")).ok());
  ASSERT_TRUE(client->remove(res::kConfigMaps, "gone", "doomed").ok());
  ASSERT_TRUE(cluster.faults(Json::object()).ok());
  ASSERT_TRUE(eventually([&] { return informer.size() == 60u && !informer.get("gone", "doomed"); }, 20s))
      << "cache size " << informer.size();
  EXPECT_GE(informer.stats().relistsOnGone, 1u);
  std::lock_guard<std::mutex> lock(rec.mu);
  EXPECT_TRUE(rec.deleted.count("doomed")) << "the re-list delivers deletions that happened while away";
  informer.stop();
}

TEST(FaultsE2E, TenPercentServerErrorsAndThrottlingStillConverge) {
  LocalCluster cluster({"--fault-seed", "42"});
  ASSERT_TRUE(cluster.start().ok());
  auto client = cluster.client();
  ASSERT_TRUE(client->create(res::kNamespaces, "", ns("flaky")).ok());
  Recorder rec;
  runtime::Informer informer(*client, informerOn("flaky"));
  informer.addHandlers(rec.handlers());
  informer.start();
  ASSERT_TRUE(informer.waitForSync(10s));
  ASSERT_TRUE(cluster.faults({{"errorRate", 0.1}, {"tooManyRequestsRate", 0.02}, {"retryAfterSeconds", 1},
                              {"watchCutSeconds", 2}}).ok());
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 60; ++i) {
    auto r = ensureConfigMap(*client, "flaky", "f" + std::to_string(i), "v" + std::to_string(i));
    ASSERT_TRUE(r.ok()) << r.error().toString();
  }
  for (int i = 0; i < 60; i += 2) {
    auto r = ensureConfigMap(*client, "flaky", "f" + std::to_string(i), "w");
    ASSERT_TRUE(r.ok()) << r.error().toString();
  }
  ASSERT_TRUE(eventually([&] {
    if (informer.size() != 60) return false;
    for (int i = 0; i < 60; ++i) {
      auto o = informer.get("flaky", "f" + std::to_string(i));
      if (!o || jsonString(*o, {"data", "v"}) != (i % 2 ? "v" + std::to_string(i) : "w")) return false;
    }
    return true;
  }, 30s)) << "the cache did not converge under faults";
  auto took = std::chrono::steady_clock::now() - start;
  const int64_t errors = injected(cluster, "errors"), throttled = injected(cluster, "tooManyRequests");
  ASSERT_TRUE(cluster.faults(Json::object()).ok());
  informer.stop();
  EXPECT_GT(errors, 5) << "about 10 % of a few hundred requests";
  EXPECT_GT(throttled, 0);
  std::cout << "injected 500s: " << errors << ", 429s: " << throttled << ", converged in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
}

TEST(FaultsE2E, TooManyRequestsRetriesEvenAPostAndHonoursRetryAfter) {
  LocalCluster cluster;
  ASSERT_TRUE(cluster.start().ok());
  auto client = cluster.client();
  ASSERT_TRUE(client->create(res::kNamespaces, "", ns("busy")).ok());
  ASSERT_TRUE(cluster.faults({{"tooManyRequestsRate", 1.0}, {"retryAfterSeconds", 1}, {"match", {{"path", "/namespaces/busy/"}}}}).ok());
  std::thread relief([&] {
    std::this_thread::sleep_for(2500ms);
    (void)cluster.faults(Json::object());
  });
  auto start = std::chrono::steady_clock::now();
  auto made = client->create(res::kConfigMaps, "busy", cm("x", "1"));
  auto took = std::chrono::steady_clock::now() - start;
  relief.join();
  ASSERT_TRUE(made.ok()) << "a 429 was never processed, so even a POST is sent again: " << made.error().toString();
  const int64_t throttled = injected(cluster, "tooManyRequests");
  EXPECT_GE(throttled, 2);
  EXPECT_GE(took, std::chrono::seconds(throttled)) << "each Retry-After: 1 was waited out";
  auto list = client->list(res::kConfigMaps, "busy");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ((*list)["items"].size(), 1u) << "exactly one object: nothing was written twice";
}

TEST(FaultsE2E, LatencyAgainstRequestDeadlines) {
  LocalCluster cluster;
  ASSERT_TRUE(cluster.start().ok());
  ASSERT_TRUE(cluster.faults({{"latencyMs", 1500}, {"match", {{"path", "/configmaps"}}}}).ok());
  kube::HttpClientOptions o;
  o.requestTimeout = 500ms;
  o.retry.maxAttempts = 1;
  auto impatient = cluster.client(o);
  auto start = std::chrono::steady_clock::now();
  auto r = impatient->list(res::kConfigMaps, "default");
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().is(ApiErrorReason::kTimeout)) << r.error().toString();
  EXPECT_LT(took, 1200ms) << "the deadline, not the server, ended the request";
  EXPECT_TRUE(impatient->get(res::kNamespaces, "", "default").ok()) << "unmatched paths are not slowed";
  auto patient = cluster.client();
  start = std::chrono::steady_clock::now();
  EXPECT_TRUE(patient->list(res::kConfigMaps, "default").ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 1500ms) << "the latency was injected";
}

TEST(FaultsE2E, RestartKeepsStateAndClientsReconnect) {
  LocalCluster cluster;
  ASSERT_TRUE(cluster.start().ok());
  auto client = cluster.client();
  ASSERT_TRUE(client->create(res::kNamespaces, "", ns("keep")).ok());
  auto before = client->create(res::kConfigMaps, "keep", cm("before", "1"));
  ASSERT_TRUE(before.ok());
  Recorder rec;
  runtime::Informer informer(*client, informerOn("keep"));
  informer.addHandlers(rec.handlers());
  informer.start();
  ASSERT_TRUE(informer.waitForSync(10s));
  const int port = cluster.port();
  cluster.kill(SIGKILL);
  auto down = client->get(res::kConfigMaps, "keep", "before");
  ASSERT_FALSE(down.ok());
  EXPECT_TRUE(down.error().is(ApiErrorReason::kNetwork)) << down.error().toString();
  ASSERT_TRUE(cluster.restart().ok()) << cluster.log();
  EXPECT_EQ(cluster.port(), port) << "restarted on the same port, so the kubeconfig stays valid";
  auto kept = client->get(res::kConfigMaps, "keep", "before");
  ASSERT_TRUE(kept.ok()) << "state survived kill -9: " << kept.error().toString();
  EXPECT_EQ(rvOf(*kept), rvOf(*before));
  auto after = client->create(res::kConfigMaps, "keep", cm("after", "2"));
  ASSERT_TRUE(after.ok()) << after.error().toString();
  EXPECT_GT(std::stoll(rvOf(*after)), std::stoll(rvOf(*before))) << "resourceVersions keep rising";
  ASSERT_TRUE(eventually([&] { return informer.get("keep", "after") != nullptr; }, 20s))
      << "the informer reconnected and saw a write made after the restart";
  EXPECT_TRUE(informer.get("keep", "before"));
  informer.stop();
}

// POST /admin/restart: what an API server restart does to clients, without a new process. Open
// connections and watches are dropped, the watch history starts again (an older resourceVersion is
// 410), and the state and its resourceVersions are kept.
TEST(FaultsE2E, AdminRestartDropsConnectionsAndWatchesAndClientsGoOn) {
  LocalCluster cluster;
  ASSERT_TRUE(cluster.start().ok());
  auto client = cluster.client();
  ASSERT_TRUE(client->create(res::kNamespaces, "", ns("bounce")).ok());
  auto before = client->create(res::kConfigMaps, "bounce", cm("before", "1"));
  ASSERT_TRUE(before.ok());
  auto second = client->create(res::kConfigMaps, "bounce", cm("second", "1"));
  ASSERT_TRUE(second.ok());
  Recorder rec;
  runtime::Informer informer(*client, informerOn("bounce"));
  informer.addHandlers(rec.handlers());
  informer.start();
  ASSERT_TRUE(informer.waitForSync(10s));
  kube::WatchOptions now;
  now.resourceVersion = rvOf(*second);
  auto open = client->watch(res::kConfigMaps, "bounce", now);
  ASSERT_TRUE(open.ok()) << open.error().toString();
  const uint64_t informerWatches = informer.stats().watches;

  auto restarted = client->raw("POST", "/admin/restart", "application/json", "{}");
  ASSERT_TRUE(restarted.ok()) << restarted.error().toString();
  EXPECT_EQ((*restarted)["restarts"], 1);
  EXPECT_GE(std::stoll((*restarted)["resourceVersion"].get<std::string>()), std::stoll(rvOf(*second)));
  auto ended = (*open)->next();
  EXPECT_TRUE(!ended.ok() || !ended->has_value()) << "the watch open across the restart ended without an event";

  // The same client goes on (its keep-alive connections were dropped), and the state is kept.
  auto kept = client->get(res::kConfigMaps, "bounce", "before");
  ASSERT_TRUE(kept.ok()) << kept.error().toString();
  EXPECT_EQ(rvOf(*kept), rvOf(*before));
  kube::WatchOptions old;
  old.resourceVersion = rvOf(*before);
  auto stale = client->watch(res::kConfigMaps, "bounce", old);
  ASSERT_TRUE(stale.ok());
  auto gone = (*stale)->next();
  ASSERT_FALSE(gone.ok()) << "history starts again at the restart";
  EXPECT_TRUE(gone.error().is(ApiErrorReason::kGone)) << gone.error().toString();
  auto after = client->create(res::kConfigMaps, "bounce", cm("after", "2"));
  ASSERT_TRUE(after.ok()) << after.error().toString();
  EXPECT_GT(std::stoll(rvOf(*after)), std::stoll(rvOf(*second))) << "resourceVersions keep rising";
  ASSERT_TRUE(client->remove(res::kConfigMaps, "bounce", "before").ok());
  ASSERT_TRUE(eventually([&] { return informer.get("bounce", "after") && !informer.get("bounce", "before"); }, 20s))
      << "the informer watched again and saw the writes made after the restart";
  EXPECT_GT(informer.stats().watches, informerWatches) << "its watch was dropped";
  auto count = client->raw("GET", "/admin/restart");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ((*count)["restarts"], 1);
  informer.stop();
}

// --fault-restart-seconds: restarts every second while a client writes and an informer follows.
TEST(FaultsE2E, PeriodicRestartsKeepStateAndTheInformerConverges) {
  LocalCluster cluster({"--fault-restart-seconds", "1"});
  ASSERT_TRUE(cluster.start().ok());
  auto client = cluster.client();
  ASSERT_TRUE(ensureNamespace(*client, "cycle"));
  runtime::Informer informer(*client, informerOn("cycle"));
  informer.start();
  ASSERT_TRUE(informer.waitForSync(10s));
  int64_t lastRv = 0;
  for (int i = 0; i < 25; ++i) {
    auto r = ensureConfigMap(*client, "cycle", "c" + std::to_string(i), "v");
    ASSERT_TRUE(r.ok()) << r.error().toString();
    EXPECT_GT(std::stoll(rvOf(*r)), lastRv) << "resourceVersions keep rising across restarts";
    lastRv = std::stoll(rvOf(*r));
    std::this_thread::sleep_for(150ms);
  }
  ASSERT_TRUE(eventually([&] { return informer.size() == 25u; }, 20s)) << "cache size " << informer.size();
  auto count = client->raw("GET", "/admin/restart");
  ASSERT_TRUE(count.ok()) << count.error().toString();
  EXPECT_GE((*count)["restarts"].get<int>(), 2) << "about 3.75 s of writes at one restart a second";
  EXPECT_GE(informer.stats().watches, 2u);
  informer.stop();
}

TEST(FaultsE2E, InClusterConfigRereadsTheRotatedToken) {
  LocalCluster cluster;
  ASSERT_TRUE(cluster.start().ok());
  TempDir sa;
  std::filesystem::copy_file(cluster.dataDir() + "/ca.crt", sa.path() + "/ca.crt");
  std::ofstream(sa.path() + "/token") << "expired-token";
  std::ofstream(sa.path() + "/namespace") << "kube-system\n";
  kube::InClusterOptions o;
  o.serviceAccountDir = sa.path();
  o.env = {{"KUBERNETES_SERVICE_HOST", "127.0.0.1"}, {"KUBERNETES_SERVICE_PORT", std::to_string(cluster.port())}};
  auto config = kube::loadInClusterConfig(o);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->defaultNamespace, "kube-system");
  auto client = kube::HttpKubeClient::fromConfig(*config);
  ASSERT_TRUE(client.ok());
  auto denied = (*client)->get(res::kNamespaces, "", "kube-system");
  ASSERT_FALSE(denied.ok());
  EXPECT_TRUE(denied.error().is(ApiErrorReason::kUnauthorized));
  // The kubelet swaps in a fresh token (atomic rename); the running client picks it up.
  std::ofstream(sa.path() + "/token.new") << cluster.adminToken();
  std::filesystem::rename(sa.path() + "/token.new", sa.path() + "/token");
  auto allowed = (*client)->get(res::kNamespaces, "", "kube-system");
  EXPECT_TRUE(allowed.ok()) << allowed.error().toString();
}

}  // namespace
