#include "operator/specs/redis_instance.h"

#include <algorithm>

#include "operator/core/base64.h"

namespace sdb::specs {

namespace {

constexpr const char* kAclMount = "/etc/redis-acl";
constexpr int64_t kMi = 1024 * 1024;

// The init step: the operator's lines first, then every other user line Redis saved (ACL SAVE
// writes one `user <name> ...` line per user). grep exits 1 when it selects nothing (a fresh
// volume's first start has no file at all), which is fine; 2 is an error and stops the pod.
// `cat >` rather than cp: cp would copy the Secret file's read-only mode, and the append after it
// (and the next attempt's cp) would fail; a leftover of a failed attempt is removed first.
std::string aclInitScript() {
  const std::string data = kRedisDataDir;
  const std::string admin = kRedisSuperuser;
  return "set -eu\n"
         "umask 077\n"
         "new=" + data + "/users.acl.new\n"
         "rm -f \"$new\"\n"
         "cat " + std::string(kAclMount) + "/users.acl >\"$new\"\n"
         "if [ -f " + data + "/users.acl ]; then\n"
         "  grep -v -e '^user default ' -e '^user " + admin + " ' " + data + "/users.acl >>\"$new\" || [ $? -eq 1 ]\n"
         "fi\n"
         "mv \"$new\" " + data + "/users.acl\n";
}

// PING over TLS as the admin; the password comes from REDISCLI_AUTH. redis-cli exits 0 on error
// replies (LOADING, WRONGPASS), so the answer itself is compared. Probes speak TLS: a bare TCP
// connection to a TLS port makes Redis log a warning every time.
std::string pingCommand() {
  const std::string tls = kRedisTlsDir;
  return "redis-cli --tls --cacert " + tls + "/ca.crt -h localhost -p " + std::to_string(kRedisPort) + " --user " +
         kRedisSuperuser + " PING";
}
// Ready: PONG (not while the AOF loads, which answers LOADING).
Json readyProbe() { return {{"exec", {{"command", Json::array({"sh", "-c", "[ \"$(" + pingCommand() + ")\" = PONG ]"})}}}}; }
// Alive: any answer, including LOADING and BUSY (a long script); only a server that does not answer
// at all is restarted.
Json aliveProbe() {
  return {{"exec",
           {{"command", Json::array({"sh", "-c", "case \"$(" + pingCommand() + " 2>&1)\" in PONG|LOADING*|BUSY*) exit 0;; esac; exit 1"})}}}};
}

}  // namespace

Result<int> redisMajor(const std::string& version) {
  return versionMajor(version, {"Redis", kRedisMinMajor, kRedisMaxMajor, 3, "\"7\", \"7.2\" or \"7.2.4\""});
}

int64_t redisMaxmemoryMb(int64_t memoryLimitBytes) { return std::max<int64_t>(1, memoryLimitBytes / 2 / kMi); }

std::string redisAclSecretName(const ServiceDatabase& sdb) { return instanceNames(sdb).base + "-acl"; }

Json redisConfigMap(const ServiceDatabase& sdb, const std::string& redisConf) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", instanceMetadata(sdb, instanceNames(sdb).configMap)},
          {"data", {{"redis.conf", redisConf}}}};
}

Json redisAclSecret(const ServiceDatabase& sdb, const std::string& aclLines) {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", instanceMetadata(sdb, redisAclSecretName(sdb))},
          {"type", "Opaque"},
          {"data", {{"users.acl", base64Encode(aclLines)}}}};
}

Result<Json> redisStatefulSet(const ServiceDatabase& sdb, const RedisInstanceOptions& o, const std::string& configHash) {
  if (auto major = redisMajor(sdb.version); !major.ok()) return major.error();
  auto resources = containerResources(sdb);
  if (!resources.ok()) return resources.error();
  const InstanceNames n = instanceNames(sdb);
  const std::string image = o.imageRepository + ":" + sdb.version;
  const Json dataMount = {{"name", "data"}, {"mountPath", kRedisDataDir}};

  // The init step needs little, but a namespace's LimitRange or quota judges it like the server;
  // a pod's effective request is the larger of the two, so the same values cost nothing.
  Json init = {{"name", "acl"},
               {"image", image},
               {"imagePullPolicy", "IfNotPresent"},
               {"command", Json::array({"sh", "-c", aclInitScript()})},
               {"resources", resources->json},
               {"securityContext", restrictedContainerSecurityContext()},
               {"volumeMounts", Json::array({dataMount, {{"name", "acl"}, {"mountPath", kAclMount}, {"readOnly", true}}})}};

  Json readiness = readyProbe();
  readiness.update({{"periodSeconds", 10}, {"timeoutSeconds", 5}, {"failureThreshold", 3}});
  // Loading a large AOF after a restart may take minutes: up to 10.
  Json startup = readyProbe();
  startup.update({{"periodSeconds", 5}, {"timeoutSeconds", 5}, {"failureThreshold", 120}});
  Json liveness = aliveProbe();
  liveness.update({{"periodSeconds", 10}, {"timeoutSeconds", 5}, {"failureThreshold", 6}});
  Json container = {
      {"name", "redis"},
      {"image", image},
      {"imagePullPolicy", "IfNotPresent"},
      {"args", Json::array({std::string(kRedisConfigDir) + "/redis.conf"})},
      // For the probes' redis-cli only; redis-server reads no environment.
      {"env", Json::array({secretKeyEnv("REDISCLI_AUTH", n.superuserSecret, "password")})},
      {"ports", Json::array({{{"name", kRedisPortName}, {"containerPort", kRedisPort}, {"protocol", "TCP"}}})},
      {"resources", resources->json},
      {"securityContext", restrictedContainerSecurityContext()},
      {"startupProbe", startup},
      {"readinessProbe", readiness},
      {"livenessProbe", liveness},
      {"volumeMounts", Json::array({dataMount,
                                    {{"name", "config"}, {"mountPath", kRedisConfigDir}, {"readOnly", true}},
                                    {{"name", "tls"}, {"mountPath", kRedisTlsDir}, {"readOnly", true}}})}};
  Json volumes = Json::array({{{"name", "config"}, {"configMap", {{"name", n.configMap}}}},
                              {{"name", "acl"}, {"secret", {{"secretName", redisAclSecretName(sdb)}, {"defaultMode", 0440}}}},
                              instanceTlsVolume(n)});
  // 60 s: at SIGTERM Redis flushes the AOF and, under its default save points, writes a last RDB.
  return instanceStatefulSet(sdb, instancePodSpec(kRedisUid, 60, Json::array({init}), Json::array({container}), volumes),
                             configHash);
}

}  // namespace sdb::specs
