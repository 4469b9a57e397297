// The StatefulSet controller over the store: ordered creation, identity, claims, recreation,
// scaling, rolling updates with a partition, OnDelete, status, restarts. The kubelet's part (pod
// status) is written by the test through the status subresource.
#include <set>

#include "e2e/workloads/pod_util.h"
#include "e2e/workloads/statefulset.h"
#include "tests/unit/workloads/fixture.h"

namespace sdb::workloads::testing {
namespace {

class StatefulSetTest : public WorkloadsTest {
 protected:
  Json statefulSet(const std::string& name, int replicas, const std::string& image = "redis:7.2") {
    return {{"apiVersion", "apps/v1"},
            {"kind", "StatefulSet"},
            {"metadata", {{"name", name}}},
            {"spec",
             {{"replicas", replicas},
              {"serviceName", name + "-headless"},
              {"selector", {{"matchLabels", {{"app", name}}}}},
              {"template", {{"metadata", {{"labels", {{"app", name}, {"tier", "db"}}}}}, {"spec", {{"containers", {container(image)}}}}}},
              {"volumeClaimTemplates",
               {{{"metadata", {{"name", "data"}, {"labels", {{"kind", "data"}}}}},
                 {"spec", {{"accessModes", {"ReadWriteOnce"}}, {"resources", {{"requests", {{"storage", "1Gi"}}}}}}}}}}}}};
  }
  std::set<std::string> podNames() {
    std::set<std::string> out;
    for (const auto& p : list(res::kPods)) out.insert(p["metadata"]["name"].get<std::string>());
    return out;
  }
  Json status(const std::string& sts) { return get(res::kStatefulSets, sts).value_or(Json::object()).value("status", Json::object()); }
  std::string revisionOf(const std::string& pod) {
    auto p = get(res::kPods, pod);
    return p ? jsonString(*p, {"metadata", "labels", "controller-revision-hash"}) : "";
  }
  std::string imageOf(const std::string& pod) {
    auto p = get(res::kPods, pod);
    return p ? jsonString((*p)["spec"]["containers"][0], {"image"}) : "";
  }
  void makeReady(const std::string& sts, int n) {
    for (int i = 0; i < n; ++i) {
      const std::string pod = sts + "-" + std::to_string(i);
      ASSERT_TRUE(eventually([&] { return exists(res::kPods, pod); })) << pod;
      markRunning(pod);
    }
  }
};

TEST_F(StatefulSetTest, CreatesPodsInOrderWithIdentityClaimsAndOwners) {
  const Json sts = create(res::kStatefulSets, statefulSet("web", 3));
  ASSERT_TRUE(eventually([&] { return exists(res::kPods, "web-0"); }));
  settle();
  // OrderedReady: web-1 waits until web-0 is Running and Ready.
  EXPECT_EQ(podNames(), (std::set<std::string>{"web-0"}));
  Json pod = *get(res::kPods, "web-0");
  const Json& labels = pod["metadata"]["labels"];
  EXPECT_EQ(labels["app"], "web");
  EXPECT_EQ(labels["tier"], "db");
  EXPECT_EQ(labels["statefulset.kubernetes.io/pod-name"], "web-0");
  EXPECT_EQ(labels["apps.kubernetes.io/pod-index"], "0");
  EXPECT_EQ(labels["controller-revision-hash"].get<std::string>().rfind("web-", 0), 0u);
  EXPECT_EQ(pod["spec"]["hostname"], "web-0");
  EXPECT_EQ(pod["spec"]["subdomain"], "web-headless");
  const Json& owner = pod["metadata"]["ownerReferences"][0];
  EXPECT_EQ(owner["kind"], "StatefulSet");
  EXPECT_EQ(owner["name"], "web");
  EXPECT_EQ(owner["uid"], sts["metadata"]["uid"]);
  EXPECT_EQ(owner["controller"], true);
  EXPECT_EQ(pod["spec"]["volumes"], (Json{{{"name", "data"}, {"persistentVolumeClaim", {{"claimName", "data-web-0"}}}}}));
  // The claim: named <template>-<sts>-<ordinal>, labelled, not owned (Retain), bound by the binder.
  ASSERT_TRUE(eventually([&] { return jsonString(get(res::kPersistentVolumeClaims, "data-web-0").value_or(Json()), {"status", "phase"}) == "Bound"; }));
  Json claim = *get(res::kPersistentVolumeClaims, "data-web-0");
  EXPECT_EQ(claim["metadata"]["labels"], (Json{{"app", "web"}, {"kind", "data"}}));
  EXPECT_FALSE(claim["metadata"].contains("ownerReferences"));
  EXPECT_EQ(claim["spec"]["storageClassName"], "standard");
  EXPECT_EQ(claim["status"]["capacity"]["storage"], "1Gi");
  // The scheduler bound the pod to the node.
  ASSERT_TRUE(eventually([&] { return jsonString(*get(res::kPods, "web-0"), {"spec", "nodeName"}) == kDefaultNodeName; }));

  markRunning("web-0");
  ASSERT_TRUE(eventually([&] { return exists(res::kPods, "web-1"); }));
  settle();
  EXPECT_FALSE(exists(res::kPods, "web-2"));
  markRunning("web-1", /*ready=*/false);  // running but not ready: still blocks
  settle();
  EXPECT_FALSE(exists(res::kPods, "web-2"));
  markRunning("web-1");
  ASSERT_TRUE(eventually([&] { return exists(res::kPods, "web-2"); }));
  markRunning("web-2");
  ASSERT_TRUE(eventually([&] { return status("web").value("readyReplicas", 0) == 3; }));
  Json st = status("web");
  EXPECT_EQ(st["replicas"], 3);
  EXPECT_EQ(st["availableReplicas"], 3);
  EXPECT_EQ(st["currentReplicas"], 3);
  EXPECT_EQ(st["updatedReplicas"], 3);
  EXPECT_EQ(st["observedGeneration"], 1);
  EXPECT_EQ(st["currentRevision"], st["updateRevision"]);
  EXPECT_EQ(st["currentRevision"], labels["controller-revision-hash"]);
  // The revision is a ControllerRevision owned by the set.
  auto rev = get(res::kControllerRevisions, st["updateRevision"]);
  ASSERT_TRUE(rev);
  EXPECT_EQ((*rev)["revision"], 1);
  EXPECT_EQ((*rev)["metadata"]["ownerReferences"][0]["uid"], sts["metadata"]["uid"]);
}

TEST_F(StatefulSetTest, RecreatesDeletedAndFailedPods) {
  create(res::kStatefulSets, statefulSet("web", 2));
  makeReady("web", 2);
  ASSERT_TRUE(eventually([&] { return status("web").value("readyReplicas", 0) == 2; }));
  const std::string oldUid = (*get(res::kPods, "web-1"))["metadata"]["uid"];
  remove(res::kPods, "web-1");
  ASSERT_TRUE(eventually([&] {
    auto p = get(res::kPods, "web-1");
    return p && (*p)["metadata"]["uid"] != oldUid;
  }));
  // The claim is kept and reused.
  EXPECT_EQ((*get(res::kPods, "web-1"))["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"], "data-web-1");
  EXPECT_EQ(list(res::kPersistentVolumeClaims).size(), 2u);
  // A Failed pod is deleted and made again.
  markRunning("web-1");
  const std::string uid0 = (*get(res::kPods, "web-0"))["metadata"]["uid"];
  markFinished("web-0", false);
  ASSERT_TRUE(eventually([&] {
    auto p = get(res::kPods, "web-0");
    return p && (*p)["metadata"]["uid"] != uid0 && podPhase(*p) == "Pending";
  }));
}

TEST_F(StatefulSetTest, ScalesDownFromTheHighestOrdinalOnlyWhenHealthy) {
  create(res::kStatefulSets, statefulSet("web", 3));
  makeReady("web", 3);
  ASSERT_TRUE(eventually([&] { return status("web").value("readyReplicas", 0) == 3; }));
  kube::WatchOptions wo;
  wo.resourceVersion = std::to_string(store_->resourceVersion());
  auto watch = client_->watch(res::kPods, "default", wo);
  ASSERT_TRUE(watch.ok());
  markRunning("web-0", /*ready=*/false);
  ASSERT_TRUE(eventually([&] { return status("web").value("readyReplicas", 0) == 2; }));
  patch(res::kStatefulSets, "web", {{"spec", {{"replicas", 1}}}});
  settle();
  EXPECT_EQ(podNames().size(), 3u) << "an unhealthy member blocks scale down";
  markRunning("web-0");
  ASSERT_TRUE(eventually([&] { return podNames() == std::set<std::string>{"web-0"}; }));
  std::vector<std::string> deleted;
  while (deleted.size() < 2) {
    auto e = (*watch)->next();
    ASSERT_TRUE(e.ok() && e->has_value());
    if ((*e)->type == kube::WatchEvent::Type::kDeleted) deleted.push_back(jsonString((*e)->object, {"metadata", "name"}));
  }
  EXPECT_EQ(deleted, (std::vector<std::string>{"web-2", "web-1"}));
  (*watch)->stop();
  // Claims stay (whenScaled: Retain) and are reused on scale up.
  EXPECT_EQ(list(res::kPersistentVolumeClaims).size(), 3u);
  ASSERT_TRUE(eventually([&] { return status("web").value("replicas", 0) == 1; }));
  patch(res::kStatefulSets, "web", {{"spec", {{"replicas", 2}}}});
  ASSERT_TRUE(eventually([&] { return exists(res::kPods, "web-1"); }));
  EXPECT_EQ(list(res::kPersistentVolumeClaims).size(), 3u);
}

TEST_F(StatefulSetTest, ParallelCreatesAllAtOnce) {
  Json s = statefulSet("par", 3);
  s["spec"]["podManagementPolicy"] = "Parallel";
  create(res::kStatefulSets, s);
  ASSERT_TRUE(eventually([&] { return podNames() == std::set<std::string>{"par-0", "par-1", "par-2"}; }));
}

TEST_F(StatefulSetTest, RollingUpdateReplacesFromTheTopAndStopsAtThePartition) {
  create(res::kStatefulSets, statefulSet("web", 3));
  makeReady("web", 3);
  ASSERT_TRUE(eventually([&] { return status("web").value("readyReplicas", 0) == 3; }));
  const std::string oldRev = status("web")["currentRevision"];
  patch(res::kStatefulSets, "web",
        {{"spec", {{"updateStrategy", {{"rollingUpdate", {{"partition", 1}}}}},
                   {"template", {{"spec", {{"containers", {container("redis:7.4")}}}}}}}}});
  // web-2 goes first and comes back at the new revision; nothing else moves until it is ready.
  ASSERT_TRUE(eventually([&] { return imageOf("web-2") == "redis:7.4"; }));
  const std::string newRev = revisionOf("web-2");
  EXPECT_NE(newRev, oldRev);
  settle();
  EXPECT_EQ(imageOf("web-1"), "redis:7.2");
  ASSERT_TRUE(eventually([&] { return status("web").value("updateRevision", "") == newRev; }));
  EXPECT_EQ(status("web")["currentRevision"], oldRev);
  markRunning("web-2");
  ASSERT_TRUE(eventually([&] { return imageOf("web-1") == "redis:7.4"; }));
  markRunning("web-1");
  settle();
  // The partition keeps web-0 at the current revision, and a deleted web-0 comes back at it too.
  EXPECT_EQ(imageOf("web-0"), "redis:7.2");
  ASSERT_TRUE(eventually([&] { return status("web").value("updatedReplicas", 0) == 2; }));
  const std::string oldUid = (*get(res::kPods, "web-0"))["metadata"]["uid"];
  remove(res::kPods, "web-0");
  // The old pod lingers while it terminates (graceful deletion): wait for its replacement.
  ASSERT_TRUE(eventually([&] {
    auto p = get(res::kPods, "web-0");
    return p && (*p)["metadata"].value("uid", "") != oldUid && !(*p)["metadata"].contains("deletionTimestamp");
  }));
  EXPECT_EQ(imageOf("web-0"), "redis:7.2");
  EXPECT_EQ(revisionOf("web-0"), oldRev);
  // Partition 0 finishes the roll-out; then current = update.
  markRunning("web-0");
  patch(res::kStatefulSets, "web", {{"spec", {{"updateStrategy", {{"rollingUpdate", {{"partition", 0}}}}}}}});
  ASSERT_TRUE(eventually([&] { return imageOf("web-0") == "redis:7.4"; }));
  markRunning("web-0");
  // (While web-0 is being replaced, kube too counts only the pods that exist.)
  ASSERT_TRUE(eventually([&] {
    return status("web").value("currentRevision", "") == newRev && status("web").value("updatedReplicas", 0) == 3;
  }));
  Json st = status("web");
  EXPECT_EQ(st["updatedReplicas"], 3);
  EXPECT_EQ(st["currentReplicas"], 3);
  EXPECT_EQ(st["observedGeneration"], 3);
}

TEST_F(StatefulSetTest, OnDeleteReplacesOnlyDeletedPods) {
  Json s = statefulSet("web", 2);
  s["spec"]["updateStrategy"] = {{"type", "OnDelete"}};
  create(res::kStatefulSets, s);
  makeReady("web", 2);
  patch(res::kStatefulSets, "web", {{"spec", {{"template", {{"spec", {{"containers", {container("redis:7.4")}}}}}}}}});
  settle(300ms);
  EXPECT_EQ(imageOf("web-0"), "redis:7.2");
  EXPECT_EQ(imageOf("web-1"), "redis:7.2");
  remove(res::kPods, "web-0");
  ASSERT_TRUE(eventually([&] { return imageOf("web-0") == "redis:7.4"; }));
  EXPECT_EQ(imageOf("web-1"), "redis:7.2");
}

TEST_F(StatefulSetTest, RetentionPolicyDeleteOwnsClaims) {
  Json s = statefulSet("web", 2);
  s["spec"]["persistentVolumeClaimRetentionPolicy"] = {{"whenDeleted", "Delete"}, {"whenScaled", "Delete"}};
  s["spec"]["podManagementPolicy"] = "Parallel";
  const Json sts = create(res::kStatefulSets, s);
  ASSERT_TRUE(eventually([&] { return exists(res::kPersistentVolumeClaims, "data-web-1"); }));
  Json claim = *get(res::kPersistentVolumeClaims, "data-web-1");
  ASSERT_EQ(claim["metadata"]["ownerReferences"].size(), 1u);
  EXPECT_EQ(claim["metadata"]["ownerReferences"][0]["uid"], sts["metadata"]["uid"]);
  EXPECT_FALSE(claim["metadata"]["ownerReferences"][0].value("controller", false));
  // Scaling down hands the condemned pod's claim to that pod, for the garbage collector.
  makeReady("web", 2);
  const std::string podUid = (*get(res::kPods, "web-1"))["metadata"]["uid"];
  patch(res::kStatefulSets, "web", {{"spec", {{"replicas", 1}}}});
  ASSERT_TRUE(eventually([&] {
    auto c = get(res::kPersistentVolumeClaims, "data-web-1");
    if (!c) return false;
    for (const auto& r : (*c)["metadata"].value("ownerReferences", Json::array())) {
      if (r["uid"] == podUid) return true;
    }
    return false;
  }));
}

TEST_F(StatefulSetTest, MinReadySecondsGatesAvailabilityOnTheInjectedClock) {
  Json s = statefulSet("web", 2);
  s["spec"]["minReadySeconds"] = 30;
  create(res::kStatefulSets, s);
  makeReady("web", 1);
  settle();
  EXPECT_FALSE(exists(res::kPods, "web-1")) << "web-0 is ready but not yet available";
  EXPECT_EQ(status("web").value("availableReplicas", -1), 0);
  clock_.advance(31s);
  ASSERT_TRUE(eventually([&] { return exists(res::kPods, "web-1"); }));
  EXPECT_TRUE(eventually([&] { return status("web").value("availableReplicas", -1) == 1; }));
}

TEST_F(StatefulSetTest, SteadyStateWritesNothingAndSurvivesARestart) {
  create(res::kStatefulSets, statefulSet("web", 2));
  makeReady("web", 2);
  ASSERT_TRUE(eventually([&] { return status("web").value("readyReplicas", 0) == 2; }));
  settle(300ms);
  const int64_t rv = store_->resourceVersion();
  const Json before = status("web");
  settle(300ms);
  EXPECT_EQ(store_->resourceVersion(), rv) << "a settled StatefulSet must cause no writes";
  restartControllers();
  settle(300ms);
  EXPECT_EQ(store_->resourceVersion(), rv) << "a restart must find everything in place (stable revision hash)";
  EXPECT_EQ(status("web"), before);
}

TEST(StatefulPodOrdinal, ParsesOnlyMembers) {
  EXPECT_EQ(statefulPodOrdinal("web", "web-0"), 0);
  EXPECT_EQ(statefulPodOrdinal("web", "web-12"), 12);
  EXPECT_EQ(statefulPodOrdinal("web", "web-01"), -1);
  EXPECT_EQ(statefulPodOrdinal("web", "webx-1"), -1);
  EXPECT_EQ(statefulPodOrdinal("web", "web-a"), -1);
  EXPECT_EQ(statefulPodOrdinal("web-1", "web-1-3"), 3);
}

}  // namespace
}  // namespace sdb::workloads::testing
