// The dedicated-mode StatefulSet: a golden file pins it whole, and the properties that matter are
// asserted one by one (so a golden-file update cannot silently drop them).
// Regenerate the golden file with SERVICEDB_UPDATE_GOLDEN=1 after a deliberate change.
#include "operator/engines/mongo/dedicated.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace sdb::engines::mongo {
namespace {

DedicatedInput input() {
  DedicatedInput in;
  in.namespaceName = "shop";
  in.name = "reviews";
  in.uid = "0b6e2d1c-5f43-4a8e-9a51-1f9d3c1e7a10";
  in.service = "reviews";
  in.version = "7.0";
  in.tlsSecretName = "reviews-mongodb-tls";
  in.adminSecretName = "reviews-mongodb-admin";
  return in;
}

bool hasArg(const Json& args, const std::string& flag, const std::string& value = "") {
  for (size_t i = 0; i < args.size(); ++i)
    if (args[i] == flag && (value.empty() || (i + 1 < args.size() && args[i + 1] == value))) return true;
  return false;
}

TEST(MongoDedicated, MatchesTheGoldenFile) {
  const std::string path =
      std::string(std::getenv("SERVICEDB_SOURCE_DIR")) + "/tests/unit/engines/mongo/golden/dedicated_statefulset.json";
  const std::string got = dedicatedStatefulSet(input()).dump(2) + "\n";
  if (std::getenv("SERVICEDB_UPDATE_GOLDEN")) std::ofstream(path) << got;
  std::ifstream in(path);
  ASSERT_TRUE(in) << "missing golden file " << path << " (run with SERVICEDB_UPDATE_GOLDEN=1)";
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(got, want.str());
}

TEST(MongoDedicated, TlsAuthAndScramOnly) {
  Json sts = dedicatedStatefulSet(input());
  const Json& c = sts["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["image"], "mongo:7.0");
  EXPECT_TRUE(hasArg(c["args"], "--tlsMode", "requireTLS"));
  EXPECT_TRUE(hasArg(c["args"], "--tlsCertificateKeyFile", "/etc/servicedb/tls/tls.pem"));
  EXPECT_TRUE(hasArg(c["args"], "--tlsCAFile", "/etc/servicedb/tls/ca.crt"));
  EXPECT_TRUE(hasArg(c["args"], "--auth"));
  EXPECT_TRUE(hasArg(c["args"], "--setParameter", "authenticationMechanisms=SCRAM-SHA-256"));
  EXPECT_FALSE(hasArg(c["args"], "--tlsAllowInvalidCertificates"));
  EXPECT_FALSE(hasArg(c["args"], "--tlsAllowInvalidHostnames"));
  EXPECT_EQ(c["env"][1]["valueFrom"]["secretKeyRef"]["name"], "reviews-mongodb-admin") << "no password in the spec";
}

TEST(MongoDedicated, PodSecurityRestricted) {
  Json sts = dedicatedStatefulSet(input());
  const Json& pod = sts["spec"]["template"]["spec"];
  EXPECT_EQ(pod["securityContext"]["runAsNonRoot"], true);
  EXPECT_EQ(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
  EXPECT_NE(pod["securityContext"]["runAsUser"], 0);
  EXPECT_EQ(pod["automountServiceAccountToken"], false);
  for (const auto& c : pod["containers"]) {
    EXPECT_EQ(c["securityContext"]["allowPrivilegeEscalation"], false);
    EXPECT_EQ(c["securityContext"]["capabilities"]["drop"], Json::array({"ALL"}));
    EXPECT_EQ(c["securityContext"]["readOnlyRootFilesystem"], true);
  }
  for (const auto& v : pod["volumes"]) EXPECT_FALSE(v.contains("hostPath"));
}

TEST(MongoDedicated, LabelContractAndSelector) {
  Json sts = dedicatedStatefulSet(input());
  const Json& l = sts["metadata"]["labels"];
  EXPECT_EQ(l["app.kubernetes.io/name"], "mongodb");
  EXPECT_EQ(l["app.kubernetes.io/instance"], "reviews");
  EXPECT_EQ(l["app.kubernetes.io/component"], "database");
  EXPECT_EQ(l["app.kubernetes.io/part-of"], "reviews");
  EXPECT_EQ(l["app.kubernetes.io/managed-by"], "servicedb-operator");
  EXPECT_EQ(l["servicedb.io/database"], "reviews");
  EXPECT_EQ(l["servicedb.io/component"], "instance");
  EXPECT_EQ(sts["spec"]["template"]["metadata"]["labels"], l);
  for (const auto& [k, v] : sts["spec"]["selector"]["matchLabels"].items()) EXPECT_EQ(l[k], v) << k;
  EXPECT_EQ(sts["metadata"]["ownerReferences"][0]["uid"], input().uid);
  EXPECT_EQ(sts["metadata"]["name"], "reviews-mongodb");
}

}  // namespace
}  // namespace sdb::engines::mongo
