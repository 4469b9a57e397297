// Engine-neutral instance pieces: names (long, dotted and digit-led ServiceDatabase names), DNS
// names, quantities, container resources, security contexts, and golden files for the Services
// and the superuser and TLS Secrets.
#include "operator/specs/instance.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "operator/specs/credentials_secret.h"
#include "tests/unit/specs/golden_file.h"

using namespace sdb;
using namespace sdb::specs;
using sdb::specs::golden::matchesGolden;

namespace {

ServiceDatabase sdbNamed(const std::string& name, const std::string& engine = "postgres") {
  Json obj = {{"apiVersion", "servicedb.io/v1alpha1"},
              {"kind", "ServiceDatabase"},
              {"metadata", {{"name", name}, {"namespace", "shop"}, {"uid", "7d1c2a9e-uid"}}},
              {"spec", {{"service", "orders-api"}, {"engine", engine}, {"version", "16"}}}};
  auto s = parseServiceDatabase(obj);
  EXPECT_TRUE(s.ok()) << s.error().message;
  return *s;
}

ServiceDatabase withResources(const Json& resources) {
  ServiceDatabase s = sdbNamed("orders");
  s.resources = resources;
  return s;
}

bool isDns1035(const std::string& s) {
  static const std::regex re("[a-z]([-a-z0-9]*[a-z0-9])?");
  return s.size() <= 63 && std::regex_match(s, re);
}

std::vector<std::string> allNames(const InstanceNames& n) {
  return {n.base, n.headlessService, n.service, n.configMap, n.superuserSecret, n.tlsSecret, n.networkPolicy, n.pod0, n.pvc0};
}

TEST(InstanceNames, ShortNameIsNameDashEngine) {
  InstanceNames n = instanceNames(sdbNamed("orders"));
  EXPECT_EQ(n.base, "orders-postgres");
  EXPECT_EQ(n.headlessService, "orders-postgres-hl");
  EXPECT_EQ(n.service, "orders-postgres");
  EXPECT_EQ(n.configMap, "orders-postgres-config");
  EXPECT_EQ(n.superuserSecret, "orders-postgres-superuser");
  EXPECT_EQ(n.tlsSecret, "orders-postgres-tls");
  EXPECT_EQ(n.networkPolicy, "orders-postgres");
  EXPECT_EQ(n.pod0, "orders-postgres-0");
  EXPECT_EQ(n.pvc0, "data-orders-postgres-0");
  EXPECT_EQ(instanceNames(sdbNamed("orders", "redis")).base, "orders-redis");
  EXPECT_EQ(instanceNames(sdbNamed("orders", "mongodb")).base, "orders-mongodb");
}

TEST(InstanceNames, LongDottedAndDigitLedNamesAreValidBoundedDeterministicAndDistinct) {
  std::vector<std::string> names = {std::string(63, 'a'), std::string(62, 'a') + "b", std::string(38, 'c'),
                                    std::string(39, 'c'), "orders.v2",  "orders-v2", "1orders", "9", "a.b-c",
                                    std::string(30, 'x') + "." + std::string(32, 'y'), std::string(36, 'd') + "-e"};
  for (int i = 0; i < 500; ++i) names.push_back(std::string(58, 'q') + "-" + std::to_string(i));
  std::set<std::string> bases;
  for (const auto& name : names) {
    for (const char* engine : {"postgres", "redis", "mongodb"}) {
      ServiceDatabase s = sdbNamed(name, engine);
      InstanceNames n = instanceNames(s);
      SCOPED_TRACE(name + " " + engine);
      EXPECT_LE(n.base.size(), kMaxInstanceBase);
      for (const auto& child : allNames(n)) EXPECT_TRUE(isDns1035(child)) << child;
      // controller-revision-hash label value: "<sts>-<hash up to 10 characters>".
      EXPECT_LE(n.base.size() + 11, 63u);
      EXPECT_EQ(instanceNames(s).base, n.base) << "deterministic";
      EXPECT_TRUE(bases.insert(n.base).second) << "collides: " << n.base;
    }
  }
  EXPECT_EQ(instanceNames(sdbNamed(std::string(38, 'c'))).base, std::string(38, 'c') + "-postgres") << "47 characters fit";
  const std::string cut = instanceNames(sdbNamed(std::string(39, 'c'))).base;
  EXPECT_EQ(cut.substr(0, 36), std::string(36, 'c'));
  EXPECT_EQ(cut.size(), 47u);
  EXPECT_EQ(instanceNames(sdbNamed("1orders")).base.substr(0, 11), "db-1orders-");
  EXPECT_EQ(instanceNames(sdbNamed("orders.v2")).base.substr(0, 10), "orders-v2-");
  EXPECT_EQ(instanceNames(sdbNamed("orders-v2")).base, "orders-v2-postgres");
}

TEST(InstanceDnsNames, ServicesPodAndLocalhost) {
  std::vector<std::string> want = {"orders-postgres", "orders-postgres.shop", "orders-postgres.shop.svc",
                                   "orders-postgres.shop.svc.cluster.local", "orders-postgres-hl",
                                   "orders-postgres-hl.shop", "orders-postgres-hl.shop.svc",
                                   "orders-postgres-hl.shop.svc.cluster.local",
                                   "orders-postgres-0.orders-postgres-hl.shop.svc",
                                   "orders-postgres-0.orders-postgres-hl.shop.svc.cluster.local", "localhost"};
  EXPECT_EQ(instanceDnsNames(sdbNamed("orders")), want);
}

TEST(InstanceOwnerReference, ControllerReferenceToTheServiceDatabase) {
  EXPECT_EQ(ownerReference(sdbNamed("orders")),
            Json::parse(R"({"apiVersion": "servicedb.io/v1alpha1", "kind": "ServiceDatabase", "name": "orders",
                            "uid": "7d1c2a9e-uid", "controller": true, "blockOwnerDeletion": true})"));
}

TEST(Quantity, Bytes) {
  struct Case {
    std::string q;
    int64_t want;
  };
  for (const auto& c : std::vector<Case>{{"512Mi", 536870912},
                                         {"1Gi", 1073741824},
                                         {"1G", 1000000000},
                                         {"1.5Gi", 1610612736},
                                         {".5Gi", 536870912},
                                         {"0.5Ki", 512},
                                         {"2", 2},
                                         {"+2k", 2000},
                                         {"500m", 1},
                                         {"1500m", 2},
                                         {"1e3", 1000},
                                         {"1E3", 1000},
                                         {"1.5e-1", 1},
                                         {"1E", 1000000000000000000},
                                         {"1Ei", int64_t{1} << 60},
                                         {"10Ti", int64_t{10} << 40},
                                         {"0", 0},
                                         {"9223372036854775807", 9223372036854775807},
                                         {"1234567890123456789012345678n", 1234567890123456790}}) {
    auto got = quantityBytes(c.q, "spec.storage.size");
    ASSERT_TRUE(got.ok()) << c.q << ": " << got.error().message;
    EXPECT_EQ(*got, c.want) << c.q;
  }
}

TEST(Quantity, Millis) {
  struct Case {
    std::string q;
    int64_t want;
  };
  for (const auto& c : std::vector<Case>{{"500m", 500}, {"2", 2000}, {"0.1", 100}, {"1.5", 1500}, {"250m", 250},
                                         {"100u", 1}, {"1k", 1000000}, {"1e-3", 1}}) {
    auto got = quantityMillis(c.q, "spec.resources.requests.cpu");
    ASSERT_TRUE(got.ok()) << c.q << ": " << got.error().message;
    EXPECT_EQ(*got, c.want) << c.q;
  }
}

TEST(Quantity, BadInputNamesTheField) {
  for (const std::string q : {"", "abc", "1 Gi", "1gi", "1KiB", "1.2.3", "Gi", ".", "1e", "1e1000", "1e+", "0x10", "1Mi "}) {
    auto got = quantityBytes(q, "spec.resources.limits.memory");
    ASSERT_FALSE(got.ok()) << q;
    EXPECT_EQ(got.error().message, "spec.resources.limits.memory: \"" + q + "\" is not a quantity (such as 512Mi, 1Gi, 1.5G or 500m)");
  }
  auto negative = quantityBytes("-1Gi", "spec.storage.size");
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.error().message, "spec.storage.size: -1Gi must not be negative");
  for (const std::string q : {"8Ei", "9223372036854775808", "1e30", "99999999999999999999999999999999999999999"}) {
    auto big = quantityBytes(q, "spec.storage.size");
    ASSERT_FALSE(big.ok()) << q;
    EXPECT_EQ(big.error().message, "spec.storage.size: " + q + " is too large");
  }
  EXPECT_FALSE(quantityMillis("9223372036854775807", "spec.resources.limits.cpu").ok());
}

TEST(ContainerResources, Defaults) {
  auto r = containerResources(sdbNamed("orders"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->json, Json::parse(R"({"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}})"));
  EXPECT_EQ(r->memoryLimitBytes, 512 * 1024 * 1024);
}

TEST(ContainerResources, GivenValuesAreKeptAndValidated) {
  auto r = containerResources(withResources(Json::parse(
      R"({"requests": {"cpu": 1, "memory": "1Gi", "ephemeral-storage": "1Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}})")));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->json, Json::parse(R"({"requests": {"cpu": "1", "memory": "1Gi", "ephemeral-storage": "1Gi"},
                                     "limits": {"cpu": "2", "memory": "2Gi"}})"));
  EXPECT_EQ(r->memoryLimitBytes, int64_t{2} << 30);
}

TEST(ContainerResources, RequestWithoutLimitRaisesTheDefaultLimit) {
  auto r = containerResources(withResources({{"requests", {{"memory", "1Gi"}}}}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->json["limits"]["memory"], "1Gi");
  EXPECT_EQ(r->memoryLimitBytes, int64_t{1} << 30);
  auto small = containerResources(withResources({{"requests", {{"memory", "300Mi"}}}}));
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->json["limits"]["memory"], "512Mi") << "a request under the default limit keeps it";
}

TEST(ContainerResources, LimitWithoutRequestLowersTheDefaultRequest) {
  auto r = containerResources(withResources({{"limits", {{"memory", "128Mi"}, {"cpu", "50m"}}}}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->json, Json::parse(R"({"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"cpu": "50m", "memory": "128Mi"}})"));
  auto big = containerResources(withResources({{"limits", {{"memory", "4Gi"}}}}));
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->json["requests"]["memory"], "256Mi");
}

TEST(ContainerResources, ErrorsNameTheField) {
  struct Case {
    Json resources;
    std::string want;
  };
  for (const auto& c : std::vector<Case>{
           {{{"requests", {{"memory", "2Gi"}}}, {"limits", {{"memory", "1Gi"}}}},
            "spec.resources.requests.memory: 2Gi is more than spec.resources.limits.memory 1Gi"},
           {{{"requests", {{"cpu", "2"}}}, {"limits", {{"cpu", "1500m"}}}},
            "spec.resources.requests.cpu: 2 is more than spec.resources.limits.cpu 1500m"},
           {{{"limits", {{"memory", "lots"}}}},
            "spec.resources.limits.memory: \"lots\" is not a quantity (such as 512Mi, 1Gi, 1.5G or 500m)"},
           {{{"limits", {{"nvidia.com/gpu", "1"}}}},
            "spec.resources.limits.nvidia.com/gpu: unsupported; only cpu, memory and ephemeral-storage"},
           {{{"claims", Json::array()}}, "spec.resources.claims: unsupported; only requests and limits"},
           {{{"requests", "1Gi"}}, "spec.resources.requests: must be a map of cpu, memory and ephemeral-storage"},
           {{{"requests", {{"memory", true}}}}, "spec.resources.requests.memory: must be a quantity such as 512Mi or 500m"},
           {{{"limits", {{"memory", "0"}}}}, "spec.resources.limits.memory: must be more than 0, got 0"},
       }) {
    auto r = containerResources(withResources(c.resources));
    ASSERT_FALSE(r.ok()) << c.resources.dump();
    EXPECT_EQ(r.error().message, c.want);
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(SecurityContexts, RestrictedProfile) {
  EXPECT_EQ(restrictedPodSecurityContext(999), Json::parse(R"({"runAsNonRoot": true, "runAsUser": 999, "runAsGroup": 999,
      "fsGroup": 999, "fsGroupChangePolicy": "OnRootMismatch", "seccompProfile": {"type": "RuntimeDefault"}})"));
  EXPECT_EQ(restrictedContainerSecurityContext(),
            Json::parse(R"({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]},
                            "readOnlyRootFilesystem": true, "runAsNonRoot": true})"));
}

TEST(InstanceServices, Golden) {
  ServiceDatabase s = sdbNamed("orders");
  InstanceNames n = instanceNames(s);
  Json headless = headlessService(s, n, "postgresql", 5432);
  Json clusterIp = clusterIpService(s, n, "postgresql", 5432);
  EXPECT_TRUE(matchesGolden(headless, "instance_service_headless.json"));
  EXPECT_TRUE(matchesGolden(clusterIp, "instance_service_clusterip.json"));
  const Json selector = instanceSelector(s);
  EXPECT_EQ(headless["spec"]["selector"], selector);
  EXPECT_EQ(clusterIp["spec"]["selector"], selector);
  Labels labels = standardLabels(s, Component::kInstance);
  for (const auto& [k, v] : instanceSelector(s)) EXPECT_EQ(labels[k], v) << k << ": the selector is a subset of the labels";
  EXPECT_FALSE(clusterIp["spec"].contains("clusterIP"));
}

TEST(InstanceSecrets, SuperuserGolden) {
  ServiceDatabase s = sdbNamed("orders");
  Json secret = superuserSecret(s, instanceNames(s), "postgres", "s3cr3t-'\"\\");
  EXPECT_TRUE(matchesGolden(golden::secretReview(secret), "instance_secret_superuser.json"));
  EXPECT_EQ(secret["type"], "Opaque");
  EXPECT_EQ(secretData(secret), (std::map<std::string, std::string>{{"username", "postgres"}, {"password", "s3cr3t-'\"\\"}}));
  EXPECT_EQ(secret["data"]["username"], "cG9zdGdyZXM=");
}

TEST(InstanceSecrets, TlsGolden) {
  ServiceDatabase s = sdbNamed("orders");
  const std::string cert = "-----BEGIN CERTIFICATE-----\nMIIBserver\n-----END CERTIFICATE-----\n";
  const std::string key = "-----BEGIN PRIVATE KEY-----\nMIGHkey\n-----END PRIVATE KEY-----\n";
  const std::string ca = "-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n";
  Json secret = tlsSecret(s, instanceNames(s), cert, key, ca);
  EXPECT_TRUE(matchesGolden(golden::secretReview(secret), "instance_secret_tls.json"));
  EXPECT_EQ(secret["type"], "kubernetes.io/tls");
  EXPECT_EQ(secretData(secret), (std::map<std::string, std::string>{
                                    {"tls.crt", cert}, {"tls.key", key}, {"tls.pem", cert + key}, {"ca.crt", ca}}));
}

TEST(InstanceSecrets, CombinedPemIsTheCertificateThenTheKeyEachOnItsOwnLines) {
  EXPECT_EQ(tlsCombinedPem("-----END CERTIFICATE-----\n", "-----BEGIN PRIVATE KEY-----\n"),
            "-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\n");
  // A certificate without its final newline would glue the two PEM blocks onto one line.
  EXPECT_EQ(tlsCombinedPem("-----END CERTIFICATE-----", "-----BEGIN PRIVATE KEY-----\n"),
            "-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\n");
  EXPECT_EQ(tlsCombinedPem("", "k"), "k");
}

TEST(ConfigMapHash, FollowsDataOnly) {
  Json cm = {{"metadata", {{"name", "a"}}}, {"data", {{"k", "v"}}}};
  const std::string h = configMapHash(cm);
  EXPECT_EQ(h.size(), 64u);
  Json renamed = cm;
  renamed["metadata"]["name"] = "b";
  EXPECT_EQ(configMapHash(renamed), h);
  Json changed = cm;
  changed["data"]["k"] = "w";
  EXPECT_NE(configMapHash(changed), h);
}

}  // namespace
