// The dedicated MongoDB instance against independent code: the local cluster's Pod Security
// admission (restricted) and its StatefulSet controller, which must be able to create the instance's
// pod in a namespace that enforces "restricted".
#include <gtest/gtest.h>

#include "e2e/apimachinery/pod_security.h"
#include "operator/specs/mongo_instance.h"
#include "tests/unit/workloads/fixture.h"

namespace sdb::specs {
namespace {

using apimachinery::PodSecurityLevel;
namespace res = kube::resources;

ServiceDatabase reviews() {
  auto s = parseServiceDatabase(Json::parse(R"({"apiVersion": "servicedb.io/v1alpha1", "kind": "ServiceDatabase",
    "metadata": {"name": "reviews", "namespace": "shop", "uid": "0b6e2d1c-uid"},
    "spec": {"service": "reviews-api", "engine": "mongodb", "version": "7.0"}})"));
  EXPECT_TRUE(s.ok()) << s.error().message;
  return *s;
}

Json statefulSet(const ServiceDatabase& s) {
  auto sts = mongoStatefulSet(s, {});
  EXPECT_TRUE(sts.ok()) << sts.error().message;
  return *sts;
}

TEST(MongoPodSecurity, TemplatePassesTheRestrictedChecks) {
  const Json podSpec = statefulSet(reviews())["spec"]["template"]["spec"];
  EXPECT_EQ(apimachinery::formatViolations(apimachinery::evaluatePodSecurity(PodSecurityLevel::kRestricted, podSpec)), "");
  Json root = podSpec;  // the checker is live
  root["securityContext"]["runAsUser"] = 0;
  EXPECT_FALSE(apimachinery::evaluatePodSecurity(PodSecurityLevel::kRestricted, root).empty());
}

class MongoInRestrictedNamespace : public workloads::testing::WorkloadsTest {
 protected:
  void SetUp() override {
    WorkloadsTest::SetUp();
    Json ns = {{"metadata",
                {{"name", "shop"},
                 {"labels", {{"pod-security.kubernetes.io/enforce", "restricted"}, {"pod-security.kubernetes.io/warn", "restricted"}}}}}};
    ASSERT_TRUE(client_->create(res::kNamespaces, "", ns).ok());
  }
  std::vector<std::string> createInShop(const kube::ResourceRef& r, const Json& obj) {
    apimachinery::RequestContext ctx;
    auto created = store_->create(r, "shop", obj, {}, &ctx);
    EXPECT_TRUE(created.ok()) << jsonString(obj, {"metadata", "name"}) << ": " << (created.ok() ? "" : created.error().toString());
    return ctx.warnings;
  }
};

TEST_F(MongoInRestrictedNamespace, TheStatefulSetControllerCreatesThePod) {
  ServiceDatabase s = reviews();
  InstanceNames n = instanceNames(s);
  EXPECT_TRUE(createInShop(res::kSecrets, superuserSecret(s, n, kMongoSuperuser, "pw")).empty());
  EXPECT_TRUE(createInShop(res::kSecrets, tlsSecret(s, n, "cert\n", "key\n", "ca\n")).empty());
  EXPECT_TRUE(createInShop(res::kServices, headlessService(s, n, kMongoPortName, kMongoPort)).empty());
  const std::vector<std::string> warnings = createInShop(res::kStatefulSets, statefulSet(s));
  EXPECT_TRUE(warnings.empty()) << warnings.front();
  ASSERT_TRUE(eventually([&] { return client_->get(res::kPods, "shop", n.pod0).ok(); })) << "the pod was not admitted";
  Json pod = *client_->get(res::kPods, "shop", n.pod0);
  EXPECT_EQ(pod["spec"]["subdomain"], n.headlessService);
  EXPECT_EQ(apimachinery::formatViolations(apimachinery::evaluatePodSecurity(PodSecurityLevel::kRestricted, pod["spec"])), "");
}

}  // namespace
}  // namespace sdb::specs
