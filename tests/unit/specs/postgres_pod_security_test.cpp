// The dedicated PostgreSQL instance against independent code: the local cluster's Pod Security
// admission (k8s.io/pod-security-admission's restricted checks, e2e/apimachinery/pod_security.h)
// and its StatefulSet controller (e2e/workloads), which must be able to create the instance's pod
// in a namespace that enforces "restricted". A weakened template is refused, so the check is live.
#include <gtest/gtest.h>

#include "e2e/apimachinery/pod_security.h"
#include "operator/specs/postgres_instance.h"
#include "tests/unit/workloads/fixture.h"

namespace sdb::specs {
namespace {

using apimachinery::PodSecurityLevel;
namespace res = kube::resources;

ServiceDatabase sdbIn(const std::string& ns) {
  auto s = parseServiceDatabase(Json::parse(R"({"apiVersion": "servicedb.io/v1alpha1", "kind": "ServiceDatabase",
    "metadata": {"name": "orders", "namespace": ")" + ns + R"(", "uid": "7d1c2a9e-uid"},
    "spec": {"service": "orders-api", "engine": "postgres", "version": "16",
             "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}})"));
  EXPECT_TRUE(s.ok()) << s.error().message;
  return *s;
}

Json builtStatefulSet(const ServiceDatabase& s) {
  auto cm = postgresConfigMap(s, {});
  EXPECT_TRUE(cm.ok());
  auto sts = postgresStatefulSet(s, {}, configMapHash(*cm));
  EXPECT_TRUE(sts.ok()) << sts.error().message;
  return *sts;
}

TEST(PostgresPodSecurity, TemplatePassesTheRestrictedChecks) {
  Json sts = builtStatefulSet(sdbIn("shop"));
  const Json& podSpec = sts["spec"]["template"]["spec"];
  EXPECT_EQ(apimachinery::formatViolations(apimachinery::evaluatePodSecurity(PodSecurityLevel::kRestricted, podSpec)), "");
  // The checker is live: each weakening is reported.
  Json escalating = podSpec;
  escalating["containers"][0]["securityContext"].erase("allowPrivilegeEscalation");
  EXPECT_NE(apimachinery::formatViolations(apimachinery::evaluatePodSecurity(PodSecurityLevel::kRestricted, escalating))
                .find("allowPrivilegeEscalation != false"),
            std::string::npos);
  Json root = podSpec;
  root["securityContext"]["runAsUser"] = 0;
  EXPECT_FALSE(apimachinery::evaluatePodSecurity(PodSecurityLevel::kRestricted, root).empty());
  Json noSeccomp = podSpec;
  noSeccomp["securityContext"].erase("seccompProfile");
  EXPECT_FALSE(apimachinery::evaluatePodSecurity(PodSecurityLevel::kRestricted, noSeccomp).empty());
}

class PostgresInRestrictedNamespace : public workloads::testing::WorkloadsTest {
 protected:
  void SetUp() override {
    WorkloadsTest::SetUp();
    Json ns = {{"metadata",
                {{"name", "shop"},
                 {"labels", {{"pod-security.kubernetes.io/enforce", "restricted"}, {"pod-security.kubernetes.io/warn", "restricted"}}}}}};
    ASSERT_TRUE(client_->create(res::kNamespaces, "", ns).ok());
  }
  // Creates through the store directly, to see the admission warnings.
  std::vector<std::string> createInShop(const kube::ResourceRef& r, const Json& obj) {
    apimachinery::RequestContext ctx;
    auto created = store_->create(r, "shop", obj, {}, &ctx);
    EXPECT_TRUE(created.ok()) << jsonString(obj, {"metadata", "name"}) << ": "
                              << (created.ok() ? "" : created.error().toString());
    return ctx.warnings;
  }
  std::optional<Json> inShop(const kube::ResourceRef& r, const std::string& name) {
    auto o = client_->get(r, "shop", name);
    return o.ok() ? std::optional<Json>(*o) : std::nullopt;
  }
};

TEST_F(PostgresInRestrictedNamespace, TheStatefulSetControllerCreatesThePod) {
  ServiceDatabase s = sdbIn("shop");
  InstanceNames n = instanceNames(s);
  auto cm = postgresConfigMap(s, {});
  ASSERT_TRUE(cm.ok());
  EXPECT_TRUE(createInShop(res::kConfigMaps, *cm).empty());
  EXPECT_TRUE(createInShop(res::kSecrets, superuserSecret(s, n, kPostgresSuperuser, "pw")).empty());
  EXPECT_TRUE(createInShop(res::kSecrets, tlsSecret(s, n, "cert", "key", "ca")).empty());
  EXPECT_TRUE(createInShop(res::kServices, headlessService(s, n, kPostgresPortName, kPostgresPort)).empty());
  EXPECT_TRUE(createInShop(res::kServices, clusterIpService(s, n, kPostgresPortName, kPostgresPort)).empty());
  const std::vector<std::string> warnings = createInShop(res::kStatefulSets, builtStatefulSet(s));
  EXPECT_TRUE(warnings.empty()) << warnings.front();

  ASSERT_TRUE(eventually([&] { return inShop(res::kPods, n.pod0).has_value(); })) << "the pod was not admitted";
  Json pod = *inShop(res::kPods, n.pod0);
  EXPECT_EQ(pod["spec"]["subdomain"], n.headlessService);
  EXPECT_EQ(pod["metadata"]["labels"]["servicedb.io/component"], "instance");
  EXPECT_EQ(pod["metadata"]["annotations"][kAnnotationConfigHash], configMapHash(*cm));
  bool claimVolume = false;
  for (const auto& v : pod["spec"]["volumes"]) claimVolume |= jsonString(v, {"persistentVolumeClaim", "claimName"}) == n.pvc0;
  EXPECT_TRUE(claimVolume) << pod["spec"]["volumes"].dump();
  EXPECT_EQ(apimachinery::formatViolations(apimachinery::evaluatePodSecurity(PodSecurityLevel::kRestricted, pod["spec"])), "");
  ASSERT_TRUE(eventually([&] { return inShop(res::kPersistentVolumeClaims, n.pvc0).has_value(); }));
  EXPECT_FALSE((*inShop(res::kPersistentVolumeClaims, n.pvc0))["metadata"].contains("ownerReferences"))
      << "deletionPolicy Retain keeps the claim";
}

TEST_F(PostgresInRestrictedNamespace, AWeakenedTemplateIsRefused) {
  ServiceDatabase s = sdbIn("shop");
  Json sts = builtStatefulSet(s);
  sts["spec"]["template"]["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = true;
  const std::vector<std::string> warnings = createInShop(res::kStatefulSets, sts);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("would violate PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false"),
            std::string::npos)
      << warnings[0];
  settle();
  EXPECT_FALSE(inShop(res::kPods, instanceNames(s).pod0).has_value()) << "enforce refuses the pod";
}

}  // namespace
}  // namespace sdb::specs
