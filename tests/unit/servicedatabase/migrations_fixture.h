// The fixture of the migration tests (migrations_test.cpp, migrations_backup_test.cpp): a
// ControllerTest with Jobs whose status the test writes as the Job controller would, their pods with
// logs served through the fixture's pods/log stand-in, and a hand-made backup CronJob.
#pragma once

#include "tests/unit/servicedatabase/fixture.h"

namespace sdb::controllers::servicedatabase::testing {

class MigrationsTest : public ControllerTest {
 public:
  static Json withMigrations(const Json& migrations, const std::string& name = "orders") {
    Json s = sharedSdb(name);
    s["spec"]["migrations"] = migrations;
    return s;
  }
  static Json psqlMigrations(const std::string& version) {
    return {{"version", version},
            {"image", "postgres:15"},
            {"command", {"psql", "-v", "ON_ERROR_STOP=1", "-c"}},
            {"args", {"CREATE TABLE IF NOT EXISTS orders (id bigint)"}}};
  }

  std::vector<Json> jobs() {
    auto l = inproc_->list(res::kJobs, "shop");
    EXPECT_TRUE(l.ok());
    std::vector<Json> out;
    if (l.ok()) {
      for (const auto& j : (*l)["items"]) out.push_back(j);
    }
    return out;
  }
  std::vector<std::string> jobNames() {
    std::vector<std::string> out;
    for (const auto& j : jobs()) out.push_back(jsonString(j, {"metadata", "name"}));
    return out;
  }
  // The Job controller's verdict, as status conditions.
  void finishJob(const std::string& name, bool succeeded, const std::string& reason = "BackoffLimitExceeded") {
    Json job = get(res::kJobs, name);
    ASSERT_FALSE(job.is_null()) << name;
    Json cond = succeeded ? Json{{"type", "Complete"}, {"status", "True"}}
                          : Json{{"type", "Failed"}, {"status", "True"}, {"reason", reason},
                                 {"message", "Job has reached the specified backoff limit"}};
    job["status"] = {{"conditions", Json::array({cond})}, {succeeded ? "succeeded" : "failed", 1}};
    auto u = inproc_->updateStatus(res::kJobs, "shop", job);
    ASSERT_TRUE(u.ok()) << u.error().toString();
  }
  // A pod of the Job, as the Job controller labels them, with `log` served as its pods/log.
  void podOf(const std::string& job, const std::string& pod, const std::string& log) {
    Json p = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", pod}, {"namespace", "shop"}, {"labels", {{"job-name", job}}}}},
              {"spec", {{"restartPolicy", "Never"}, {"containers", Json::array({{{"name", "migrate"}, {"image", "x"}}})}}}};
    ASSERT_TRUE(inproc_->create(res::kPods, "shop", p).ok());
    podLogs_[pod] = log;
  }
  Json status() { return sdbObject()["status"]; }
  void removeJob(const std::string& name) {  // as the TTL controller does
    kube::DeleteOptions o;
    o.propagationPolicy = "Background";
    ASSERT_TRUE(inproc_->remove(res::kJobs, "shop", name, o).ok());
    ASSERT_TRUE(get(res::kJobs, name).is_null()) << name << " is still there";
  }
  std::string onlyJob() {
    auto names = jobNames();
    EXPECT_EQ(names.size(), 1u);
    return names.empty() ? "" : names.back();
  }
  Json backupCronJob(const std::string& database = "orders", const std::string& name = "orders-backup") {
    return {{"apiVersion", "batch/v1"},
            {"kind", "CronJob"},
            {"metadata",
             {{"name", name},
              {"namespace", "shop"},
              {"labels",
               {{"servicedb.io/database", database},
                {"servicedb.io/component", "backup"},
                {"app.kubernetes.io/managed-by", "servicedb-operator"}}}}},
            {"spec",
             {{"schedule", "0 2 * * *"},
              {"jobTemplate",
               {{"metadata", {{"labels", {{"servicedb.io/component", "backup"}}}}},
                {"spec",
                 {{"template",
                   {{"spec",
                     {{"restartPolicy", "Never"},
                      {"containers", Json::array({{{"name", "backup"}, {"image", "busybox"},
                                                   {"args", {"echo", "backup of " + database}}}})}}}}}}}}}}}};
  }
};

}  // namespace sdb::controllers::servicedatabase::testing
