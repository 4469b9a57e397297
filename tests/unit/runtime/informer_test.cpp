// Informer over the in-process client: list then watch, handlers, indexes, managedFields stripped,
// the Secret label filter, and 410 → re-list after a cut watch outlived the store's history.
#include "operator/runtime/informer.h"

#include "tests/unit/runtime/fixture.h"

using namespace std::chrono_literals;
using namespace sdb;
using namespace sdb::runtime;
using namespace sdb::runtime::testing;
namespace res = sdb::kube::resources;

namespace {

Json configMap(const std::string& ns, const std::string& name, Json labels = Json::object(),
               const std::string& ownerUid = "") {
  Json cm = {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata", {{"name", name}, {"namespace", ns}, {"labels", labels}}},
             {"data", {{"k", "v"}}}};
  if (!ownerUid.empty()) {
    cm["metadata"]["ownerReferences"] = {{{"apiVersion", "servicedb.io/v1alpha1"},
                                          {"kind", "ServiceDatabase"},
                                          {"name", "owner"},
                                          {"uid", ownerUid},
                                          {"controller", true}}};
  }
  return cm;
}

struct Recorder {
  std::mutex mu;
  std::vector<std::string> log;
  InformerHandlers handlers() {
    return {[this](const ObjectPtr& o) { push("add " + jsonString(*o, {"metadata", "name"})); },
            [this](const ObjectPtr& a, const ObjectPtr& b) {
              if (a != b) push("update " + jsonString(*b, {"metadata", "name"}));
            },
            [this](const ObjectPtr& o) { push("delete " + jsonString(*o, {"metadata", "name"})); }};
  }
  void push(std::string s) {
    std::lock_guard<std::mutex> l(mu);
    log.push_back(std::move(s));
  }
  bool has(const std::string& s) {
    std::lock_guard<std::mutex> l(mu);
    return std::find(log.begin(), log.end(), s) != log.end();
  }
};

class InformerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = openStore(nullptr, 8);
    ASSERT_TRUE(store_);
    client_ = std::make_unique<apimachinery::InProcessKubeClient>(*store_);
    for (auto ns : {"a", "b"}) ASSERT_TRUE(client_->create(res::kNamespaces, "", nsObject(ns)).ok());
  }
  std::unique_ptr<apimachinery::Store> store_;
  std::unique_ptr<apimachinery::InProcessKubeClient> client_;
};

}  // namespace

TEST_F(InformerTest, ListThenWatchWithIndexes) {
  Json managed = configMap("a", "pre", {{"app", "x"}}, "uid-1");
  managed["metadata"]["managedFields"] = {{{"manager", "kubectl"}, {"operation", "Apply"}}};
  ASSERT_TRUE(client_->create(res::kConfigMaps, "a", managed).ok());
  ASSERT_TRUE(client_->create(res::kConfigMaps, "b", configMap("b", "other", {{"app", "y"}})).ok());

  InformerOptions o;
  o.resource = res::kConfigMaps;
  Informer inf(*client_, o);
  Recorder rec;
  inf.addHandlers(rec.handlers());
  inf.start();
  ASSERT_TRUE(inf.waitForSync(5s));
  EXPECT_TRUE(inf.hasSynced());
  EXPECT_EQ(inf.size(), 2u);
  EXPECT_TRUE(rec.has("add pre"));
  auto pre = inf.get("a", "pre");
  ASSERT_TRUE(pre);
  EXPECT_FALSE(jsonAt(*pre, {"metadata", "managedFields"})) << "managedFields must be stripped";
  EXPECT_EQ(pre->value("kind", ""), "ConfigMap") << "list items get their kind back";

  ASSERT_TRUE(client_->create(res::kConfigMaps, "b", configMap("b", "child", {{"app", "x"}}, "uid-1")).ok());
  ASSERT_TRUE(eventually([&] { return inf.size() == 3; }));
  // The cache changes before the handlers run: the handler call may land a moment later.
  EXPECT_TRUE(eventually([&] { return rec.has("add child"); }));
  EXPECT_EQ(inf.list("a").size(), 1u);
  EXPECT_EQ(inf.list("b").size(), 2u);
  EXPECT_EQ(inf.byOwnerUid("uid-1").size(), 2u);
  EXPECT_EQ(inf.byLabel("app", "x").size(), 2u);
  EXPECT_EQ(inf.byLabel("app", "y").size(), 1u);

  Json changed = *inf.get("b", "child");
  changed["metadata"]["labels"] = {{"app", "z"}};
  ASSERT_TRUE(client_->update(res::kConfigMaps, "b", changed).ok());
  ASSERT_TRUE(eventually([&] { return inf.byLabel("app", "z").size() == 1; }));
  EXPECT_EQ(inf.byLabel("app", "x").size(), 1u) << "the old label's index entry is gone";
  EXPECT_TRUE(eventually([&] { return rec.has("update child"); }));

  ASSERT_TRUE(client_->remove(res::kConfigMaps, "a", "pre").ok());
  ASSERT_TRUE(eventually([&] { return inf.size() == 2; }));
  EXPECT_TRUE(eventually([&] { return rec.has("delete pre"); }));
  EXPECT_TRUE(inf.byOwnerUid("uid-1").size() == 1u);
  inf.stop();
}

TEST_F(InformerTest, SecretsAreCachedOnlyWithOurLabel) {
  Json ours = {{"apiVersion", "v1"},
               {"kind", "Secret"},
               {"metadata", {{"name", "ours"}, {"namespace", "a"}, {"labels", {{kManagedByLabel, kManagedByValue}}}}},
               {"stringData", {{"password", "p"}}}};
  Json theirs = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", "theirs"}, {"namespace", "a"}}},
                 {"stringData", {{"password", "q"}}}};
  ASSERT_TRUE(client_->create(res::kSecrets, "a", ours).ok());
  ASSERT_TRUE(client_->create(res::kSecrets, "a", theirs).ok());
  InformerOptions o;
  o.resource = res::kSecrets;
  o.labelSelector = kManagedBySelector;
  Informer inf(*client_, o);
  inf.start();
  ASSERT_TRUE(inf.waitForSync(5s));
  theirs["metadata"]["name"] = "theirs-2";
  ASSERT_TRUE(client_->create(res::kSecrets, "a", theirs).ok());
  ours["metadata"]["name"] = "ours-2";
  ASSERT_TRUE(client_->create(res::kSecrets, "a", ours).ok());
  ASSERT_TRUE(eventually([&] { return inf.get("a", "ours-2") != nullptr; }));
  EXPECT_TRUE(inf.get("a", "ours"));
  EXPECT_FALSE(inf.get("a", "theirs")) << "user Secrets are read uncached, never cached";
  EXPECT_FALSE(inf.get("a", "theirs-2"));
  EXPECT_EQ(inf.size(), 2u);
  inf.stop();
}

TEST_F(InformerTest, UserSecretWatchedByNameOnly) {
  for (auto n : {"s3-credentials", "unrelated"}) {
    Json s = {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", n}, {"namespace", "a"}}},
              {"stringData", {{"k", "v"}}}};
    ASSERT_TRUE(client_->create(res::kSecrets, "a", s).ok());
  }
  InformerOptions o;
  o.resource = res::kSecrets;
  o.ns = "a";
  o.fieldSelector = "metadata.name=s3-credentials";
  Informer inf(*client_, o);
  std::atomic<int> updates{0};
  inf.addHandlers({nullptr, [&](const ObjectPtr& a, const ObjectPtr& b) {
                     if (a != b) ++updates;
                   },
                   nullptr});
  inf.start();
  ASSERT_TRUE(inf.waitForSync(5s));
  EXPECT_EQ(inf.size(), 1u);
  EXPECT_TRUE(inf.get("a", "s3-credentials"));
  Json changed = *client_->get(res::kSecrets, "a", "s3-credentials");
  changed["stringData"] = {{"k", "rotated"}};
  ASSERT_TRUE(client_->update(res::kSecrets, "a", changed).ok());
  ASSERT_TRUE(eventually([&] { return updates.load() == 1; })) << "a rotation of the named Secret is seen";
  inf.stop();
}

TEST_F(InformerTest, GoneAfterCutWatchRelistsAndDeliversMissedDeletes) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client_->create(res::kConfigMaps, "a", configMap("a", "cm" + std::to_string(i))).ok());
  }
  GatedClient gated(*client_);
  InformerOptions o;
  o.resource = res::kConfigMaps;
  o.backoffInitial = 10ms;
  o.backoffMax = 20ms;
  Informer inf(gated, o);
  Recorder rec;
  inf.addHandlers(rec.handlers());
  inf.start();
  ASSERT_TRUE(inf.waitForSync(5s));
  ASSERT_TRUE(eventually([&] { return gated.watchCalls.load() >= 1 && inf.stats().watches >= 1; }));
  std::this_thread::sleep_for(20ms);

  gated.refuseWatches = true;
  gated.cutWatch();
  // While we are away: more writes than the store's history (8) keeps, including a delete.
  ASSERT_TRUE(client_->remove(res::kConfigMaps, "a", "cm0").ok());
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE(client_->create(res::kConfigMaps, "b", configMap("b", "new" + std::to_string(i))).ok());
  }
  ASSERT_TRUE(eventually([&] { return inf.stats().failures >= 1; })) << "reconnects were refused";
  gated.refuseWatches = false;

  ASSERT_TRUE(eventually([&] { return inf.size() == 14; })) << "size " << inf.size();
  EXPECT_GE(inf.stats().relistsOnGone, 1u) << "resuming from the old resourceVersion answered 410";
  EXPECT_GE(inf.stats().lists, 2u);
  EXPECT_TRUE(rec.has("delete cm0")) << "the re-list delivered the delete we missed";
  EXPECT_FALSE(inf.get("a", "cm0"));
  EXPECT_TRUE(inf.get("b", "new11"));
  // And the new watch works.
  ASSERT_TRUE(client_->create(res::kConfigMaps, "a", configMap("a", "after")).ok());
  ASSERT_TRUE(eventually([&] { return inf.get("a", "after") != nullptr; }));
  inf.stop();
}

TEST_F(InformerTest, StalledWatchIsRestartedAndResyncRedelivers) {
  InformerOptions o;
  o.resource = res::kConfigMaps;
  o.watchTimeoutSeconds = 1;
  o.stallFactor = 1;  // nothing within 1 s → restart (the in-process stream sends no bookmarks)
  o.monitorInterval = 50ms;
  o.resyncPeriod = 300ms;
  Informer inf(*client_, o);
  std::atomic<int> resyncs{0};
  inf.addHandlers({nullptr, [&](const ObjectPtr& a, const ObjectPtr& b) {
                     if (a == b) ++resyncs;
                   },
                   nullptr});
  ASSERT_TRUE(client_->create(res::kConfigMaps, "a", configMap("a", "x")).ok());
  inf.start();
  ASSERT_TRUE(inf.waitForSync(5s));
  ASSERT_TRUE(eventually([&] { return resyncs.load() >= 1; }, 3s)) << "resync re-delivers cached objects";
  ASSERT_TRUE(eventually([&] { return inf.stats().watches >= 2; }, 5s)) << "the watch was re-opened";
  ASSERT_TRUE(client_->create(res::kConfigMaps, "a", configMap("a", "y")).ok());
  ASSERT_TRUE(eventually([&] { return inf.get("a", "y") != nullptr; }));
  EXPECT_EQ(inf.stats().relistsOnGone, 0u);
  inf.stop();
}

// A resync pass re-delivers every cached object (each decoded on its own, not the whole cache at
// once), as the same object for old and new, and skips one deleted while the pass runs.
TEST_F(InformerTest, ResyncRedeliversEveryCachedObject) {
  constexpr int kObjects = 40;
  for (int i = 0; i < kObjects; ++i) {
    ASSERT_TRUE(client_->create(res::kConfigMaps, "a", configMap("a", "cm" + std::to_string(i))).ok());
  }
  InformerOptions o;
  o.resource = res::kConfigMaps;
  o.monitorInterval = 50ms;
  o.resyncPeriod = 200ms;
  Informer inf(*client_, o);
  std::mutex mu;
  std::map<std::string, int> seen;  // name -> resync deliveries
  inf.addHandlers({nullptr, [&](const ObjectPtr& a, const ObjectPtr& b) {
                     if (!a || !b || a != b) return;
                     std::lock_guard<std::mutex> lock(mu);
                     ++seen[jsonString(*b, {"metadata", "name"})];
                   },
                   nullptr});
  inf.start();
  ASSERT_TRUE(inf.waitForSync(5s));
  auto everyOne = [&](int atLeast) {
    std::lock_guard<std::mutex> lock(mu);
    if (seen.size() != size_t(kObjects)) return false;
    for (const auto& [name, n] : seen) {
      if (n < atLeast) return false;
    }
    return true;
  };
  ASSERT_TRUE(eventually([&] { return everyOne(2); }, 5s)) << "two passes reach all " << kObjects << " objects";
  ASSERT_TRUE(client_->remove(res::kConfigMaps, "a", "cm0").ok());
  ASSERT_TRUE(eventually([&] { return inf.get("a", "cm0") == nullptr; }));
  // Waits for cm1 to be delivered again: the pass that does so ends after this call began.
  auto anotherPass = [&] {
    {
      std::lock_guard<std::mutex> lock(mu);
      seen.erase("cm1");
    }
    return eventually([&] {
      std::lock_guard<std::mutex> lock(mu);
      return seen.count("cm1") > 0;
    }, 5s);
  };
  ASSERT_TRUE(anotherPass());
  ASSERT_TRUE(anotherPass()) << "a pass that began after the deletion";
  int before = 0;
  {
    std::lock_guard<std::mutex> lock(mu);
    before = seen["cm0"];
  }
  ASSERT_TRUE(anotherPass());
  ASSERT_TRUE(anotherPass());
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(seen["cm0"], before) << "a deleted object is not re-delivered";
  }
  inf.stop();
}

// Reconnect backoff while every watch is refused. The informer waits in real time (a condition
// variable, so stop() can interrupt it), not on the injected Clock, so this checks measured gaps
// between watch attempts. Lower bounds are exact: a wait is never shorter than half the current
// backoff (the jitter is 50-100 %), however loaded the machine, so a backoff that did not grow fails
// here deterministically. The cap is checked with an upper bound that allows 1 s of scheduling delay,
// far below what an uncapped doubling would reach by the last gap.
TEST_F(InformerTest, RefusedWatchesBackOffExponentiallyUpToTheCap) {
  GatedClient gated(*client_);
  gated.refuseWatches = true;  // the list passes; every watch is refused
  InformerOptions o;
  o.resource = res::kConfigMaps;
  o.ns = "a";
  o.backoffInitial = 20ms;
  o.backoffMax = 160ms;
  Informer inf(gated, o);
  inf.start();
  ASSERT_TRUE(inf.waitForSync(5s));
  constexpr int kAttempts = 10;
  ASSERT_TRUE(eventually([&] { return gated.watchCalls.load() >= kAttempts; }, 15s))
      << "only " << gated.watchCalls.load() << " watch attempts";
  inf.stop();
  auto times = gated.watchTimes();
  ASSERT_GE(times.size(), size_t(kAttempts));
  std::vector<std::chrono::milliseconds> gaps;
  for (int i = 1; i < kAttempts; ++i) {
    gaps.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(times[i] - times[i - 1]));
  }
  std::string all;
  for (auto g : gaps) all += std::to_string(g.count()) + "ms ";
  for (size_t i = 0; i < gaps.size(); ++i) {
    const auto backoff = std::min(o.backoffInitial * (1 << std::min<size_t>(i, 10)), o.backoffMax);
    // 1 ms of slack for the clock's rounding to whole milliseconds above.
    EXPECT_GE(gaps[i], backoff / 2 - 1ms) << "gap " << i << " (backoff " << backoff.count() << " ms); gaps: " << all;
    EXPECT_LE(gaps[i], backoff + 1s) << "gap " << i << " exceeds the cap; gaps: " << all;
  }
  EXPECT_GE(inf.stats().failures, uint64_t(kAttempts - 1));
  EXPECT_EQ(inf.stats().watches, 0u) << "no watch was ever opened";
}
