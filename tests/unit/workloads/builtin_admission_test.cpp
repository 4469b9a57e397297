// Built-in workload defaulting and validation in the store (what kube-apiserver does on create and
// update), through the in-process client.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "e2e/apimachinery/store.h"
#include "e2e/apimachinery_client/inprocess_client.h"

namespace sdb::apimachinery {
namespace {

namespace res = kube::resources;

class BuiltinAdmissionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::open({});
    ASSERT_TRUE(s.ok());
    store_ = std::move(s).value();
    client_ = std::make_unique<InProcessKubeClient>(*store_);
    ASSERT_TRUE(client_->create(res::kNamespaces, "", {{"metadata", {{"name", "default"}}}}).ok());
  }
  static Json podTemplate(const std::string& restartPolicy = "") {
    Json t = {{"metadata", {{"labels", {{"app", "web"}}}}},
              {"spec", {{"containers", {{{"name", "c"}, {"image", "redis:7"}}}}}}};
    if (!restartPolicy.empty()) t["spec"]["restartPolicy"] = restartPolicy;
    return t;
  }
  std::string invalidField(const kube::KResult<Json>& r) {
    if (r.ok()) return "(accepted)";
    std::string out;
    for (const auto& c : r.error().causes) out += c.field + ": " + c.message + "\n";
    return out;
  }
  std::unique_ptr<Store> store_;
  std::unique_ptr<InProcessKubeClient> client_;
};

TEST_F(BuiltinAdmissionTest, StatefulSetDefaults) {
  Json sts = {{"metadata", {{"name", "db"}}},
              {"spec", {{"selector", {{"matchLabels", {{"app", "web"}}}}}, {"serviceName", "db"}, {"template", podTemplate()},
                        {"volumeClaimTemplates", {{{"metadata", {{"name", "data"}}},
                                                   {"spec", {{"accessModes", {"ReadWriteOnce"}},
                                                             {"resources", {{"requests", {{"storage", "1Gi"}}}}}}}}}}}}};
  auto created = client_->create(res::kStatefulSets, "default", sts);
  ASSERT_TRUE(created.ok()) << created.error().toString();
  const Json& spec = (*created)["spec"];
  EXPECT_EQ(spec["replicas"], 1);
  EXPECT_EQ(spec["podManagementPolicy"], "OrderedReady");
  EXPECT_EQ(spec["updateStrategy"], (Json{{"type", "RollingUpdate"}, {"rollingUpdate", {{"partition", 0}}}}));
  EXPECT_EQ(spec["revisionHistoryLimit"], 10);
  EXPECT_EQ(spec["persistentVolumeClaimRetentionPolicy"], (Json{{"whenDeleted", "Retain"}, {"whenScaled", "Retain"}}));
  EXPECT_EQ(spec["volumeClaimTemplates"][0]["spec"]["volumeMode"], "Filesystem");
  // OnDelete keeps no rollingUpdate block; explicit values are kept.
  sts["metadata"]["name"] = "db2";
  sts["spec"]["replicas"] = 3;
  sts["spec"]["updateStrategy"] = {{"type", "OnDelete"}};
  created = client_->create(res::kStatefulSets, "default", sts);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ((*created)["spec"]["replicas"], 3);
  EXPECT_EQ((*created)["spec"]["updateStrategy"], (Json{{"type", "OnDelete"}}));
}

// The documented boundary of built-in defaulting (e2e/README.md): fields outside the defaults we
// apply are stored as sent, so writing one later at kube's default value is a change here (new
// resourceVersion and generation), where kube-apiserver, having defaulted it on create, sees a no-op.
TEST_F(BuiltinAdmissionTest, SettingAnUndefaultedFieldToItsDefaultLaterIsAChange) {
  Json deploy = {{"metadata", {{"name", "web"}}},
                 {"spec", {{"selector", {{"matchLabels", {{"app", "web"}}}}}, {"template", podTemplate()}}}};
  auto created = client_->create(res::kDeployments, "default", deploy);
  ASSERT_TRUE(created.ok()) << created.error().toString();
  EXPECT_EQ((*created)["spec"]["revisionHistoryLimit"], 10) << "a default we apply";
  EXPECT_FALSE((*created)["spec"]["template"]["spec"].contains("dnsPolicy")) << "a default we do not apply (kube: ClusterFirst)";
  EXPECT_FALSE((*created)["spec"]["template"]["spec"]["containers"][0].contains("imagePullPolicy"))
      << "kube: IfNotPresent for a tagged image";
  const std::string rv = (*created)["metadata"]["resourceVersion"];

  // Writing a default we apply changes nothing: same resourceVersion, as in kube.
  Json same = *created;
  same["spec"]["revisionHistoryLimit"] = 10;
  auto noop = client_->update(res::kDeployments, "default", same);
  ASSERT_TRUE(noop.ok()) << noop.error().toString();
  EXPECT_EQ((*noop)["metadata"]["resourceVersion"], rv);
  EXPECT_EQ((*noop)["metadata"]["generation"], 1);

  // Writing kube's default of a field we leave alone is a spec change here.
  Json explicitDefault = *noop;
  explicitDefault["spec"]["template"]["spec"]["dnsPolicy"] = "ClusterFirst";
  auto changed = client_->update(res::kDeployments, "default", explicitDefault);
  ASSERT_TRUE(changed.ok()) << changed.error().toString();
  EXPECT_NE((*changed)["metadata"]["resourceVersion"], rv);
  EXPECT_EQ((*changed)["metadata"]["generation"], 2) << "kube-apiserver would keep generation 1";
  EXPECT_EQ((*changed)["spec"]["template"]["spec"]["dnsPolicy"], "ClusterFirst");
}

TEST_F(BuiltinAdmissionTest, StatefulSetAndDeploymentValidation) {
  Json sts = {{"metadata", {{"name", "db"}}},
              {"spec", {{"selector", {{"matchLabels", {{"app", "other"}}}}}, {"template", podTemplate()}}}};
  auto r = client_->create(res::kStatefulSets, "default", sts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().httpCode, 422);
  EXPECT_EQ(invalidField(r), "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: "
                             "`selector` does not match template `labels`\n");
  sts["spec"].erase("selector");
  EXPECT_EQ(invalidField(client_->create(res::kStatefulSets, "default", sts)), "spec.selector: Required value\n");
  Json deploy = {{"metadata", {{"name", "d"}}},
                 {"spec", {{"selector", {{"matchLabels", {{"app", "web"}}}}}, {"template", podTemplate("Never")}}}};
  EXPECT_EQ(invalidField(client_->create(res::kDeployments, "default", deploy)),
            "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"\n");
  deploy["spec"]["template"] = podTemplate();
  auto d = client_->create(res::kDeployments, "default", deploy);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ((*d)["spec"]["strategy"],
            (Json{{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", "25%"}, {"maxUnavailable", "25%"}}}}));
  EXPECT_EQ((*d)["spec"]["progressDeadlineSeconds"], 600);
}

TEST_F(BuiltinAdmissionTest, JobGetsItsSelectorAndLabels) {
  Json tmpl = podTemplate("Never");
  tmpl["metadata"] = Json::object();
  Json job = {{"metadata", {{"name", "migrate"}}}, {"spec", {{"template", tmpl}}}};
  auto created = client_->create(res::kJobs, "default", job);
  ASSERT_TRUE(created.ok()) << created.error().toString();
  const std::string uid = (*created)["metadata"]["uid"];
  const Json& spec = (*created)["spec"];
  EXPECT_EQ(spec["selector"], (Json{{"matchLabels", {{"batch.kubernetes.io/controller-uid", uid}}}}));
  const Json want = {{"batch.kubernetes.io/controller-uid", uid}, {"batch.kubernetes.io/job-name", "migrate"},
                     {"controller-uid", uid}, {"job-name", "migrate"}};
  EXPECT_EQ(spec["template"]["metadata"]["labels"], want);
  EXPECT_EQ((*created)["metadata"]["labels"], want);
  EXPECT_EQ(spec["completions"], 1);
  EXPECT_EQ(spec["parallelism"], 1);
  EXPECT_EQ(spec["backoffLimit"], 6);
  EXPECT_EQ(spec["completionMode"], "NonIndexed");
  EXPECT_EQ(spec["podReplacementPolicy"], "TerminatingOrFailed");
  // A parallel work-queue job keeps completions unset.
  job["metadata"]["name"] = "queue";
  job["spec"]["parallelism"] = 3;
  created = client_->create(res::kJobs, "default", job);
  ASSERT_TRUE(created.ok());
  EXPECT_FALSE((*created)["spec"].contains("completions"));
  // Jobs may not restart Always, and must say how they restart.
  job["metadata"]["name"] = "bad";
  job["spec"]["template"]["spec"]["restartPolicy"] = "Always";
  EXPECT_EQ(invalidField(client_->create(res::kJobs, "default", job)),
            "spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\"\n");
  job["spec"]["template"]["spec"].erase("restartPolicy");
  EXPECT_EQ(invalidField(client_->create(res::kJobs, "default", job)),
            "spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"\n");
}

TEST_F(BuiltinAdmissionTest, CronJobScheduleAndTimeZone) {
  Json cj = {{"metadata", {{"name", "backup"}}},
             {"spec", {{"schedule", "0 3 * * *"}, {"timeZone", "Europe/Berlin"},
                       {"jobTemplate", {{"spec", {{"template", podTemplate("OnFailure")}}}}}}}};
  auto created = client_->create(res::kCronJobs, "default", cj);
  ASSERT_TRUE(created.ok()) << created.error().toString();
  EXPECT_EQ((*created)["spec"]["concurrencyPolicy"], "Allow");
  EXPECT_EQ((*created)["spec"]["successfulJobsHistoryLimit"], 3);
  EXPECT_EQ((*created)["spec"]["failedJobsHistoryLimit"], 1);
  EXPECT_EQ((*created)["spec"]["suspend"], false);
  cj["metadata"]["name"] = "bad";
  cj["spec"]["schedule"] = "0 25 * * *";
  EXPECT_EQ(invalidField(client_->create(res::kCronJobs, "default", cj)),
            "spec.schedule: Invalid value: \"0 25 * * *\": end of range (25) above maximum (23): 25\n");
  cj["spec"]["schedule"] = "@daily";
  cj["spec"]["timeZone"] = "Mars/Base";
  EXPECT_EQ(invalidField(client_->create(res::kCronJobs, "default", cj)),
            "spec.timeZone: Invalid value: \"Mars/Base\": unknown time zone Mars/Base\n");
  // Updates are validated too.
  Json live = *client_->get(res::kCronJobs, "default", "backup");
  live["spec"]["schedule"] = "every day";
  EXPECT_NE(invalidField(client_->update(res::kCronJobs, "default", live)).find("spec.schedule: Invalid value"),
            std::string::npos);
}

TEST_F(BuiltinAdmissionTest, ClaimsNeedAccessModesAndAStorageRequest) {
  Json pvc = {{"metadata", {{"name", "data"}}}, {"spec", {{"resources", {{"requests", {{"storage", "1Gi"}}}}}}}};
  EXPECT_EQ(invalidField(client_->create(res::kPersistentVolumeClaims, "default", pvc)),
            "spec.accessModes: Required value: at least 1 access mode is required\n");
  pvc["spec"]["accessModes"] = {"ReadWriteOnce"};
  auto created = client_->create(res::kPersistentVolumeClaims, "default", pvc);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ((*created)["spec"]["volumeMode"], "Filesystem");
  EXPECT_EQ((*created)["status"]["phase"], "Pending");
}

// kube-apiserver never answers 409 to a patch that does not pin a resourceVersion: it re-applies the
// patch to the latest object. Controllers write status all the time, so kubectl patch/apply depend
// on this.
TEST_F(BuiltinAdmissionTest, PatchesRetryAgainstConcurrentWritersUnlessPinned) {
  Json sts = {{"metadata", {{"name", "db"}}},
              {"spec", {{"selector", {{"matchLabels", {{"app", "web"}}}}}, {"template", podTemplate()}}}};
  ASSERT_TRUE(client_->create(res::kStatefulSets, "default", sts).ok());
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop.load(); ++i) {
      auto live = client_->get(res::kStatefulSets, "default", "db");
      if (!live.ok()) continue;
      Json o = *live;
      o["status"] = {{"replicas", i}};
      (void)client_->updateStatus(res::kStatefulSets, "default", o);
    }
  });
  int failures = 0;
  for (int i = 0; i < 200; ++i) {
    auto p = client_->patch(res::kStatefulSets, "default", "db", kube::PatchType::kMerge,
                            Json{{"spec", {{"replicas", i}}}}.dump());
    if (!p.ok()) ++failures;
  }
  stop = true;
  writer.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ((*client_->get(res::kStatefulSets, "default", "db"))["spec"]["replicas"], 199);
  // A patch that names a stale resourceVersion still conflicts.
  auto pinned = client_->patch(res::kStatefulSets, "default", "db", kube::PatchType::kMerge,
                               Json{{"metadata", {{"resourceVersion", "1"}}}, {"spec", {{"replicas", 1}}}}.dump());
  ASSERT_FALSE(pinned.ok());
  EXPECT_TRUE(pinned.error().is(kube::ApiErrorReason::kConflict));
}

}  // namespace
}  // namespace sdb::apimachinery
