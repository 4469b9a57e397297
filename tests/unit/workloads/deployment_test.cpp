// Deployments through ReplicaSets: pods with a pod-template-hash, rolling replacement within
// maxSurge/maxUnavailable, Recreate, revisions, status conditions and the progress deadline.
#include <set>

#include "e2e/workloads/deployment.h"
#include "e2e/workloads/pod_util.h"
#include "tests/unit/workloads/fixture.h"

namespace sdb::workloads::testing {
namespace {

class DeploymentTest : public WorkloadsTest {
 protected:
  Json deployment(const std::string& name, int replicas, const std::string& image = "redis:7.2",
                  const Json& strategy = Json()) {
    Json d = {{"apiVersion", "apps/v1"},
              {"kind", "Deployment"},
              {"metadata", {{"name", name}}},
              {"spec", {{"replicas", replicas},
                        {"selector", {{"matchLabels", {{"app", name}}}}},
                        {"template", {{"metadata", {{"labels", {{"app", name}}}}}, {"spec", {{"containers", {container(image)}}}}}}}}};
    if (!strategy.is_null()) d["spec"]["strategy"] = strategy;
    return d;
  }
  std::vector<Json> activePods(const std::string& app) {
    std::vector<Json> out;
    for (const auto& p : list(res::kPods, "app=" + app)) {
      if (isPodActive(p)) out.push_back(p);
    }
    return out;
  }
  std::map<std::string, int> imageCounts(const std::string& app) {
    std::map<std::string, int> out;
    for (const auto& p : activePods(app)) out[p["spec"]["containers"][0]["image"]]++;
    return out;
  }
  // The kubelet's part for every pod not yet ready.
  void readyAll(const std::string& app) {
    for (const auto& p : activePods(app)) {
      if (!isPodReady(p)) markRunning(p["metadata"]["name"]);
    }
  }
  Json status(const std::string& name) { return get(res::kDeployments, name).value_or(Json::object()).value("status", Json::object()); }
  std::string conditionReason(const std::string& name, const std::string& type) {
    for (const auto& c : status(name).value("conditions", Json::array())) {
      if (c["type"] == type) return c.value("status", "") + "/" + c.value("reason", "");
    }
    return "";
  }
};

TEST_F(DeploymentTest, CreatesAReplicaSetAndPodsAndBecomesAvailable) {
  const Json d = create(res::kDeployments, deployment("web", 3));
  ASSERT_TRUE(eventually([&] { return activePods("web").size() == 3; }));
  auto rsList = list(res::kReplicaSets);
  ASSERT_EQ(rsList.size(), 1u);
  const Json& rs = rsList[0];
  const std::string hash = rs["metadata"]["labels"]["pod-template-hash"];
  EXPECT_EQ(rs["metadata"]["name"], "web-" + hash);
  EXPECT_EQ(rs["metadata"]["ownerReferences"][0]["uid"], d["metadata"]["uid"]);
  EXPECT_EQ(rs["spec"]["selector"]["matchLabels"]["pod-template-hash"], hash);
  EXPECT_EQ(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "1");
  for (const auto& p : activePods("web")) {
    EXPECT_EQ(p["metadata"]["labels"]["pod-template-hash"], hash);
    EXPECT_EQ(p["metadata"]["ownerReferences"][0]["kind"], "ReplicaSet");
    EXPECT_EQ(p["metadata"]["name"].get<std::string>().rfind("web-" + hash + "-", 0), 0u);
  }
  EXPECT_TRUE(eventually([&] { return conditionReason("web", "Available") == "False/MinimumReplicasUnavailable"; }));
  readyAll("web");
  ASSERT_TRUE(eventually([&] { return conditionReason("web", "Progressing") == "True/NewReplicaSetAvailable"; }));
  Json st = status("web");
  EXPECT_EQ(st["replicas"], 3);
  EXPECT_EQ(st["updatedReplicas"], 3);
  EXPECT_EQ(st["readyReplicas"], 3);
  EXPECT_EQ(st["availableReplicas"], 3);
  EXPECT_EQ(st["unavailableReplicas"], 0);
  EXPECT_EQ(st["observedGeneration"], 1);
  EXPECT_EQ(conditionReason("web", "Available"), "True/MinimumReplicasAvailable");
  EXPECT_EQ((*get(res::kDeployments, "web"))["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "1");
  // A deleted pod is replaced.
  const std::string victim = activePods("web")[0]["metadata"]["name"];
  remove(res::kPods, victim);
  ASSERT_TRUE(eventually([&] {
    auto pods = activePods("web");
    return pods.size() == 3 && std::none_of(pods.begin(), pods.end(), [&](const Json& p) { return p["metadata"]["name"] == victim; });
  }));
}

TEST_F(DeploymentTest, RollingUpdateStaysWithinSurgeAndUnavailability) {
  create(res::kDeployments, deployment("web", 4, "redis:7.2",
                                       {{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", 1}, {"maxUnavailable", 0}}}}));
  ASSERT_TRUE(eventually([&] { return activePods("web").size() == 4; }));
  readyAll("web");
  ASSERT_TRUE(eventually([&] { return status("web").value("availableReplicas", 0) == 4; }));
  patch(res::kDeployments, "web", {{"spec", {{"template", {{"spec", {{"containers", {container("redis:7.4")}}}}}}}}});
  // maxSurge 1, maxUnavailable 0: one new pod at a time, never fewer than 4 ready old+new.
  for (int round = 1; round <= 4; ++round) {
    ASSERT_TRUE(eventually([&] { return imageCounts("web")["redis:7.4"] == round; })) << "round " << round;
    settle(100ms);
    auto counts = imageCounts("web");
    EXPECT_EQ(counts["redis:7.4"], round);
    EXPECT_LE(counts["redis:7.2"] + counts["redis:7.4"], 5) << "surge above 1 in round " << round;
    EXPECT_GE(counts["redis:7.2"], 4 - round) << "old pods went before new ones were ready, round " << round;
    readyAll("web");
  }
  ASSERT_TRUE(eventually([&] { return imageCounts("web") == std::map<std::string, int>{{"redis:7.4", 4}}; }));
  ASSERT_TRUE(eventually([&] { return conditionReason("web", "Progressing") == "True/NewReplicaSetAvailable"; }));
  EXPECT_EQ((*get(res::kDeployments, "web"))["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "2");
  EXPECT_EQ(list(res::kReplicaSets).size(), 2u) << "the old ReplicaSet is kept at zero for rollbacks";
  // Rolling back to the first template reuses its ReplicaSet, as revision 3.
  patch(res::kDeployments, "web", {{"spec", {{"template", {{"spec", {{"containers", {container("redis:7.2")}}}}}}}}});
  ASSERT_TRUE(eventually([&] { return imageCounts("web")["redis:7.2"] >= 1; }));
  EXPECT_EQ(list(res::kReplicaSets).size(), 2u);
  ASSERT_TRUE(eventually([&] {
    return jsonString(*get(res::kDeployments, "web"), {"metadata", "annotations", "deployment.kubernetes.io/revision"}) == "3";
  }));
}

TEST_F(DeploymentTest, RecreateRemovesOldPodsFirst) {
  create(res::kDeployments, deployment("batch", 2, "redis:7.2", {{"type", "Recreate"}}));
  ASSERT_TRUE(eventually([&] { return activePods("batch").size() == 2; }));
  readyAll("batch");
  patch(res::kDeployments, "batch", {{"spec", {{"template", {{"spec", {{"containers", {container("redis:7.4")}}}}}}}}});
  ASSERT_TRUE(eventually([&] { return imageCounts("batch") == std::map<std::string, int>{{"redis:7.4", 2}}; }));
}

TEST_F(DeploymentTest, ProgressDeadlineOnTheInjectedClock) {
  Json d = deployment("stuck", 1);
  d["spec"]["progressDeadlineSeconds"] = 60;
  create(res::kDeployments, d);
  ASSERT_TRUE(eventually([&] { return activePods("stuck").size() == 1; }));
  ASSERT_TRUE(eventually([&] {
    return conditionReason("stuck", "Progressing") == "True/ReplicaSetUpdated" && status("stuck").value("updatedReplicas", 0) == 1;
  }));
  settle();
  clock_.advance(61s);
  ASSERT_TRUE(eventually([&] { return conditionReason("stuck", "Progressing") == "False/ProgressDeadlineExceeded"; }))
      << status("stuck").dump();
  // Progress again clears it.
  readyAll("stuck");
  ASSERT_TRUE(eventually([&] { return conditionReason("stuck", "Progressing") == "True/NewReplicaSetAvailable"; }));
}

TEST_F(DeploymentTest, ScalesDownPreferringUnreadyPods) {
  create(res::kDeployments, deployment("web", 3));
  // A kubelet runs only scheduled pods (and unscheduled ones would be deleted first).
  ASSERT_TRUE(eventually([&] {
    auto pods = activePods("web");
    return pods.size() == 3 && std::all_of(pods.begin(), pods.end(), [](const Json& p) { return p["spec"].contains("nodeName"); });
  }));
  auto pods = activePods("web");
  markRunning(pods[0]["metadata"]["name"]);
  markRunning(pods[1]["metadata"]["name"]);
  ASSERT_TRUE(eventually([&] { return status("web").value("readyReplicas", 0) == 2; }));
  patch(res::kDeployments, "web", {{"spec", {{"replicas", 2}}}});
  ASSERT_TRUE(eventually([&] { return activePods("web").size() == 2; }));
  std::set<std::string> left;
  for (const auto& p : activePods("web")) left.insert(p["metadata"]["name"]);
  EXPECT_EQ(left, (std::set<std::string>{pods[0]["metadata"]["name"], pods[1]["metadata"]["name"]}));
}

TEST(IntOrPercent, ResolvesAsKubernetesDoes) {
  EXPECT_EQ(resolveIntOrPercent(Json("25%"), 10, true, 0), 3);
  EXPECT_EQ(resolveIntOrPercent(Json("25%"), 10, false, 0), 2);
  EXPECT_EQ(resolveIntOrPercent(Json(2), 10, false, 0), 2);
  EXPECT_EQ(resolveIntOrPercent(Json("3"), 10, false, 0), 3);
  EXPECT_EQ(resolveIntOrPercent(Json(), 10, false, 7), 7);
}

}  // namespace
}  // namespace sdb::workloads::testing
