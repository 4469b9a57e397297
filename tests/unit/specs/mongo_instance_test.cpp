// The dedicated MongoDB instance: golden files for the StatefulSet (default, and with resources,
// storage class, a patch version and another image repository), and the properties that matter
// asserted one by one, so a careless golden update cannot drop them. Pod Security:
// mongo_pod_security_test.cpp.
#include "operator/specs/mongo_instance.h"

#include <gtest/gtest.h>

#include "tests/unit/specs/golden_file.h"

namespace sdb::specs {
namespace {

using golden::matchesGolden;

ServiceDatabase sdbFrom(const std::string& json) {
  auto s = parseServiceDatabase(Json::parse(json));
  EXPECT_TRUE(s.ok()) << s.error().message;
  return s.ok() ? *s : ServiceDatabase{};
}

ServiceDatabase defaultSdb(const std::string& ns = "shop") {
  return sdbFrom(R"({"apiVersion": "servicedb.io/v1alpha1", "kind": "ServiceDatabase",
    "metadata": {"name": "reviews", "namespace": ")" + ns + R"(", "uid": "0b6e2d1c-uid"},
    "spec": {"service": "reviews-api", "engine": "mongodb", "version": "7.0"}})");
}

ServiceDatabase customSdb() {
  return sdbFrom(R"({"apiVersion": "servicedb.io/v1alpha1", "kind": "ServiceDatabase",
    "metadata": {"name": "reviews", "namespace": "shop", "uid": "0b6e2d1c-uid"},
    "spec": {"service": "reviews-api", "engine": "mongodb", "version": "7.0.12", "deletionPolicy": "Delete",
             "storage": {"size": "20Gi", "storageClassName": "fast-ssd"},
             "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}, "limits": {"memory": "4Gi"}}}})");
}

MongoInstanceOptions customOptions() {
  MongoInstanceOptions o;
  o.imageRepository = "registry.example.com/mirror/mongo";
  return o;
}

Json statefulSet(const ServiceDatabase& s, const MongoInstanceOptions& o = {}) {
  auto sts = mongoStatefulSet(s, o);
  EXPECT_TRUE(sts.ok()) << sts.error().message;
  return sts.ok() ? *sts : Json();
}

const Json& container(const Json& sts) { return sts["spec"]["template"]["spec"]["containers"][0]; }

// The value after `flag` in args, or "<absent>"; "" for a flag without a value.
std::string arg(const Json& args, const std::string& flag) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] != flag) continue;
    if (i + 1 < args.size() && args[i + 1].get<std::string>().rfind("--", 0) != 0) return args[i + 1];
    return "";
  }
  return "<absent>";
}

TEST(MongoInstance, StatefulSetGolden) {
  EXPECT_TRUE(matchesGolden(statefulSet(defaultSdb()), "mongo_statefulset.json"));
  EXPECT_TRUE(matchesGolden(statefulSet(customSdb(), customOptions()), "mongo_statefulset_custom.json"));
}

TEST(MongoInstance, TlsRequiredWithTheOperatorsCertificateAndScramSha256Only) {
  const Json args = container(statefulSet(defaultSdb()))["args"];
  EXPECT_EQ(args[0].get<std::string>().substr(0, 1), "-") << "the entrypoint runs mongod only for arguments starting with '-'";
  EXPECT_EQ(arg(args, "--tlsMode"), "requireTLS");
  EXPECT_EQ(arg(args, "--tlsCertificateKeyFile"), "/tls/tls.pem");
  EXPECT_EQ(arg(args, "--tlsCAFile"), "/tls/ca.crt");
  EXPECT_EQ(arg(args, "--tlsAllowConnectionsWithoutCertificates"), "");
  EXPECT_EQ(arg(args, "--tlsDisabledProtocols"), "TLS1_0,TLS1_1");
  EXPECT_EQ(arg(args, "--auth"), "");
  EXPECT_EQ(arg(args, "--setParameter"), "authenticationMechanisms=SCRAM-SHA-256");
  EXPECT_EQ(arg(args, "--bind_ip_all"), "");
  EXPECT_EQ(arg(args, "--port"), "27017");
  EXPECT_EQ(arg(args, "--dbpath"), "/data/db");
  for (const char* weak : {"--tlsAllowInvalidCertificates", "--tlsAllowInvalidHostnames", "--noauth", "--tlsMode=allowTLS",
                           "--tlsMode=preferTLS", "--sslMode", "--transitionToAuth"}) {
    EXPECT_EQ(arg(args, weak), "<absent>") << weak;
  }
  int setParameters = 0;
  for (const auto& a : args) setParameters += a == "--setParameter";
  EXPECT_EQ(setParameters, 1) << "no second authenticationMechanisms";
}

TEST(MongoInstance, ShapeLabelsAndOwner) {
  ServiceDatabase s = defaultSdb();
  Json sts = statefulSet(s);
  InstanceNames n = instanceNames(s);
  EXPECT_EQ(n.base, "reviews-mongodb");
  EXPECT_EQ(sts["metadata"]["name"], n.base);
  EXPECT_EQ(sts["metadata"]["labels"], Json(standardLabels(s, Component::kInstance)));
  EXPECT_EQ(sts["metadata"]["labels"]["app.kubernetes.io/name"], "mongodb");
  EXPECT_EQ(sts["metadata"]["ownerReferences"], Json::array({ownerReference(s)}));
  EXPECT_EQ(sts["spec"]["replicas"], 1);
  EXPECT_EQ(sts["spec"]["serviceName"], n.headlessService);
  EXPECT_EQ(sts["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"], "Retain") << "deletionPolicy Retain";
  EXPECT_EQ(sts["spec"]["selector"]["matchLabels"], Json(instanceSelector(s)));
  EXPECT_EQ(sts["spec"]["template"]["metadata"]["labels"], Json(standardLabels(s, Component::kInstance)));
  EXPECT_FALSE(sts["spec"]["template"]["metadata"].contains("annotations")) << "no ConfigMap, no config hash";

  const Json& pod = sts["spec"]["template"]["spec"];
  EXPECT_EQ(pod["securityContext"], restrictedPodSecurityContext(kMongoUid));
  EXPECT_EQ(pod["automountServiceAccountToken"], false);
  EXPECT_EQ(pod["enableServiceLinks"], false);
  const Json& c = container(sts);
  EXPECT_EQ(c["image"], "mongo:7.0");
  EXPECT_EQ(c["securityContext"], restrictedContainerSecurityContext());
  EXPECT_EQ(c["resources"], containerResources(s)->json);
  std::map<std::string, Json> env;
  for (const auto& e : c["env"]) env[e["name"]] = e;
  ASSERT_EQ(env.size(), 2u);
  EXPECT_EQ(env["MONGO_INITDB_ROOT_USERNAME"]["valueFrom"]["secretKeyRef"], Json({{"name", n.superuserSecret}, {"key", "username"}}));
  EXPECT_EQ(env["MONGO_INITDB_ROOT_PASSWORD"]["valueFrom"]["secretKeyRef"], Json({{"name", n.superuserSecret}, {"key", "password"}}));
  EXPECT_FALSE(env["MONGO_INITDB_ROOT_PASSWORD"].contains("value")) << "never the password itself";
  EXPECT_EQ(c["ports"][0], Json({{"name", "mongodb"}, {"containerPort", 27017}, {"protocol", "TCP"}}));
  for (const char* probe : {"startupProbe", "readinessProbe", "livenessProbe"}) {
    EXPECT_EQ(c[probe]["tcpSocket"]["port"], "mongodb") << probe;
  }
  EXPECT_GE(c["startupProbe"]["failureThreshold"].get<int>() * c["startupProbe"]["periodSeconds"].get<int>(), 300);

  std::map<std::string, std::string> mounts;
  for (const auto& m : c["volumeMounts"]) mounts[m["mountPath"]] = m["name"];
  EXPECT_EQ(mounts, (std::map<std::string, std::string>{
                        {"/data/db", "data"}, {"/tls", "tls"}, {"/tmp", "tmp"}, {"/data/configdb", "configdb"}}));
  std::map<std::string, Json> volumes;
  for (const auto& v : pod["volumes"]) volumes[v["name"]] = v;
  EXPECT_EQ(volumes["tls"]["secret"], Json({{"secretName", n.tlsSecret}, {"defaultMode", 0440}}));
  EXPECT_EQ(volumes.count("data"), 0u) << "from the claim template";
  const Json& claim = sts["spec"]["volumeClaimTemplates"][0];
  EXPECT_EQ(claim["metadata"]["name"], "data");
  EXPECT_EQ(claim["spec"]["resources"]["requests"]["storage"], "1Gi");
}

TEST(MongoInstance, FollowsTheSpec) {
  Json sts = statefulSet(customSdb(), customOptions());
  const Json& c = container(sts);
  EXPECT_EQ(c["image"], "registry.example.com/mirror/mongo:7.0.12");
  EXPECT_EQ(arg(c["args"], "--wiredTigerCacheSizeGB"), "1.5") << "half of (4Gi - 1Gi)";
  EXPECT_EQ(sts["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"], "fast-ssd");
  EXPECT_EQ(sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"], "20Gi");
  EXPECT_EQ(sts["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"], "Delete");
}

TEST(MongoInstance, WiredTigerCacheFollowsMongodsRuleAndFitsTheLimit) {
  constexpr int64_t Mi = 1024 * 1024;
  struct Case {
    int64_t limit;
    std::string want;
  };
  for (const auto& c : std::vector<Case>{{512 * Mi, "0.25"}, {1024 * Mi, "0.25"}, {1536 * Mi, "0.25"}, {2048 * Mi, "0.5"},
                                         {3072 * Mi, "1"}, {4096 * Mi, "1.5"}, {2600 * Mi, "0.76"}, {16384 * Mi, "7.5"},
                                         {1, "0.25"}}) {
    EXPECT_EQ(mongoWiredTigerCacheGb(c.limit), c.want) << c.limit;
  }
  EXPECT_EQ(arg(container(statefulSet(defaultSdb()))["args"], "--wiredTigerCacheSizeGB"), "0.25") << "default limit 512Mi";
}

TEST(MongoInstance, Major) {
  struct Case {
    std::string version;
    int want;  // 0: an error
  };
  for (const auto& c : std::vector<Case>{{"7", 7}, {"7.0", 7}, {"7.0.12", 7}, {"5.0", 5}, {"8.0", 8}, {"6.0.19", 6},
                                         {"4.4", 0}, {"9.0", 0}, {"", 0}, {"latest", 0}, {"7.0.1.2", 0}, {"7.", 0},
                                         {".7", 0}, {"07.0", 0}, {"7.0-jammy", 0}, {"7.x", 0}, {"99999", 0}}) {
    auto m = mongoMajor(c.version);
    if (c.want != 0) {
      ASSERT_TRUE(m.ok()) << c.version << ": " << m.error().message;
      EXPECT_EQ(*m, c.want);
    } else {
      ASSERT_FALSE(m.ok()) << c.version;
      EXPECT_EQ(m.error().message.rfind("spec.version: ", 0), 0u) << m.error().message;
    }
  }
  EXPECT_NE(mongoMajor("4.4").error().message.find("MongoDB 4 is not supported (supported: 5 to 8"), std::string::npos);
}

TEST(MongoInstance, ErrorsNameTheField) {
  ServiceDatabase s = defaultSdb();
  s.version = "4.4";
  EXPECT_EQ(mongoStatefulSet(s, {}).error().message.rfind("spec.version: ", 0), 0u);
  s = defaultSdb();
  s.storageSize = "ten gigs";
  EXPECT_EQ(mongoStatefulSet(s, {}).error().message,
            "spec.storage.size: \"ten gigs\" is not a quantity (such as 512Mi, 1Gi, 1.5G or 500m)");
  s = defaultSdb();
  s.resources = {{"requests", {{"memory", "2Gi"}}}, {"limits", {{"memory", "1Gi"}}}};
  EXPECT_EQ(mongoStatefulSet(s, {}).error().message,
            "spec.resources.requests.memory: 2Gi is more than spec.resources.limits.memory 1Gi");
}

}  // namespace
}  // namespace sdb::specs
