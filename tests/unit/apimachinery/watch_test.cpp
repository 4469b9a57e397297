#include <gtest/gtest.h>

#include <thread>

#include "e2e/apimachinery/store.h"

namespace sdb::apimachinery {
namespace {

using namespace std::chrono_literals;
using T = kube::WatchEvent::Type;
namespace res = kube::resources;

class WatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o;
    o.historyLimit = 10;
    auto opened = Store::open(o);
    ASSERT_TRUE(opened.ok());
    store_ = std::move(opened).value();
    ASSERT_TRUE(store_->create(res::kNamespaces, "", {{"metadata", {{"name", "a"}}}}).ok());
  }
  Json cm(const std::string& name, const std::string& tier = "x") {
    return {{"metadata", {{"name", name}, {"labels", {{"tier", tier}}}}}};
  }
  std::vector<std::pair<T, std::string>> drain(Watcher& w) {
    std::vector<std::pair<T, std::string>> out;
    while (auto e = w.next(50ms)) out.emplace_back(e->type, jsonString(e->object, {"metadata", "name"}));
    return out;
  }
  std::unique_ptr<Store> store_;
};

TEST_F(WatchTest, FromNowSendsCurrentObjectsThenChanges) {
  ASSERT_TRUE(store_->create(res::kConfigMaps, "a", cm("one")).ok());
  auto w = store_->watch(res::kConfigMaps, "a", {});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(store_->create(res::kConfigMaps, "a", cm("two")).ok());
  ASSERT_TRUE(store_->remove(res::kConfigMaps, "a", "one").ok());
  EXPECT_EQ(drain(**w), (std::vector<std::pair<T, std::string>>{{T::kAdded, "one"}, {T::kAdded, "two"}, {T::kDeleted, "one"}}));
}

TEST_F(WatchTest, FromAResourceVersionReplaysOnlyLaterEvents) {
  auto first = store_->create(res::kConfigMaps, "a", cm("one"));
  ASSERT_TRUE(store_->create(res::kConfigMaps, "a", cm("two")).ok());
  kube::WatchOptions o;
  o.resourceVersion = (*first)["metadata"]["resourceVersion"];
  auto w = store_->watch(res::kConfigMaps, "a", o);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(drain(**w), (std::vector<std::pair<T, std::string>>{{T::kAdded, "two"}}));
}

TEST_F(WatchTest, TooOldResourceVersionIsGone) {
  for (int i = 0; i < 15; ++i) ASSERT_TRUE(store_->create(res::kConfigMaps, "a", cm("c" + std::to_string(i))).ok());
  kube::WatchOptions o;
  o.resourceVersion = "2";
  auto w = store_->watch(res::kConfigMaps, "a", o);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().httpCode, 410);
  EXPECT_EQ(w.error().message.rfind("too old resource version: 2 (", 0), 0u);
}

// The slow-watcher boundary (e2e/README.md): a watcher more than `watcherCapacity` events behind is
// closed with a 410 ERROR event instead of the events, and the client must re-list.
TEST_F(WatchTest, AWatcherTooFarBehindGetsA410ErrorEventAndEnds) {
  StoreOptions o;
  o.watcherCapacity = 3;
  auto opened = Store::open(o);
  ASSERT_TRUE(opened.ok());
  auto& store = **opened;
  ASSERT_TRUE(store.create(res::kNamespaces, "", {{"metadata", {{"name", "a"}}}}).ok());
  auto w = store.watch(res::kConfigMaps, "a", {});
  ASSERT_TRUE(w.ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store.create(res::kConfigMaps, "a", cm("c" + std::to_string(i))).ok());
  EXPECT_FALSE((*w)->closed()) << "three events fit";
  ASSERT_TRUE(store.create(res::kConfigMaps, "a", cm("c3")).ok());
  auto e = (*w)->next(50ms);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type, T::kError) << "the queued events are dropped for the error";
  EXPECT_EQ(e->object["code"], 410);
  EXPECT_EQ(e->object["reason"], "Expired");
  EXPECT_EQ(e->object["status"], "Failure");
  EXPECT_NE(e->object["message"].get<std::string>().find("more than 3 events queued"), std::string::npos) << e->object.dump();
  EXPECT_FALSE((*w)->next(50ms).has_value());
  EXPECT_TRUE((*w)->closed());
  ASSERT_TRUE(store.create(res::kConfigMaps, "a", cm("c4")).ok());
  EXPECT_FALSE((*w)->next(50ms).has_value()) << "nothing more after the error";
  // A watcher that keeps up is never dropped.
  kube::WatchOptions now;
  now.resourceVersion = std::to_string(store.resourceVersion());
  auto keeping = store.watch(res::kConfigMaps, "a", now);
  ASSERT_TRUE(keeping.ok());
  for (int i = 5; i < 15; ++i) {
    ASSERT_TRUE(store.create(res::kConfigMaps, "a", cm("c" + std::to_string(i))).ok());
    auto got = (*keeping)->next(50ms);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->type, T::kAdded);
  }
}

TEST_F(WatchTest, LabelSelectorTransitionsBecomeAddedAndDeleted) {
  kube::WatchOptions o;
  o.labelSelector = "tier=db";
  auto w = store_->watch(res::kConfigMaps, "a", o);
  auto c = store_->create(res::kConfigMaps, "a", cm("c", "web"));
  auto moved = *c;
  moved["metadata"]["labels"]["tier"] = "db";
  auto in = store_->update(res::kConfigMaps, "a", "c", moved);
  auto out = *in;
  out["metadata"]["labels"]["tier"] = "web";
  ASSERT_TRUE(store_->update(res::kConfigMaps, "a", "c", out).ok());
  EXPECT_EQ(drain(**w), (std::vector<std::pair<T, std::string>>{{T::kAdded, "c"}, {T::kDeleted, "c"}}));
}

TEST_F(WatchTest, BookmarksCarryTheCurrentResourceVersion) {
  auto w = store_->watch(res::kConfigMaps, "a", {});
  ASSERT_TRUE(store_->create(res::kConfigMaps, "a", cm("one")).ok());
  store_->bookmark(**w);
  auto e1 = (*w)->next(50ms);
  auto e2 = (*w)->next(50ms);
  ASSERT_TRUE(e2.has_value());
  EXPECT_EQ(e2->type, T::kBookmark);
  EXPECT_EQ(e2->object["kind"], "ConfigMap");
  EXPECT_EQ(e2->object["metadata"]["resourceVersion"], std::to_string(store_->resourceVersion()));
  (void)e1;
}

TEST_F(WatchTest, ConcurrentWritersAndWatchersSeeEveryEventInOrder) {
  constexpr int kWriters = 4, kPerWriter = 250;
  std::vector<std::shared_ptr<Watcher>> watchers;
  for (int i = 0; i < 3; ++i) watchers.push_back(*store_->watch(res::kConfigMaps, "", {}));
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerWriter; ++i) {
        ASSERT_TRUE(store_->create(res::kConfigMaps, "a", cm("w" + std::to_string(t) + "-" + std::to_string(i))).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  for (auto& w : watchers) {
    int64_t last = 0;
    int n = 0;
    while (auto e = w->next(50ms)) {
      int64_t rv = std::stoll(e->object["metadata"]["resourceVersion"].get<std::string>());
      EXPECT_GT(rv, last);
      last = rv;
      ++n;
    }
    EXPECT_EQ(n, kWriters * kPerWriter);
  }
}

}  // namespace
}  // namespace sdb::apimachinery
