// The dedicated Redis instance's objects against independent code: the local cluster's Pod Security
// admission (restricted, init container included) and its StatefulSet controller, which must create
// the instance's pod in a namespace that enforces "restricted".
#include <gtest/gtest.h>

#include "e2e/apimachinery/pod_security.h"
#include "operator/specs/redis_instance.h"
#include "tests/unit/workloads/fixture.h"

namespace sdb::specs {
namespace {

using apimachinery::PodSecurityLevel;
namespace res = kube::resources;

ServiceDatabase redisSdb() {
  auto s = parseServiceDatabase(Json::parse(R"({"apiVersion": "servicedb.io/v1alpha1", "kind": "ServiceDatabase",
    "metadata": {"name": "sessions", "namespace": "shop", "uid": "5b2f1c3d-uid"},
    "spec": {"service": "cart", "engine": "redis", "version": "7.2"}})"));
  EXPECT_TRUE(s.ok()) << s.error().message;
  return *s;
}

TEST(RedisPodSecurity, TemplatePassesTheRestrictedChecksInitContainerIncluded) {
  auto sts = redisStatefulSet(redisSdb(), {}, "h");
  ASSERT_TRUE(sts.ok()) << sts.error().message;
  const Json& podSpec = (*sts)["spec"]["template"]["spec"];
  ASSERT_EQ(podSpec["initContainers"].size(), 1u);
  EXPECT_EQ(apimachinery::formatViolations(apimachinery::evaluatePodSecurity(PodSecurityLevel::kRestricted, podSpec)), "");
  Json capable = podSpec;
  capable["initContainers"][0]["securityContext"].erase("capabilities");
  EXPECT_NE(apimachinery::formatViolations(apimachinery::evaluatePodSecurity(PodSecurityLevel::kRestricted, capable))
                .find("container \"acl\""),
            std::string::npos)
      << "the checker looks at the init container";
}

class RedisInRestrictedNamespace : public workloads::testing::WorkloadsTest {
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
    EXPECT_TRUE(created.ok()) << jsonString(obj, {"metadata", "name"}) << ": "
                              << (created.ok() ? "" : created.error().toString());
    return ctx.warnings;
  }
};

TEST_F(RedisInRestrictedNamespace, TheStatefulSetControllerCreatesThePod) {
  ServiceDatabase s = redisSdb();
  InstanceNames n = instanceNames(s);
  EXPECT_TRUE(createInShop(res::kConfigMaps, redisConfigMap(s, "port 0\n")).empty());
  EXPECT_TRUE(createInShop(res::kSecrets, redisAclSecret(s, "user default off\n")).empty());
  EXPECT_TRUE(createInShop(res::kSecrets, superuserSecret(s, n, kRedisSuperuser, "pw")).empty());
  EXPECT_TRUE(createInShop(res::kSecrets, tlsSecret(s, n, "cert", "key", "ca")).empty());
  auto sts = redisStatefulSet(s, {}, "h");
  ASSERT_TRUE(sts.ok());
  const std::vector<std::string> warnings = createInShop(res::kStatefulSets, *sts);
  EXPECT_TRUE(warnings.empty()) << warnings.front();
  ASSERT_TRUE(eventually([&] { return client_->get(res::kPods, "shop", n.pod0).ok(); })) << "the pod was not admitted";
  Json pod = *client_->get(res::kPods, "shop", n.pod0);
  EXPECT_EQ(pod["spec"]["initContainers"][0]["name"], "acl");
  EXPECT_EQ(apimachinery::formatViolations(apimachinery::evaluatePodSecurity(PodSecurityLevel::kRestricted, pod["spec"])), "");
}

}  // namespace
}  // namespace sdb::specs
