// The CronJob controller on an injected clock: firing exactly on schedule, in a time zone,
// concurrency policies, starting deadlines, suspension, history limits, status, manual Jobs
// (`kubectl create job --from=cronjob/X`), and schedules turned off.
#include "e2e/workloads/cronjob.h"
#include "e2e/workloads/job.h"
#include "e2e/workloads/pod_util.h"
#include "tests/unit/workloads/fixture.h"

namespace sdb::workloads::testing {
namespace {

int64_t unixOf(const std::string& rfc3339) {
  return std::chrono::duration_cast<std::chrono::seconds>(at(rfc3339).time_since_epoch()).count();
}

class CronJobTest : public WorkloadsTest {
 protected:
  CronJobTest() : WorkloadsTest(/*cronSchedules=*/true) {}

  Json cronJob(const std::string& name, const std::string& schedule, const Json& extraSpec = Json::object()) {
    Json spec = {{"schedule", schedule},
                 {"jobTemplate",
                  {{"metadata", {{"labels", {{"app", "backup"}}}, {"annotations", {{"team", "dba"}}}}},
                   {"spec", {{"template", {{"spec", {{"restartPolicy", "OnFailure"}, {"containers", {container("postgres:15")}}}}}}}}}}};
    spec.update(extraSpec);
    return {{"apiVersion", "batch/v1"}, {"kind", "CronJob"}, {"metadata", {{"name", name}}}, {"spec", spec}};
  }
  std::vector<std::string> jobNames() {
    std::vector<std::string> out;
    for (const auto& j : list(res::kJobs)) out.push_back(j["metadata"]["name"]);
    return out;
  }
  std::string jobNameAt(const std::string& cj, const std::string& rfc3339) {
    return cj + "-" + std::to_string(unixOf(rfc3339) / 60);
  }
  Json status(const std::string& name) { return get(res::kCronJobs, name).value_or(Json::object()).value("status", Json::object()); }
  bool hasEvent(const std::string& involved, const std::string& reason) {
    for (const auto& e : list(res::kEvents)) {
      if (jsonString(e, {"involvedObject", "name"}) == involved && e.value("reason", "") == reason) return true;
    }
    return false;
  }
  // Completes a Job the way its pod would: the Job controller sees the pod succeed.
  void completeJob(const std::string& job) {
    ASSERT_TRUE(eventually([&] { return !list(res::kPods, "batch.kubernetes.io/job-name=" + job).empty(); })) << job;
    for (const auto& p : list(res::kPods, "batch.kubernetes.io/job-name=" + job)) markFinished(p["metadata"]["name"], true);
    ASSERT_TRUE(eventually([&] { return jobFinishedCondition(get(res::kJobs, job).value_or(Json::object())) == "Complete"; })) << job;
  }
};

TEST_F(CronJobTest, FiresOnScheduleFromItsTemplate) {
  const Json cj = create(res::kCronJobs, cronJob("backup", "*/5 * * * *"));
  settle();
  EXPECT_TRUE(jobNames().empty());
  clock_.advance(4min + 59s);
  settle();
  EXPECT_TRUE(jobNames().empty());
  clock_.advance(1s);
  const std::string name = jobNameAt("backup", "2024-05-15T10:05:00Z");
  ASSERT_TRUE(eventually([&] { return exists(res::kJobs, name); }));
  Json job = *get(res::kJobs, name);
  EXPECT_EQ(job["metadata"]["labels"]["app"], "backup");
  EXPECT_EQ(job["metadata"]["annotations"]["team"], "dba");
  EXPECT_EQ(job["metadata"]["annotations"][kScheduledTimestampAnnotation], "2024-05-15T10:05:00Z");
  EXPECT_EQ(job["metadata"]["ownerReferences"][0]["kind"], "CronJob");
  EXPECT_EQ(job["metadata"]["ownerReferences"][0]["uid"], cj["metadata"]["uid"]);
  EXPECT_EQ(job["metadata"]["ownerReferences"][0]["controller"], true);
  ASSERT_TRUE(eventually([&] { return status("backup").value("active", Json::array()).size() == 1; }));
  EXPECT_EQ(status("backup")["lastScheduleTime"], "2024-05-15T10:05:00Z");
  EXPECT_EQ(status("backup")["active"][0]["name"], name);
  // The Job runs: its pod exists. When it completes, active empties and lastSuccessfulTime is set.
  clock_.advance(30s);
  completeJob(name);
  ASSERT_TRUE(eventually([&] { return !status("backup").contains("active"); }));
  EXPECT_EQ(status("backup")["lastSuccessfulTime"], "2024-05-15T10:05:30Z");
  EXPECT_TRUE(eventually([&] { return hasEvent("backup", "SawCompletedJob"); }));
  // The next run, five minutes after the first.
  clock_.advance(4min + 30s);
  ASSERT_TRUE(eventually([&] { return exists(res::kJobs, jobNameAt("backup", "2024-05-15T10:10:00Z")); }));
}

TEST_F(CronJobTest, RunsInItsTimeZone) {
  create(res::kCronJobs, cronJob("nightly", "0 3 * * *", {{"timeZone", "Europe/Berlin"}}));
  // 03:00 in Berlin on May 16 is 01:00 UTC (CEST).
  clock_.advance(std::chrono::seconds(unixOf("2024-05-16T00:59:59Z") - unixOf("2024-05-15T10:00:00Z")));
  settle();
  EXPECT_TRUE(jobNames().empty());
  clock_.advance(1s);
  const std::string name = jobNameAt("nightly", "2024-05-16T01:00:00Z");
  ASSERT_TRUE(eventually([&] { return exists(res::kJobs, name); }));
  EXPECT_EQ((*get(res::kJobs, name))["metadata"]["annotations"][kScheduledTimestampAnnotation], "2024-05-16T03:00:00+02:00");
  ASSERT_TRUE(eventually([&] { return status("nightly").value("lastScheduleTime", "") == "2024-05-16T01:00:00Z"; }));
}

TEST_F(CronJobTest, ConcurrencyPolicies) {
  create(res::kCronJobs, cronJob("allow", "* * * * *"));
  create(res::kCronJobs, cronJob("forbid", "* * * * *", {{"concurrencyPolicy", "Forbid"}}));
  create(res::kCronJobs, cronJob("replace", "* * * * *", {{"concurrencyPolicy", "Replace"}}));
  clock_.advance(1min);
  ASSERT_TRUE(eventually([&] { return jobNames().size() == 3; }));
  const std::string first = jobNameAt("replace", "2024-05-15T10:01:00Z");
  ASSERT_TRUE(eventually([&] { return status("forbid").value("active", Json::array()).size() == 1; }));
  clock_.advance(1min);
  const std::string second = jobNameAt("replace", "2024-05-15T10:02:00Z");
  ASSERT_TRUE(eventually([&] { return exists(res::kJobs, second) && !exists(res::kJobs, first); }))
      << "Replace deletes the running Job before starting the next; " << status("replace").dump() << " "
      << Json(jobNames()).dump();
  ASSERT_TRUE(eventually([&] { return exists(res::kJobs, jobNameAt("allow", "2024-05-15T10:02:00Z")); }));
  EXPECT_TRUE(exists(res::kJobs, jobNameAt("allow", "2024-05-15T10:01:00Z")));
  settle();
  EXPECT_FALSE(exists(res::kJobs, jobNameAt("forbid", "2024-05-15T10:02:00Z"))) << "Forbid skips while a Job runs";
  EXPECT_TRUE(exists(res::kJobs, jobNameAt("forbid", "2024-05-15T10:01:00Z")));
  EXPECT_EQ(status("allow")["active"].size(), 2u);
}

TEST_F(CronJobTest, StartingDeadlineSkipsLateRuns) {
  create(res::kCronJobs, cronJob("strict", "*/5 * * * *", {{"startingDeadlineSeconds", 10}}));
  // The controller "wakes" 20 s after 10:05: too late for that run, which is skipped (as in kube,
  // the deadline moves the window's start, so the run is simply not considered).
  clock_.advance(5min + 20s);
  settle(300ms);
  EXPECT_TRUE(jobNames().empty());
  clock_.advance(4min + 40s);
  ASSERT_TRUE(eventually([&] { return exists(res::kJobs, jobNameAt("strict", "2024-05-15T10:10:00Z")); }));
}

TEST_F(CronJobTest, SuspendedCronJobsDoNotRun) {
  create(res::kCronJobs, cronJob("paused", "* * * * *", {{"suspend", true}}));
  clock_.advance(3min);
  settle();
  EXPECT_TRUE(jobNames().empty());
  patch(res::kCronJobs, "paused", {{"spec", {{"suspend", false}}}});
  // Resuming runs the most recent missed time (no startingDeadlineSeconds).
  ASSERT_TRUE(eventually([&] { return exists(res::kJobs, jobNameAt("paused", "2024-05-15T10:03:00Z")); }));
  EXPECT_EQ(jobNames().size(), 1u);
}

TEST_F(CronJobTest, HistoryLimitsDeleteTheOldestFinishedJobs) {
  create(res::kCronJobs, cronJob("hist", "* * * * *", {{"successfulJobsHistoryLimit", 1}}));
  for (int i = 1; i <= 3; ++i) {
    clock_.advance(1min);
    const std::string name = jobNameAt("hist", "2024-05-15T10:0" + std::to_string(i) + ":00Z");
    ASSERT_TRUE(eventually([&] { return exists(res::kJobs, name); })) << name;
    completeJob(name);
  }
  ASSERT_TRUE(eventually([&] { return jobNames().size() == 1; }));
  EXPECT_EQ(jobNames()[0], jobNameAt("hist", "2024-05-15T10:03:00Z"));
  // The deleted Jobs' pods went with them.
  EXPECT_TRUE(list(res::kPods, "batch.kubernetes.io/job-name=" + jobNameAt("hist", "2024-05-15T10:01:00Z")).empty());
}

TEST_F(CronJobTest, AManualJobFromTheCronJobRunsAndIsReported) {
  const Json cj = create(res::kCronJobs, cronJob("backup", "@daily"));
  // What `kubectl create job manual --from=cronjob/backup` sends.
  Json job = {{"apiVersion", "batch/v1"},
              {"kind", "Job"},
              {"metadata", {{"name", "manual"},
                            {"annotations", {{"cronjob.kubernetes.io/instantiate", "manual"}}},
                            {"labels", cj["spec"]["jobTemplate"]["metadata"]["labels"]},
                            {"ownerReferences", {{{"apiVersion", "batch/v1"}, {"kind", "CronJob"}, {"name", "backup"},
                                                  {"uid", cj["metadata"]["uid"]}, {"controller", true}}}}}},
              {"spec", cj["spec"]["jobTemplate"]["spec"]}};
  create(res::kJobs, job);
  ASSERT_TRUE(eventually([&] { return !list(res::kPods, "batch.kubernetes.io/job-name=manual").empty(); }));
  ASSERT_TRUE(eventually([&] { return hasEvent("backup", "UnexpectedJob"); }));
  EXPECT_FALSE(status("backup").contains("active"));
  completeJob("manual");
}

TEST(CronMath, MostRecentScheduleTimeAfterALongOutage) {
  auto s = cron::Schedule::parse("*/5 * * * *");
  ASSERT_TRUE(s.ok());
  const auto utc = cron::TimeZone::utc();
  const int64_t created = unixOf("2024-05-01T00:00:00Z");
  int64_t missed = 0;
  auto t = mostRecentScheduleTime(*s, utc, created, unixOf("2024-05-15T10:07:00Z"), &missed);
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, unixOf("2024-05-15T10:05:00Z"));
  EXPECT_GT(missed, 100);
  EXPECT_FALSE(mostRecentScheduleTime(*s, utc, created, created + 60, &missed));
  EXPECT_EQ(*mostRecentScheduleTime(*s, utc, created, created + 300, &missed), created + 300);
  EXPECT_EQ(missed, 1);
}

TEST(CronMath, FormatsInTheZoneAsGoDoes) {
  auto berlin = cron::TimeZone::load("Europe/Berlin");
  auto kolkata = cron::TimeZone::load("Asia/Kolkata");
  auto ny = cron::TimeZone::load("America/New_York");
  ASSERT_TRUE(berlin.ok() && kolkata.ok() && ny.ok());
  const int64_t t = unixOf("2024-01-15T12:00:00Z");
  EXPECT_EQ(formatInZone(t, *berlin), "2024-01-15T13:00:00+01:00");
  EXPECT_EQ(formatInZone(t, *kolkata), "2024-01-15T17:30:00+05:30");
  EXPECT_EQ(formatInZone(t, *ny), "2024-01-15T07:00:00-05:00");
  EXPECT_EQ(formatInZone(t, cron::TimeZone::utc()), "2024-01-15T12:00:00Z");
}

// With schedules off (--no-cronjob-schedules), nothing fires on its own.
class CronJobSchedulesOffTest : public WorkloadsTest {};

TEST_F(CronJobSchedulesOffTest, NothingFires) {
  Json podSpec = {{"restartPolicy", "Never"}, {"containers", {container()}}};
  Json spec = {{"schedule", "* * * * *"}, {"jobTemplate", {{"spec", {{"template", {{"spec", podSpec}}}}}}}};
  create(res::kCronJobs, {{"metadata", {{"name", "quiet"}}}, {"spec", spec}});
  clock_.advance(5min);
  settle(300ms);
  EXPECT_TRUE(list(res::kJobs).empty());
}

}  // namespace
}  // namespace sdb::workloads::testing
