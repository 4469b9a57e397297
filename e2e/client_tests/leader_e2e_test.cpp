// Leader election between real processes over HTTPS against the local cluster:
// - kill -9 of the leading `servicedb-operator run`: the standby's identity is in the Lease within
//   20 s;
// - a leader whose renewals are slowed by injected latency steps down (and exits 1) before its Lease
//   can expire, and no write of the two example-controller replicas ever lands while the other holds
//   the Lease (leader_overlap.h checks the exact history the server recorded).
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include "e2e/fixture/leader_overlap.h"
#include "e2e/fixture/local_cluster.h"
#include "operator/schema/yaml_json.h"

using namespace sdb;
using namespace sdb::e2e;
using namespace std::chrono_literals;
namespace res = sdb::kube::resources;

namespace {

const kube::ResourceRef kGreetings{"example.servicedb.io", "v1", "greetings", "Greeting", true};

Json ns(const std::string& name) { return {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}}; }

::testing::AssertionResult applyYamlFile(kube::KubeClient& c, const kube::ResourceRef& ref, const std::string& path) {
  auto doc = schema::yamlToJson(readFile(path));
  if (!doc.ok()) return ::testing::AssertionFailure() << path << ": " << doc.error().message;
  auto made = c.create(ref, "", *doc);
  if (!made.ok()) return ::testing::AssertionFailure() << path << ": " << made.error().toString();
  return ::testing::AssertionSuccess();
}

std::string holderOf(kube::KubeClient& c, const std::string& nsName, const std::string& lease) {
  auto l = c.get(res::kLeases, nsName, lease);
  return l.ok() ? jsonString(*l, {"spec", "holderIdentity"}) : "";
}

// Collects every event of one watch on a background thread.
class Recorder {
 public:
  Recorder(kube::KubeClient& c, const kube::ResourceRef& ref, const std::string& nsName, const std::string& fromRv) {
    kube::WatchOptions o;
    o.resourceVersion = fromRv;
    o.timeoutSeconds = 600;
    auto w = c.watch(ref, nsName, o);
    if (!w.ok()) {
      error_ = w.error().toString();
      return;
    }
    stream_ = std::move(*w);
    thread_ = std::thread([this] {
      while (true) {
        auto e = stream_->next();
        if (!e.ok()) {
          std::lock_guard<std::mutex> lock(mu_);
          error_ = e.error().toString();
          return;
        }
        if (!e->has_value()) return;
        std::lock_guard<std::mutex> lock(mu_);
        events_.push_back(std::move(**e));
      }
    });
  }
  ~Recorder() { stop(); }
  void stop() {
    if (stream_) stream_->stop();
    if (thread_.joinable()) thread_.join();
  }
  std::vector<kube::WatchEvent> events() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  std::string error() {
    std::lock_guard<std::mutex> lock(mu_);
    return error_;
  }

 private:
  std::unique_ptr<kube::WatchStream> stream_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<kube::WatchEvent> events_;
  std::string error_;
};

int64_t rvOf(const Json& o) { return std::stoll(jsonString(o, {"metadata", "resourceVersion"}, "0")); }

TEST(LeaderE2E, KillNineOfTheLeadingOperatorHandsOverWithin20Seconds) {
  LocalCluster cluster;
  ASSERT_TRUE(cluster.start().ok());
  auto client = cluster.client();
  ASSERT_TRUE(client->create(res::kNamespaces, "", ns("ops")).ok());
  for (const auto& f : std::filesystem::directory_iterator(sourceDir() + "/crds")) {
    if (f.path().extension() == ".yaml") {
      ASSERT_TRUE(applyYamlFile(*client, res::kCustomResourceDefinitions, f.path()));
    }
  }
  auto runArgs = [&] {
    return std::vector<std::string>{binaryPath("servicedb-operator"), "run", "--kubeconfig", cluster.kubeconfigPath(),
                                    "--operator-namespace", "ops", "--metrics-bind-address", "127.0.0.1:0",
                                    "--health-probe-bind-address", "127.0.0.1:0"};
  };
  ChildProcess a, b;
  ASSERT_TRUE(a.start(runArgs(), cluster.dir() + "/a.log").ok());
  std::string leader;
  ASSERT_TRUE(eventually([&] { return !(leader = holderOf(*client, "ops", "servicedb-operator-leader")).empty(); }, 20s))
      << a.log();
  ASSERT_NE(a.log().find("\"identity\":\"" + leader + "\""), std::string::npos) << "a leads";
  ASSERT_TRUE(b.start(runArgs(), cluster.dir() + "/b.log").ok());
  ASSERT_TRUE(eventually([&] { return b.log().find("\"new leader\"") != std::string::npos; }, 20s))
      << "the standby saw the leader: " << b.log();
  EXPECT_EQ(holderOf(*client, "ops", "servicedb-operator-leader"), leader) << "the standby waits";

  a.kill(SIGKILL);
  const auto killed = std::chrono::steady_clock::now();
  ASSERT_EQ(a.waitExit(5s), 128 + SIGKILL);
  std::string next;
  ASSERT_TRUE(eventually([&] {
    next = holderOf(*client, "ops", "servicedb-operator-leader");
    return !next.empty() && next != leader;
  }, 25s)) << b.log();
  const auto took = std::chrono::steady_clock::now() - killed;
  EXPECT_LT(took, 20s) << "holderIdentity must change within 20 s of kill -9";
  EXPECT_NE(b.log().find("\"msg\":\"became leader\""), std::string::npos);
  EXPECT_NE(b.log().find("\"identity\":\"" + next + "\""), std::string::npos) << "the standby took over";
  auto lease = client->get(res::kLeases, "ops", "servicedb-operator-leader");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*lease)["spec"]["leaseTransitions"], 1);
  std::cout << "hand-over after kill -9: " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
            << " ms (lease 15 s, renew deadline 10 s, retry 2 s)\n";
  b.kill(SIGTERM);
  EXPECT_EQ(b.waitExit(20s), 0);
}

TEST(LeaderE2E, SlowRenewalStepsDownAndTwoLeadersNeverWriteAtOnce) {
  LocalCluster cluster;
  ASSERT_TRUE(cluster.start().ok());
  kube::HttpClientOptions co;
  co.userAgent = "e2e-observer";
  auto client = cluster.client(co);
  ASSERT_TRUE(client->create(res::kNamespaces, "", ns("lead")).ok());
  ASSERT_TRUE(applyYamlFile(*client, res::kCustomResourceDefinitions, sourceDir() + "/e2e/example_controller/greeting_crd.yaml"));
  ASSERT_TRUE(eventually([&] { return client->list(kGreetings, "lead").ok(); }, 10s));
  Json greeting = {{"apiVersion", "example.servicedb.io/v1"}, {"kind", "Greeting"},
                   {"metadata", {{"name", "g"}, {"namespace", "lead"}}}, {"spec", {{"message", "m0"}}}};
  auto created = client->create(kGreetings, "lead", greeting);
  ASSERT_TRUE(created.ok()) << created.error().toString();
  const std::string startRv = jsonString(*created, {"metadata", "resourceVersion"});
  Recorder leaseLog(*client, res::kLeases, "lead", startRv);
  Recorder cmLog(*client, res::kConfigMaps, "lead", startRv);

  auto args = [&](const std::string& id) {
    return std::vector<std::string>{binaryPath("example-controller"), "--kubeconfig", cluster.kubeconfigPath(),
                                    "--lease-namespace", "lead", "--identity", id};
  };
  ChildProcess a, b;
  ASSERT_TRUE(a.start(args("leader-a"), cluster.dir() + "/a.log").ok());
  ASSERT_TRUE(eventually([&] { return holderOf(*client, "lead", "example-controller-leader") == "leader-a"; }, 20s)) << a.log();
  ASSERT_TRUE(b.start(args("leader-b"), cluster.dir() + "/b.log").ok());

  // Keep both replicas busy: the Greeting changes every 150 ms, so the leader writes all the time.
  std::atomic<bool> writing{true};
  std::atomic<int> changes{0};
  std::thread writer([&] {
    kube::HttpClientOptions wo;
    wo.userAgent = "e2e-writer";
    auto w = cluster.client(wo);
    for (int i = 1; writing.load(); ++i) {
      auto r = w->patch(kGreetings, "lead", "g", kube::PatchType::kMerge,
                        Json{{"spec", {{"message", "m" + std::to_string(i)}}}}.dump());
      if (r.ok()) ++changes;
      std::this_thread::sleep_for(150ms);
    }
  });
  struct StopWriter {
    std::atomic<bool>& flag;
    std::thread& t;
    ~StopWriter() {
      flag = false;
      if (t.joinable()) t.join();
    }
  } stopWriter{writing, writer};
  auto writesBy = [&](const std::string& id) {
    int n = 0;
    for (const auto& e : cmLog.events()) {
      if (jsonString(e.object, {"metadata", "annotations", "example.servicedb.io/written-by"}) == id) ++n;
    }
    return n;
  };
  // leader-a renews a few times (every 2 s) while writing.
  ASSERT_TRUE(eventually([&] { return writesBy("leader-a") >= 5 && leaseLog.events().size() >= 3; }, 20s)) << a.log();

  // Slow every Lease request of leader-a by 12 s (more than its 10 s renew deadline); its other
  // requests, and leader-b's, stay fast.
  ASSERT_TRUE(cluster.faults({{"latencyMs", 12000},
                              {"match", {{"userAgent", "example-controller/leader-a"}, {"path", "/leases"}}}}).ok());
  const auto slowed = std::chrono::steady_clock::now();
  std::optional<int> aExit;
  ASSERT_TRUE(eventually([&] { return (aExit = a.waitExit(0ms)).has_value(); }, 40s)) << "leader-a never stepped down:\n" << a.log();
  const auto aGone = std::chrono::steady_clock::now();
  EXPECT_EQ(*aExit, 1) << "a replica that lost leadership exits 1 to restart as a standby";
  EXPECT_NE(a.log().find("failed to renew the lease within the renew deadline"), std::string::npos) << a.log();
  ASSERT_TRUE(eventually([&] { return holderOf(*client, "lead", "example-controller-leader") == "leader-b"; }, 40s)) << b.log();
  const auto bLeads = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return writesBy("leader-b") >= 5; }, 20s)) << b.log();
  writing = false;
  writer.join();
  std::this_thread::sleep_for(500ms);
  ASSERT_TRUE(cluster.faults(Json::object()).ok());
  leaseLog.stop();
  cmLog.stop();
  ASSERT_TRUE(leaseLog.error().empty()) << leaseLog.error();
  ASSERT_TRUE(cmLog.error().empty()) << cmLog.error();

  std::vector<LeaseObservation> leases;
  for (const auto& e : leaseLog.events()) {
    if (jsonString(e.object, {"metadata", "name"}) != "example-controller-leader") continue;
    if (e.type == kube::WatchEvent::Type::kBookmark) continue;
    leases.push_back({rvOf(e.object), jsonString(e.object, {"spec", "holderIdentity"})});
  }
  std::vector<WriteObservation> writes;
  for (const auto& e : cmLog.events()) {
    if (e.type != kube::WatchEvent::Type::kAdded && e.type != kube::WatchEvent::Type::kModified) continue;
    writes.push_back({rvOf(e.object), jsonString(e.object, {"metadata", "annotations", "example.servicedb.io/written-by"}),
                      "ConfigMap lead/" + jsonString(e.object, {"metadata", "name"})});
  }
  auto violations = writesOutsideLeadership(leases, writes);
  for (const auto& v : violations) ADD_FAILURE() << v;
  EXPECT_TRUE(violations.empty());
  EXPECT_GE(writesBy("leader-a"), 5);
  EXPECT_GE(writesBy("leader-b"), 5);
  auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  std::cout << "greeting changes: " << changes.load() << "; ConfigMap writes: leader-a " << writesBy("leader-a")
            << ", leader-b " << writesBy("leader-b") << "; lease events " << leases.size() << "; leader-a exited "
            << ms(aGone - slowed) << " ms after its renewals were slowed, leader-b led after " << ms(bLeads - slowed)
            << " ms; overlapping writes: " << violations.size() << "\n";
  b.kill(SIGTERM);
  EXPECT_EQ(b.waitExit(20s), 0);
}

}  // namespace
