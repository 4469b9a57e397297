// Garbage collection through ownerReferences and namespace termination, following Kubernetes'
// documentation ("Garbage Collection", "Use Cascading Deletion in a Cluster", "Namespaces").
// Passes are run by hand (collectGarbage until it makes no writes) so every step is observable.
#include <gtest/gtest.h>

#include <thread>

#include "e2e/apimachinery/garbage_collector.h"

namespace sdb::apimachinery {
namespace {

using kube::ApiErrorReason;
namespace res = kube::resources;

class GarbageCollectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o;
    o.clock = &clock_;
    o.random = &random_;
    store_ = Store::open(o).value();
    ASSERT_TRUE(store_->create(res::kNamespaces, "", {{"metadata", {{"name", "a"}}}}).ok());
  }
  Json make(const kube::ResourceRef& r, const std::string& name, Json owners = nullptr, Json finalizers = nullptr) {
    Json o = {{"metadata", {{"name", name}}}};
    if (!owners.is_null()) o["metadata"]["ownerReferences"] = owners;
    if (!finalizers.is_null()) o["metadata"]["finalizers"] = finalizers;
    auto c = store_->create(r, "a", o);
    EXPECT_TRUE(c.ok()) << c.error().toString();
    return c.ok() ? *c : Json();
  }
  static Json ref(const Json& owner, bool block = false) {
    Json r = {{"apiVersion", owner["apiVersion"]}, {"kind", owner["kind"]}, {"name", owner["metadata"]["name"]},
              {"uid", owner["metadata"]["uid"]}};
    if (block) r["blockOwnerDeletion"] = true;
    return r;
  }
  bool exists(const kube::ResourceRef& r, const std::string& name, const std::string& ns = "a") {
    return store_->get(r, ns, name).ok();
  }
  size_t collect() {
    size_t total = 0;
    for (size_t n = store_->collectGarbage(); n > 0; n = store_->collectGarbage()) total += n;
    return total;
  }
  kube::KResult<Json> del(const kube::ResourceRef& r, const std::string& name, const std::string& policy = "",
                          RequestContext* ctx = nullptr) {
    kube::DeleteOptions o;
    o.propagationPolicy = policy;
    return store_->remove(r, "a", name, o, ctx);
  }
  FakeClock clock_{std::chrono::system_clock::from_time_t(1764040000)};
  SeededRandom random_{11};
  std::unique_ptr<Store> store_;
};

TEST_F(GarbageCollectionTest, BackgroundDeletesDependentsAfterTheOwner) {
  Json deploy = make(res::kDeployments, "web");
  Json other = make(res::kDeployments, "other");
  make(res::kConfigMaps, "only-web", Json::array({ref(deploy)}));
  make(res::kConfigMaps, "shared", Json::array({ref(deploy), ref(other)}));
  make(res::kConfigMaps, "unowned");
  ASSERT_TRUE(del(res::kDeployments, "web", "Background").ok());
  EXPECT_FALSE(exists(res::kDeployments, "web")) << "background: the owner goes at once";
  EXPECT_TRUE(exists(res::kConfigMaps, "only-web")) << "dependents go when the collector runs";
  EXPECT_GT(collect(), 0u);
  EXPECT_FALSE(exists(res::kConfigMaps, "only-web"));
  auto shared = store_->get(res::kConfigMaps, "a", "shared");
  ASSERT_TRUE(shared.ok()) << "an object with a remaining owner stays";
  ASSERT_EQ((*shared)["metadata"]["ownerReferences"].size(), 1u) << "and loses the dangling reference";
  EXPECT_EQ((*shared)["metadata"]["ownerReferences"][0]["name"], "other");
  EXPECT_TRUE(exists(res::kConfigMaps, "unowned"));
  EXPECT_EQ(collect(), 0u) << "a fixed point";
}

TEST_F(GarbageCollectionTest, ChainsAndReusedNamesAreCollected) {
  Json a = make(res::kDeployments, "a");
  Json b = make(res::kStatefulSets, "b", Json::array({ref(a)}));
  make(res::kConfigMaps, "c", Json::array({ref(b)}));
  ASSERT_TRUE(del(res::kDeployments, "a").ok());
  collect();
  EXPECT_FALSE(exists(res::kStatefulSets, "b"));
  EXPECT_FALSE(exists(res::kConfigMaps, "c")) << "the dependent's dependents go too";
  // An owner reference to an object that was replaced by another of the same name is dangling.
  Json old = make(res::kDeployments, "reused");
  ASSERT_TRUE(del(res::kDeployments, "reused").ok());
  make(res::kDeployments, "reused");
  make(res::kConfigMaps, "of-old", Json::array({ref(old)}));
  collect();
  EXPECT_FALSE(exists(res::kConfigMaps, "of-old"));
  // A reference to a kind nobody serves cannot be resolved, so it is never collected.
  make(res::kConfigMaps, "unknown-owner", Json::array({{{"apiVersion", "example.io/v1"}, {"kind", "Nothing"}, {"name", "x"}, {"uid", "u"}}}));
  collect();
  EXPECT_TRUE(exists(res::kConfigMaps, "unknown-owner"));
}

TEST_F(GarbageCollectionTest, AnOwnerHeldByAFinalizerKeepsItsDependents) {
  Json owner = make(res::kConfigMaps, "owner", nullptr, Json::array({"example.io/cleanup"}));
  make(res::kSecrets, "child", Json::array({ref(owner)}));
  ASSERT_TRUE(del(res::kConfigMaps, "owner").ok());
  collect();
  EXPECT_TRUE(exists(res::kSecrets, "child")) << "the owner still exists, being deleted";
  ASSERT_TRUE(store_->patch(res::kConfigMaps, "a", "owner", kube::PatchType::kMerge, R"({"metadata":{"finalizers":null}})").ok());
  EXPECT_FALSE(exists(res::kConfigMaps, "owner"));
  collect();
  EXPECT_FALSE(exists(res::kSecrets, "child"));
}

TEST_F(GarbageCollectionTest, ForegroundWaitsForBlockingDependents) {
  Json deploy = make(res::kDeployments, "web");
  make(res::kConfigMaps, "blocking", Json::array({ref(deploy, true)}), Json::array({"example.io/slow"}));
  make(res::kConfigMaps, "non-blocking", Json::array({ref(deploy)}));
  auto deleting = del(res::kDeployments, "web", "Foreground");
  ASSERT_TRUE(deleting.ok());
  EXPECT_TRUE((*deleting)["metadata"].contains("deletionTimestamp"));
  EXPECT_EQ((*deleting)["metadata"]["finalizers"], (Json{"foregroundDeletion"}));
  collect();
  EXPECT_FALSE(exists(res::kConfigMaps, "non-blocking"));
  auto blocking = store_->get(res::kConfigMaps, "a", "blocking");
  ASSERT_TRUE(blocking.ok());
  EXPECT_TRUE((*blocking)["metadata"].contains("deletionTimestamp")) << "the dependent is being deleted";
  EXPECT_TRUE(exists(res::kDeployments, "web")) << "the owner waits for its blocking dependent";
  ASSERT_TRUE(store_->patch(res::kConfigMaps, "a", "blocking", kube::PatchType::kMerge, R"({"metadata":{"finalizers":null}})").ok());
  collect();
  EXPECT_FALSE(exists(res::kDeployments, "web"));
}

TEST_F(GarbageCollectionTest, ForegroundCascadesThroughDependentsThatHaveDependents) {
  Json top = make(res::kDeployments, "top");
  Json mid = make(res::kStatefulSets, "mid", Json::array({ref(top, true)}));
  make(res::kConfigMaps, "leaf", Json::array({ref(mid, true)}), Json::array({"example.io/slow"}));
  ASSERT_TRUE(del(res::kDeployments, "top", "Foreground").ok());
  collect();
  auto m = store_->get(res::kStatefulSets, "a", "mid");
  ASSERT_TRUE(m.ok()) << "mid waits for leaf";
  EXPECT_EQ((*m)["metadata"]["finalizers"], (Json{"foregroundDeletion"})) << "a dependent with dependents goes in the foreground";
  EXPECT_TRUE(exists(res::kDeployments, "top"));
  ASSERT_TRUE(store_->patch(res::kConfigMaps, "a", "leaf", kube::PatchType::kMerge, R"({"metadata":{"finalizers":null}})").ok());
  collect();
  EXPECT_FALSE(exists(res::kStatefulSets, "mid"));
  EXPECT_FALSE(exists(res::kDeployments, "top"));
}

TEST_F(GarbageCollectionTest, OrphanReleasesDependents) {
  Json deploy = make(res::kDeployments, "web");
  Json other = make(res::kDeployments, "other");
  make(res::kConfigMaps, "child", Json::array({ref(deploy), ref(other)}));
  make(res::kConfigMaps, "only-child", Json::array({ref(deploy)}));
  auto deleting = del(res::kDeployments, "web", "Orphan");
  ASSERT_TRUE(deleting.ok());
  EXPECT_EQ((*deleting)["metadata"]["finalizers"], (Json{"orphan"}));
  EXPECT_TRUE(exists(res::kDeployments, "web")) << "the owner waits for the orphaning";
  collect();
  EXPECT_FALSE(exists(res::kDeployments, "web"));
  auto child = store_->get(res::kConfigMaps, "a", "child");
  ASSERT_TRUE(child.ok());
  ASSERT_EQ((*child)["metadata"]["ownerReferences"].size(), 1u);
  EXPECT_EQ((*child)["metadata"]["ownerReferences"][0]["name"], "other");
  auto only = store_->get(res::kConfigMaps, "a", "only-child");
  ASSERT_TRUE(only.ok());
  EXPECT_FALSE((*only)["metadata"].contains("ownerReferences"));
}

TEST_F(GarbageCollectionTest, PoliciesValidateJobsOrphanByDefaultAndAPolicyCanChange) {
  auto bad = del(res::kDeployments, "x", "Sometimes");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().httpCode, 422);
  EXPECT_EQ(bad.error().message, "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"Sometimes\": "
                                 "supported values: \"Foreground\", \"Background\", \"Orphan\"");
  Json job = make(res::kJobs, "j");
  make(res::kPods, "j-pod", Json::array({ref(job, true)}));
  RequestContext ctx;
  auto deleting = del(res::kJobs, "j", "", &ctx);
  ASSERT_TRUE(deleting.ok());
  EXPECT_EQ((*deleting)["metadata"]["finalizers"], (Json{"orphan"}));
  ASSERT_EQ(ctx.warnings.size(), 1u);
  EXPECT_EQ(ctx.warnings[0].rfind("child pods are preserved by default when jobs are deleted", 0), 0u);
  collect();
  EXPECT_TRUE(exists(res::kPods, "j-pod"));
  // A later delete with another policy replaces the collector's finalizer.
  Json d = make(res::kDeployments, "d");
  make(res::kConfigMaps, "d-cm", Json::array({ref(d)}), Json::array({"example.io/keep"}));
  ASSERT_TRUE(del(res::kDeployments, "d", "Foreground").ok());
  auto switched = del(res::kDeployments, "d", "Orphan");
  EXPECT_EQ((*switched)["metadata"]["finalizers"], (Json{"orphan"}));
  collect();
  EXPECT_FALSE(exists(res::kDeployments, "d"));
  EXPECT_TRUE(exists(res::kConfigMaps, "d-cm"));
}

TEST_F(GarbageCollectionTest, NamespaceDeletionEmptiesTheNamespaceThenRemovesIt) {
  make(res::kConfigMaps, "plain");
  make(res::kSecrets, "guarded", nullptr, Json::array({"example.io/guard"}));
  auto ns = store_->get(res::kNamespaces, "", "a");
  EXPECT_EQ((*ns)["spec"]["finalizers"], (Json{"kubernetes"}));
  auto deleting = store_->remove(res::kNamespaces, "", "a");
  ASSERT_TRUE(deleting.ok());
  EXPECT_EQ((*deleting)["status"]["phase"], "Terminating");
  EXPECT_TRUE((*deleting)["metadata"].contains("deletionTimestamp"));
  auto refused = store_->create(res::kConfigMaps, "a", {{"metadata", {{"name", "late"}}}});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().httpCode, 403);
  EXPECT_EQ(refused.error().message,
            "configmaps \"late\" is forbidden: unable to create new content in namespace a because it is being terminated");
  collect();
  EXPECT_FALSE(exists(res::kConfigMaps, "plain"));
  auto guarded = store_->get(res::kSecrets, "a", "guarded");
  ASSERT_TRUE(guarded.ok()) << "finalizers are respected";
  EXPECT_TRUE((*guarded)["metadata"].contains("deletionTimestamp"));
  auto terminating = store_->get(res::kNamespaces, "", "a");
  ASSERT_TRUE(terminating.ok());
  std::map<std::string, std::string> conditions;
  for (const auto& c : (*terminating)["status"]["conditions"]) conditions[c["type"]] = c["status"].get<std::string>() + ": " + c["message"].get<std::string>();
  EXPECT_EQ(conditions["NamespaceContentRemaining"], "True: Some resources are remaining: secrets has 1 resource instances");
  EXPECT_EQ(conditions["NamespaceFinalizersRemaining"],
            "True: Some content in the namespace has finalizers remaining: example.io/guard in 1 resource instances");
  EXPECT_EQ(collect(), 0u) << "nothing to do while the finalizer holds";
  ASSERT_TRUE(store_->patch(res::kSecrets, "a", "guarded", kube::PatchType::kMerge, R"({"metadata":{"finalizers":null}})").ok());
  collect();
  EXPECT_FALSE(exists(res::kNamespaces, "a", ""));
  ASSERT_TRUE(store_->create(res::kNamespaces, "", {{"metadata", {{"name", "default"}}}}).ok());
  auto immortal = store_->remove(res::kNamespaces, "", "default");
  ASSERT_FALSE(immortal.ok());
  EXPECT_EQ(immortal.error().httpCode, 403);
  EXPECT_EQ(immortal.error().message, "namespaces \"default\" is forbidden: this namespace may not be deleted");
}

TEST_F(GarbageCollectionTest, TheCollectorThreadActsOnItsOwn) {
  GarbageCollector gc(*store_, std::chrono::milliseconds(50));
  gc.start();
  Json deploy = make(res::kDeployments, "web");
  make(res::kConfigMaps, "child", Json::array({ref(deploy)}));
  ASSERT_TRUE(del(res::kDeployments, "web").ok());
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = !exists(res::kConfigMaps, "child");
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(gone);
  gc.stop();
}

}  // namespace
}  // namespace sdb::apimachinery
