// The Job controller over the store, on an injected clock: completions and parallelism, the
// counting protocol, back-off, backoffLimit, activeDeadlineSeconds, ttlSecondsAfterFinished,
// suspension, and restarts of the controller.
#include "e2e/workloads/job.h"
#include "e2e/workloads/pod_util.h"
#include "operator/runtime/object_helpers.h"
#include "tests/unit/workloads/fixture.h"

namespace sdb::workloads::testing {
namespace {

class JobTest : public WorkloadsTest {
 protected:
  Json job(const std::string& name, const Json& extraSpec = Json::object(), const std::string& restartPolicy = "Never") {
    Json spec = {{"template", {{"spec", {{"restartPolicy", restartPolicy}, {"containers", {container("postgres:15")}}}}}}};
    spec.update(extraSpec);
    return {{"apiVersion", "batch/v1"}, {"kind", "Job"}, {"metadata", {{"name", name}}}, {"spec", spec}};
  }
  std::vector<Json> podsOf(const std::string& jobName, bool includeFinished = true) {
    std::vector<Json> out;
    for (const auto& p : list(res::kPods, "batch.kubernetes.io/job-name=" + jobName)) {
      if (includeFinished || isPodActive(p)) out.push_back(p);
    }
    return out;
  }
  std::vector<std::string> activePodNames(const std::string& jobName) {
    std::vector<std::string> out;
    for (const auto& p : podsOf(jobName, false)) out.push_back(p["metadata"]["name"]);
    return out;
  }
  Json status(const std::string& name) {
    auto j = get(res::kJobs, name);
    return j ? j->value("status", Json::object()) : Json::object();
  }
  std::string condition(const std::string& name, const std::string& type) {
    for (const auto& c : status(name).value("conditions", Json::array())) {
      if (c["type"] == type && c["status"] == "True") return c.value("reason", "True");
    }
    return "";
  }
  // Waits for exactly `n` active pods and returns their names.
  std::vector<std::string> waitActive(const std::string& jobName, size_t n) {
    EXPECT_TRUE(eventually([&] { return activePodNames(jobName).size() == n; }))
        << jobName << ": " << activePodNames(jobName).size() << " active pods, want " << n;
    return activePodNames(jobName);
  }
};

TEST_F(JobTest, RunsPodsToCompletion) {
  const Json j = create(res::kJobs, job("migrate", {{"completions", 2}}));
  const std::string uid = j["metadata"]["uid"];
  auto names = waitActive("migrate", 1);
  Json pod = *get(res::kPods, names[0]);
  EXPECT_EQ(names[0].rfind("migrate-", 0), 0u);
  EXPECT_EQ(names[0].size(), std::string("migrate-").size() + 5);
  const Json& labels = pod["metadata"]["labels"];
  EXPECT_EQ(labels["job-name"], "migrate");
  EXPECT_EQ(labels["batch.kubernetes.io/job-name"], "migrate");
  EXPECT_EQ(labels["controller-uid"], uid);
  EXPECT_EQ(labels["batch.kubernetes.io/controller-uid"], uid);
  EXPECT_EQ(pod["metadata"]["ownerReferences"][0]["kind"], "Job");
  EXPECT_EQ(pod["metadata"]["ownerReferences"][0]["controller"], true);
  EXPECT_TRUE(runtime::hasFinalizer(pod, kJobTrackingFinalizer));
  ASSERT_TRUE(eventually([&] { return status("migrate").value("active", 0) == 1; }));
  EXPECT_EQ(status("migrate")["startTime"], "2024-05-15T10:00:00Z");

  markRunning(names[0]);
  markFinished(names[0], true);
  // The finished pod is counted and released; the next one starts.
  ASSERT_TRUE(eventually([&] { return status("migrate").value("succeeded", 0) == 1; }));
  ASSERT_TRUE(eventually([&] { return !runtime::hasFinalizer(*get(res::kPods, names[0]), kJobTrackingFinalizer); }));
  auto second = waitActive("migrate", 1);
  ASSERT_NE(second[0], names[0]);
  clock_.advance(5s);
  markFinished(second[0], true);
  ASSERT_TRUE(eventually([&] { return condition("migrate", "Complete") == "CompletionsReached"; }));
  Json st = status("migrate");
  EXPECT_EQ(condition("migrate", "SuccessCriteriaMet"), "CompletionsReached");
  EXPECT_EQ(st["succeeded"], 2);
  EXPECT_EQ(st["failed"], 0);
  EXPECT_EQ(st["active"], 0);
  EXPECT_EQ(st["completionTime"], "2024-05-15T10:00:05Z");
  EXPECT_EQ(st["uncountedTerminatedPods"], Json::object());
  // Counts survive the pods' deletion.
  for (const auto& p : podsOf("migrate")) remove(res::kPods, p["metadata"]["name"]);
  settle();
  EXPECT_EQ(status("migrate")["succeeded"], 2);
  EXPECT_TRUE(podsOf("migrate").empty());
}

TEST_F(JobTest, ParallelismAndAWorkQueue) {
  create(res::kJobs, job("fan", {{"completions", 5}, {"parallelism", 3}}));
  waitActive("fan", 3);
  create(res::kJobs, job("queue", {{"parallelism", 2}}));
  auto names = waitActive("queue", 2);
  markFinished(names[0], true);
  ASSERT_TRUE(eventually([&] { return status("queue").value("succeeded", 0) == 1; }));
  settle();
  EXPECT_EQ(activePodNames("queue").size(), 1u) << "a work queue starts nothing once a pod succeeded";
  EXPECT_EQ(condition("queue", "Complete"), "");
  markFinished(names[1], true);
  ASSERT_TRUE(eventually([&] { return condition("queue", "Complete") == "CompletionsReached"; }));
}

TEST_F(JobTest, FailedPodsAreReplacedAfterABackOffUntilTheLimit) {
  create(res::kJobs, job("flaky", {{"backoffLimit", 1}}));
  auto first = waitActive("flaky", 1);
  markFinished(first[0], false);
  ASSERT_TRUE(eventually([&] { return status("flaky").value("failed", 0) == 1; }));
  settle();
  EXPECT_TRUE(activePodNames("flaky").empty()) << "the replacement waits out the 10 s back-off";
  clock_.advance(11s);
  auto second = waitActive("flaky", 1);
  markFinished(second[0], false);
  ASSERT_TRUE(eventually([&] { return condition("flaky", "Failed") == "BackoffLimitExceeded"; }));
  Json st = status("flaky");
  EXPECT_EQ(st["failed"], 2);
  EXPECT_EQ(condition("flaky", "FailureTarget"), "BackoffLimitExceeded");
  for (const auto& c : st["conditions"]) {
    if (c["type"] == "Failed") {
      EXPECT_EQ(c["message"], "Job has reached the specified backoff limit");
    }
  }
  EXPECT_FALSE(st.contains("completionTime"));
  settle();
  EXPECT_TRUE(activePodNames("flaky").empty());
}

TEST_F(JobTest, OnFailureCountsContainerRestarts) {
  create(res::kJobs, job("restarts", {{"backoffLimit", 2}}, "OnFailure"));
  auto names = waitActive("restarts", 1);
  markRunning(names[0]);
  setPodStatus(names[0], [](Json& s) { s["containerStatuses"] = {{{"name", "main"}, {"restartCount", 1}}}; });
  settle();
  EXPECT_EQ(condition("restarts", "Failed"), "");
  setPodStatus(names[0], [](Json& s) { s["containerStatuses"] = {{{"name", "main"}, {"restartCount", 2}}}; });
  ASSERT_TRUE(eventually([&] { return condition("restarts", "Failed") == "BackoffLimitExceeded"; }));
  EXPECT_FALSE(exists(res::kPods, names[0])) << "the failing Job's pod is deleted";
}

TEST_F(JobTest, ActiveDeadlineSecondsFailsTheJobOnTheInjectedClock) {
  create(res::kJobs, job("slow", {{"activeDeadlineSeconds", 30}}));
  auto names = waitActive("slow", 1);
  markRunning(names[0]);
  clock_.advance(29s);
  settle();
  EXPECT_EQ(condition("slow", "Failed"), "");
  clock_.advance(2s);
  ASSERT_TRUE(eventually([&] { return condition("slow", "Failed") == "DeadlineExceeded"; }));
  EXPECT_FALSE(exists(res::kPods, names[0]));
  EXPECT_EQ(status("slow")["failed"], 1) << "the deleted active pod counts as failed";
}

TEST_F(JobTest, TtlAfterFinishedDeletesTheJobAndItsPods) {
  create(res::kJobs, job("once", {{"ttlSecondsAfterFinished", 60}}));
  auto names = waitActive("once", 1);
  markFinished(names[0], true);
  ASSERT_TRUE(eventually([&] { return condition("once", "Complete") == "CompletionsReached"; }));
  clock_.advance(59s);
  settle();
  EXPECT_TRUE(exists(res::kJobs, "once"));
  clock_.advance(2s);
  ASSERT_TRUE(eventually([&] { return !exists(res::kJobs, "once"); }));
  EXPECT_FALSE(exists(res::kPods, names[0]));
}

TEST_F(JobTest, DeletedPodsCountAsFailedAndAreReplaced) {
  create(res::kJobs, job("victim", {{"backoffLimit", 3}}));
  auto names = waitActive("victim", 1);
  remove(res::kPods, names[0]);  // the tracking finalizer keeps it until the controller counts it
  ASSERT_TRUE(eventually([&] { return status("victim").value("failed", 0) == 1; }));
  ASSERT_TRUE(eventually([&] { return !exists(res::kPods, names[0]); }));
  clock_.advance(11s);
  auto next = waitActive("victim", 1);
  EXPECT_NE(next[0], names[0]);
}

TEST_F(JobTest, SuspendAndResume) {
  create(res::kJobs, job("paused", {{"suspend", true}}));
  ASSERT_TRUE(eventually([&] { return condition("paused", "Suspended") == "JobSuspended"; }));
  EXPECT_TRUE(podsOf("paused").empty());
  EXPECT_FALSE(status("paused").contains("startTime"));
  clock_.advance(100s);
  patch(res::kJobs, "paused", {{"spec", {{"suspend", false}}}});
  waitActive("paused", 1);
  ASSERT_TRUE(eventually([&] { return status("paused").value("startTime", "") == "2024-05-15T10:01:40Z"; }));
  patch(res::kJobs, "paused", {{"spec", {{"suspend", true}}}});
  waitActive("paused", 0);
}

TEST_F(JobTest, ARestartedControllerKeepsCounting) {
  create(res::kJobs, job("long", {{"completions", 3}, {"parallelism", 3}}));
  auto names = waitActive("long", 3);
  markFinished(names[0], true);
  ASSERT_TRUE(eventually([&] { return status("long").value("succeeded", 0) == 1; }));
  restartControllers();
  markFinished(names[1], true);
  markFinished(names[2], true);
  ASSERT_TRUE(eventually([&] { return condition("long", "Complete") == "CompletionsReached"; }));
  EXPECT_EQ(status("long")["succeeded"], 3);
  EXPECT_EQ(podsOf("long").size(), 3u) << "no extra pod was created across the restart";
}

TEST_F(JobTest, PodsOfADeletedJobLoseTheTrackingFinalizer) {
  create(res::kJobs, job("gone"));
  auto names = waitActive("gone", 1);
  remove(res::kJobs, "gone");
  ASSERT_TRUE(eventually([&] {
    auto p = get(res::kPods, names[0]);
    return p && !runtime::hasFinalizer(*p, kJobTrackingFinalizer);
  }));
}

}  // namespace
}  // namespace sdb::workloads::testing
