// The dedicated Redis instance's builders: the StatefulSet golden (default, and with resources,
// storage class and another image repository), its properties asserted one by one (so a careless
// golden update cannot drop them), the init step's script run for real by /bin/sh on a fresh and
// on a used data volume, versions, maxmemory, and errors naming the field. The ConfigMap and the ACL
// Secret with the real rendered files: tests/unit/servicedatabase/redis_dedicated_test.cpp.
#include "operator/specs/redis_instance.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "operator/specs/credentials_secret.h"
#include "tests/unit/specs/golden_file.h"

using namespace sdb;
using namespace sdb::specs;
using sdb::specs::golden::matchesGolden;
using sdb::specs::golden::secretReview;

namespace {

ServiceDatabase sdbFrom(const std::string& spec) {
  auto s = parseServiceDatabase(Json::parse(R"({"apiVersion": "servicedb.io/v1alpha1", "kind": "ServiceDatabase",
    "metadata": {"name": "sessions", "namespace": "shop", "uid": "5b2f1c3d-uid"}, "spec": )" + spec + "}"));
  EXPECT_TRUE(s.ok()) << s.error().message;
  return *s;
}
ServiceDatabase defaultSdb() { return sdbFrom(R"({"service": "cart", "engine": "redis", "version": "7.2"})"); }
ServiceDatabase customSdb() {
  return sdbFrom(R"({"service": "cart", "engine": "redis", "version": "7.0.15", "deletionPolicy": "Delete",
    "storage": {"size": "5Gi", "storageClassName": "fast-ssd"},
    "resources": {"requests": {"cpu": "250m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}}})");
}

Json statefulSet(const ServiceDatabase& s, const RedisInstanceOptions& o = {}, const std::string& hash = "c0ffee") {
  auto sts = redisStatefulSet(s, o, hash);
  EXPECT_TRUE(sts.ok()) << sts.error().message;
  return sts.ok() ? *sts : Json();
}
const Json& podSpec(const Json& sts) { return sts["spec"]["template"]["spec"]; }
const Json& container(const Json& sts) { return podSpec(sts)["containers"][0]; }
const Json& initContainer(const Json& sts) { return podSpec(sts)["initContainers"][0]; }

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs the init container's script with /data and /etc/redis-acl moved under `root`, as a user
// that is not root when the test runs as root (root ignores file modes, the pod's uid 999 does
// not); exit status.
constexpr uid_t kNobody = 65534;
int runInitScript(const Json& sts, const std::string& root) {
  std::string script = initContainer(sts)["command"][2];
  for (const std::string from : {"/etc/redis-acl", "/data"}) {
    for (size_t at = script.find(from); at != std::string::npos; at = script.find(from, at + root.size() + from.size())) {
      script.replace(at, from.size(), root + from);
    }
  }
  pid_t pid = fork();
  if (pid == 0) {
    if (::geteuid() == 0 && (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0)) _exit(126);
    execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(RedisInstance, StatefulSetGolden) {
  EXPECT_TRUE(matchesGolden(statefulSet(defaultSdb()), "redis_statefulset.json"));
  RedisInstanceOptions mirror;
  mirror.imageRepository = "registry.example.com/mirror/redis";
  EXPECT_TRUE(matchesGolden(statefulSet(customSdb(), mirror), "redis_statefulset_custom.json"));
}

TEST(RedisInstance, ConfigMapAndAclSecret) {
  ServiceDatabase s = defaultSdb();
  Json cm = redisConfigMap(s, "port 0\n");
  EXPECT_EQ(cm["metadata"]["name"], "sessions-redis-config");
  EXPECT_EQ(cm["data"], Json({{"redis.conf", "port 0\n"}}));
  EXPECT_EQ(cm["metadata"]["ownerReferences"], Json::array({ownerReference(s)}));
  Json acl = redisAclSecret(s, "user default off\n");
  EXPECT_TRUE(matchesGolden(secretReview(acl), "redis_acl_secret.json"));
  EXPECT_EQ(acl["metadata"]["name"], redisAclSecretName(s));
  EXPECT_EQ(redisAclSecretName(s), "sessions-redis-acl");
  EXPECT_EQ(acl["type"], "Opaque");
  EXPECT_EQ(secretData(acl), (std::map<std::string, std::string>{{"users.acl", "user default off\n"}}));
}

TEST(RedisInstance, StatefulSetShape) {
  ServiceDatabase s = defaultSdb();
  Json sts = statefulSet(s);
  InstanceNames n = instanceNames(s);
  EXPECT_EQ(sts["metadata"]["name"], "sessions-redis");
  EXPECT_EQ(sts["spec"]["serviceName"], n.headlessService);
  EXPECT_EQ(sts["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"], "Retain");
  EXPECT_EQ(sts["spec"]["selector"]["matchLabels"], Json(instanceSelector(s)));
  EXPECT_EQ(sts["spec"]["template"]["metadata"]["labels"], Json(standardLabels(s, Component::kInstance)));
  EXPECT_EQ(sts["spec"]["template"]["metadata"]["annotations"][kAnnotationConfigHash], "c0ffee");

  const Json& pod = podSpec(sts);
  EXPECT_EQ(pod["securityContext"], restrictedPodSecurityContext(999));
  EXPECT_EQ(pod["automountServiceAccountToken"], false);
  EXPECT_EQ(pod["enableServiceLinks"], false);
  const Json& c = container(sts);
  EXPECT_EQ(c["image"], "redis:7.2");
  EXPECT_EQ(c["args"], Json::array({"/etc/redis/redis.conf"})) << "the image's entrypoint runs redis-server with it";
  EXPECT_FALSE(c.contains("command")) << "keep the entrypoint (umask 0077)";
  EXPECT_EQ(c["securityContext"], restrictedContainerSecurityContext());
  EXPECT_EQ(c["resources"], containerResources(s)->json);
  EXPECT_EQ(c["ports"], Json::parse(R"([{"name": "rediss", "containerPort": 6379, "protocol": "TCP"}])"))
      << "one port, the TLS one";
  ASSERT_EQ(c["env"].size(), 1u);
  EXPECT_EQ(c["env"][0], Json::parse(R"({"name": "REDISCLI_AUTH", "valueFrom": {"secretKeyRef":
                                            {"name": "sessions-redis-superuser", "key": "password"}}})"));
  const std::string probe = c["readinessProbe"]["exec"]["command"][2];
  EXPECT_EQ(c["readinessProbe"]["exec"]["command"][0], "sh");
  EXPECT_NE(probe.find("redis-cli --tls --cacert /tls/ca.crt -h localhost -p 6379 --user servicedb-admin PING"),
            std::string::npos) << probe;
  EXPECT_NE(probe.find("= PONG ]"), std::string::npos) << "redis-cli exits 0 on LOADING; the answer is compared";
  EXPECT_EQ(probe.find("-a "), std::string::npos) << "no password on a command line";
  EXPECT_EQ(c["startupProbe"]["exec"], c["readinessProbe"]["exec"]);
  EXPECT_GE(c["startupProbe"]["failureThreshold"].get<int>() * c["startupProbe"]["periodSeconds"].get<int>(), 600);
  const std::string alive = c["livenessProbe"]["exec"]["command"][2];
  EXPECT_NE(alive.find("redis-cli --tls --cacert /tls/ca.crt -h localhost -p 6379 --user servicedb-admin PING"),
            std::string::npos) << alive;
  EXPECT_NE(alive.find("PONG|LOADING*|BUSY*) exit 0"), std::string::npos) << "a busy or loading server is alive";
  EXPECT_FALSE(c["livenessProbe"].contains("tcpSocket")) << "a bare TCP connect makes Redis log a TLS warning";

  std::map<std::string, std::string> mounts;
  for (const auto& m : c["volumeMounts"]) mounts[m["mountPath"]] = m["name"];
  EXPECT_EQ(mounts, (std::map<std::string, std::string>{{"/data", "data"}, {"/etc/redis", "config"}, {"/tls", "tls"}}))
      << "the ACL Secret is not mounted in the server's container";
  std::map<std::string, Json> volumes;
  for (const auto& v : pod["volumes"]) volumes[v["name"]] = v;
  EXPECT_EQ(volumes["config"]["configMap"]["name"], n.configMap);
  EXPECT_EQ(volumes["tls"]["secret"], Json({{"secretName", n.tlsSecret}, {"defaultMode", 0640}}));
  EXPECT_EQ(volumes["acl"]["secret"], Json({{"secretName", "sessions-redis-acl"}, {"defaultMode", 0440}}));
  EXPECT_EQ(volumes.count("data"), 0u) << "from the claim template";

  ASSERT_EQ(pod["initContainers"].size(), 1u);
  const Json& init = initContainer(sts);
  EXPECT_EQ(init["image"], c["image"]);
  EXPECT_EQ(init["securityContext"], restrictedContainerSecurityContext());
  EXPECT_EQ(init["resources"], c["resources"]);
  EXPECT_FALSE(init.contains("env")) << "the init step needs no password, only its hash";
  std::map<std::string, std::string> initMounts;
  for (const auto& m : init["volumeMounts"]) initMounts[m["mountPath"]] = m["name"];
  EXPECT_EQ(initMounts, (std::map<std::string, std::string>{{"/data", "data"}, {"/etc/redis-acl", "acl"}}));
}

TEST(RedisInstance, StatefulSetFollowsTheSpec) {
  RedisInstanceOptions mirror;
  mirror.imageRepository = "registry.example.com/mirror/redis";
  Json sts = statefulSet(customSdb(), mirror);
  EXPECT_EQ(container(sts)["image"], "registry.example.com/mirror/redis:7.0.15");
  EXPECT_EQ(initContainer(sts)["image"], "registry.example.com/mirror/redis:7.0.15");
  EXPECT_EQ(container(sts)["resources"],
            Json::parse(R"({"requests": {"cpu": "250m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}})"));
  const Json& claim = sts["spec"]["volumeClaimTemplates"][0]["spec"];
  EXPECT_EQ(claim["resources"]["requests"]["storage"], "5Gi");
  EXPECT_EQ(claim["storageClassName"], "fast-ssd");
  EXPECT_EQ(sts["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"], "Delete");
}

TEST(RedisInstance, InitStepWritesTheOperatorsLinesAndKeepsSavedServiceUsers) {
  const std::string root = ::testing::TempDir() + "redis-acl-" + std::to_string(::getpid());
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root + "/data");
  std::filesystem::create_directories(root + "/etc/redis-acl");
  const std::string ours = "user default off resetchannels -@all\nuser servicedb-admin on #" + std::string(64, 'a') +
                           " ~* &* +@all\n";
  const std::string source = root + "/etc/redis-acl/users.acl";
  std::ofstream(source) << ours;
  // As the kubelet lays them out: the Secret's file read-only (0440, group fsGroup), the volume the
  // pod's own. The script must write the new file fresh, not copy the read-only mode.
  std::filesystem::permissions(source, std::filesystem::perms::owner_read | std::filesystem::perms::group_read);
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(source.c_str(), 0, kNobody), 0);
    ASSERT_EQ(::chown((root + "/data").c_str(), kNobody, kNobody), 0);
    for (const std::string& dir : {root, root + "/etc", root + "/etc/redis-acl"}) ::chmod(dir.c_str(), 0755);
  }
  Json sts = statefulSet(defaultSdb());

  // A fresh volume: exactly the operator's lines, readable by the owner only.
  ASSERT_EQ(runInitScript(sts, root), 0);
  EXPECT_EQ(readFile(root + "/data/users.acl"), ours);
  EXPECT_EQ(std::filesystem::status(root + "/data/users.acl").permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  ASSERT_EQ(runInitScript(sts, root), 0) << "a second start over the file the first one wrote";
  EXPECT_EQ(readFile(root + "/data/users.acl"), ours);

  // After ACL SAVE (Redis' own order and form) and a new admin password: the service users stay,
  // default and the admin are the operator's again, each exactly once.
  std::ofstream(root + "/data/users.acl")
      << "user servicedb-admin on #" << std::string(64, 'b') << " ~* &* +@all\n"
      << "user default on nopass ~* &* +@all\n"
      << "user shop.orders on sanitize-payload #" << std::string(64, 'c') << " ~shop:orders:* resetchannels -@all +get\n"
      << "user servicedb-adminx on nopass ~* +@all\n";
  ASSERT_EQ(runInitScript(sts, root), 0);
  EXPECT_EQ(readFile(root + "/data/users.acl"),
            ours + "user shop.orders on sanitize-payload #" + std::string(64, 'c') +
                " ~shop:orders:* resetchannels -@all +get\nuser servicedb-adminx on nopass ~* +@all\n");
  EXPECT_FALSE(std::filesystem::exists(root + "/data/users.acl.new"));

  // Without the operator's lines the step fails and leaves the saved file alone; once they are
  // back, the next attempt succeeds over the failed one's leftover.
  const std::string saved = readFile(root + "/data/users.acl");
  std::filesystem::rename(source, source + ".away");
  EXPECT_NE(runInitScript(sts, root), 0);
  EXPECT_EQ(readFile(root + "/data/users.acl"), saved);
  std::filesystem::rename(source + ".away", source);
  ASSERT_EQ(runInitScript(sts, root), 0);
  EXPECT_EQ(readFile(root + "/data/users.acl"), saved);
  std::filesystem::remove_all(root);
}

TEST(RedisInstance, Major) {
  struct Case {
    std::string version;
    int want;  // 0: an error
  };
  for (const auto& c : std::vector<Case>{{"7", 7}, {"7.2", 7}, {"7.2.4", 7}, {"7.0.15", 7}, {"6.2", 0}, {"8", 0},
                                         {"", 0}, {"latest", 0}, {"7.2.4.1", 0}, {"7.", 0}, {"07", 0},
                                         {"7-alpine", 0}, {"7.2-bookworm", 0}}) {
    auto m = redisMajor(c.version);
    if (c.want != 0) {
      ASSERT_TRUE(m.ok()) << c.version << ": " << m.error().message;
      EXPECT_EQ(*m, c.want);
    } else {
      ASSERT_FALSE(m.ok()) << c.version;
      EXPECT_EQ(m.error().message.rfind("spec.version: ", 0), 0u) << m.error().message;
    }
  }
  EXPECT_EQ(redisMajor("6.2").error().message, "spec.version: Redis 6 is not supported (supported: 7)");
  EXPECT_EQ(redisMajor("7-alpine").error().message,
            "spec.version: \"7-alpine\" is not MAJOR, MAJOR.MINOR or MAJOR.MINOR.PATCH (such as \"7\", \"7.2\" or \"7.2.4\")");
  EXPECT_EQ(redisMajor("").error().message,
            "spec.version: is required for a dedicated instance (such as \"7\", \"7.2\" or \"7.2.4\")");
}

TEST(RedisInstance, MaxmemoryIsHalfTheLimit) {
  constexpr int64_t Mi = 1024 * 1024;
  EXPECT_EQ(redisMaxmemoryMb(512 * Mi), 256);
  EXPECT_EQ(redisMaxmemoryMb(2048 * Mi), 1024);
  EXPECT_EQ(redisMaxmemoryMb(3 * Mi), 1);
  EXPECT_EQ(redisMaxmemoryMb(1), 1);
}

TEST(RedisInstance, ErrorsNameTheField) {
  ServiceDatabase s = defaultSdb();
  s.version = "6";
  EXPECT_EQ(redisStatefulSet(s, {}, "h").error().message.rfind("spec.version: ", 0), 0u);
  s = defaultSdb();
  s.storageSize = "lots";
  EXPECT_EQ(redisStatefulSet(s, {}, "h").error().message,
            "spec.storage.size: \"lots\" is not a quantity (such as 512Mi, 1Gi, 1.5G or 500m)");
  s = defaultSdb();
  s.storageSize = "0";
  EXPECT_EQ(redisStatefulSet(s, {}, "h").error().message, "spec.storage.size: must be more than 0, got 0");
  s = defaultSdb();
  s.resources = {{"limits", {{"memory", "-1Gi"}}}};
  EXPECT_EQ(redisStatefulSet(s, {}, "h").error().message.rfind("spec.resources.limits.memory: ", 0), 0u);
}

}  // namespace
