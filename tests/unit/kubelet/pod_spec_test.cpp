// A container resolved against its image and objects: argv, environment, identity, errors.
#include <gtest/gtest.h>

#include "e2e/kubelet/pod_spec.h"

namespace sdb::kubelet {
namespace {

Image image() {
  Image i;
  i.entrypoint = {"docker-entrypoint.sh"};
  i.cmd = {"postgres"};
  i.env = {{"PATH", "/usr/bin:/pg/bin"}, {"PGDATA", "/var/lib/postgresql/data"}};
  i.users = {{"postgres", 999, 999, "/var/lib/postgresql", "/bin/bash"}};
  return i;
}

ObjectLookup lookup() {
  ObjectLookup l;
  l.secret = [](const std::string& name) -> std::optional<Json> {
    if (name != "db") return std::nullopt;
    return Json{{"data", {{"password", "czNjcmV0"}, {"user", "YXBw"}}}};  // s3cret, app
  };
  l.configMap = [](const std::string& name) -> std::optional<Json> {
    if (name != "cfg") return std::nullopt;
    return Json{{"data", {{"mode", "fast"}, {"bad key", "x"}}}};
  };
  return l;
}

Json pod(Json container, Json podSc = Json::object()) {
  return {{"metadata", {{"name", "p"}, {"namespace", "ns"}, {"uid", "u-1"}, {"labels", {{"app", "db"}}}}},
          {"spec", {{"containers", {container}}, {"securityContext", podSc}}}};
}

std::map<std::string, std::string> envMap(const ResolvedContainer& r) {
  return {r.env.begin(), r.env.end()};
}

TEST(ResolveContainer, ArgvFollowsEntrypointCmdCommandArgsWithExpansion) {
  PodFacts f;
  f.podIP = "198.18.1.5";
  Json c = {{"name", "c"}, {"args", {"-c", "shared_buffers=$(BUF)", "$$(LITERAL)"}},
            {"env", {{{"name", "BUF"}, {"value", "64MB"}}}}};
  auto r = resolveContainer(pod(c), c, image(), lookup(), f);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->argv, (std::vector<std::string>{"docker-entrypoint.sh", "-c", "shared_buffers=64MB", "$(LITERAL)"}));
  c = {{"name", "c"}, {"command", {"psql"}}};
  r = resolveContainer(pod(c), c, image(), lookup(), f);
  EXPECT_EQ(r->argv, (std::vector<std::string>{"psql"})) << "command drops the image's CMD";
}

TEST(ResolveContainer, EnvironmentFromEverySource) {
  PodFacts f;
  f.podIP = "198.18.1.5";
  f.serviceEnv = {{"KUBERNETES_SERVICE_HOST", "198.19.1.1"}, {"PGDATA", "from-service-env"}};
  Json c = {{"name", "c"},
            {"envFrom", {{{"configMapRef", {{"name", "cfg"}}}, {"prefix", "CFG_"}}}},
            {"env", {{{"name", "PASSWORD"}, {"valueFrom", {{"secretKeyRef", {{"name", "db"}, {"key", "password"}}}}}},
                     {{"name", "MODE"}, {"valueFrom", {{"configMapKeyRef", {{"name", "cfg"}, {"key", "mode"}}}}}},
                     {{"name", "POD_IP"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "status.podIP"}}}}}},
                     {{"name", "NS"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.namespace"}}}}}},
                     {{"name", "APP"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.labels['app']"}}}}}},
                     {{"name", "MISSING"}, {"valueFrom", {{"secretKeyRef", {{"name", "nope"}, {"key", "k"}, {"optional", true}}}}}},
                     {{"name", "PGDATA"}, {"value", "/data/pg"}}}}};
  auto r = resolveContainer(pod(c), c, image(), lookup(), f);
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto env = envMap(*r);
  EXPECT_EQ(env["PASSWORD"], "s3cret");
  EXPECT_EQ(env["MODE"], "fast");
  EXPECT_EQ(env["CFG_mode"], "fast");
  EXPECT_FALSE(env.count("CFG_bad key")) << "invalid names from envFrom are skipped";
  EXPECT_EQ(env["POD_IP"], "198.18.1.5");
  EXPECT_EQ(env["NS"], "ns");
  EXPECT_EQ(env["APP"], "db");
  EXPECT_FALSE(env.count("MISSING"));
  EXPECT_EQ(env["PGDATA"], "/data/pg") << "the container's env wins over the image's and the Service variables";
  EXPECT_EQ(env["PATH"], "/usr/bin:/pg/bin");
  EXPECT_EQ(env["KUBERNETES_SERVICE_HOST"], "198.19.1.1");
}

TEST(ResolveContainer, MissingObjectsAreCreateContainerConfigErrors) {
  PodFacts f;
  Json c = {{"name", "c"}, {"env", {{{"name", "X"}, {"valueFrom", {{"secretKeyRef", {{"name", "nope"}, {"key", "k"}}}}}}}}};
  EXPECT_EQ(resolveContainer(pod(c), c, image(), lookup(), f).error().message, "secret \"nope\" not found");
  c = {{"name", "c"}, {"env", {{{"name", "X"}, {"valueFrom", {{"secretKeyRef", {{"name", "db"}, {"key", "k"}}}}}}}}};
  EXPECT_EQ(resolveContainer(pod(c), c, image(), lookup(), f).error().message, "couldn't find key k in Secret ns/db");
  c = {{"name", "c"}, {"env", {{{"name", "X"}, {"valueFrom", {{"configMapKeyRef", {{"name", "nope"}, {"key", "k"}}}}}}}}};
  EXPECT_EQ(resolveContainer(pod(c), c, image(), lookup(), f).error().message, "configmap \"nope\" not found");
}

TEST(ResolveContainer, IdentityAndRunAsNonRoot) {
  PodFacts f;
  Json c = {{"name", "c"}, {"securityContext", {{"runAsNonRoot", true}}}};
  auto refused = resolveContainer(pod(c), c, image(), lookup(), f);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message, "container has runAsNonRoot and image will run as root (pod: \"p_ns(u-1)\", container: c)");
  c = {{"name", "c"}, {"securityContext", {{"readOnlyRootFilesystem", true}, {"allowPrivilegeEscalation", false}}}};
  auto r = resolveContainer(pod(c, {{"runAsUser", 999}, {"runAsNonRoot", true}, {"fsGroup", 2000}, {"supplementalGroups", {3000}}}),
                            c, image(), lookup(), f);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->uid, 999u);
  EXPECT_EQ(r->gid, 999u) << "the primary group of the image's user 999";
  EXPECT_EQ(r->groups, (std::vector<uint32_t>{999, 2000, 3000}));
  EXPECT_TRUE(r->readOnlyRootFilesystem);
  EXPECT_TRUE(r->noNewPrivileges);
}

TEST(ContainerPasswd, ImageUsersReplaceTheHostsAndUnknownUidsGetAnEntry) {
  const std::string host = "root:x:0:0:root:/root:/bin/bash\npostgres:x:101:104::/var/lib/postgresql:/bin/bash\n";
  const std::string passwd = containerPasswd(host, image(), 12345, 12345);
  EXPECT_NE(passwd.find("root:x:0:0:root:/root:/bin/bash\n"), std::string::npos);
  EXPECT_EQ(passwd.find("postgres:x:101"), std::string::npos);
  EXPECT_NE(passwd.find("postgres:x:999:999::/var/lib/postgresql:/bin/bash\n"), std::string::npos);
  EXPECT_NE(passwd.find("uid12345:x:12345:12345::/:/usr/sbin/nologin\n"), std::string::npos);
  const std::string group = containerGroup("root:x:0:\npostgres:x:104:\n", image(), {999, 2000});
  EXPECT_NE(group.find("postgres:x:999:\n"), std::string::npos);
  EXPECT_NE(group.find("gid2000:x:2000:\n"), std::string::npos);
}

}  // namespace
}  // namespace sdb::kubelet
