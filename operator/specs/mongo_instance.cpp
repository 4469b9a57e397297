#include "operator/specs/mongo_instance.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <vector>

namespace sdb::specs {

namespace {

constexpr const char* kTlsDir = "/tls";
constexpr const char* kDataDir = "/data/db";
constexpr int64_t kMi = 1024 * 1024;

bool number(const std::string& s) {
  return !s.empty() && s.size() <= 4 && (s.size() == 1 || s[0] != '0') &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

Json tcpProbe(int periodSeconds, int failureThreshold) {
  return {{"tcpSocket", {{"port", kMongoPortName}}},
          {"periodSeconds", periodSeconds},
          {"timeoutSeconds", 5},
          {"failureThreshold", failureThreshold}};
}

}  // namespace

Result<int> mongoMajor(const std::string& version) {
  const std::string field = "spec.version";
  if (version.empty()) return invalidArgument(field + ": is required for a dedicated instance (such as \"7.0\" or \"7.0.12\")");
  std::vector<std::string> parts{""};
  for (char c : version) {
    if (c == '.') parts.emplace_back();
    else parts.back().push_back(c);
  }
  if (parts.size() > 3 || !std::all_of(parts.begin(), parts.end(), number)) {
    return invalidArgument(field + ": \"" + version + "\" is not MAJOR, MAJOR.MINOR or MAJOR.MINOR.PATCH (such as \"7.0\" or \"7.0.12\")");
  }
  const int m = std::stoi(parts[0]);
  if (m < kMongoMinMajor || m > kMongoMaxMajor) {
    return invalidArgument(field + ": MongoDB " + parts[0] + " is not supported (supported: " + std::to_string(kMongoMinMajor) +
                           " to " + std::to_string(kMongoMaxMajor) + "; certificates are reloaded with rotateCertificates, "
                           "which MongoDB has from 5.0)");
  }
  return m;
}

std::string mongoWiredTigerCacheGb(int64_t memoryLimitBytes) {
  const int64_t limitMi = memoryLimitBytes / kMi;
  const int64_t cacheMi = std::max<int64_t>(256, (limitMi - 1024) / 2);
  const int64_t hundredths = cacheMi * 100 / 1024;  // rounded down: never more than the rule allows
  std::string out = std::to_string(hundredths / 100);
  if (int64_t frac = hundredths % 100; frac != 0) {
    char buf[4];
    std::snprintf(buf, sizeof buf, "%02d", static_cast<int>(frac));
    std::string f = buf;
    if (f.back() == '0') f.pop_back();
    out += "." + f;
  }
  return out;
}

Result<Json> mongoStatefulSet(const ServiceDatabase& sdb, const MongoInstanceOptions& o) {
  if (auto major = mongoMajor(sdb.version); !major.ok()) return major.error();
  auto resources = containerResources(sdb);
  if (!resources.ok()) return resources.error();
  const InstanceNames n = instanceNames(sdb);
  const std::string tls = kTlsDir;
  // Arguments start with '-': the image's docker-entrypoint runs `mongod` with them (and, on first
  // start, a temporary server that creates the superuser; see the header).
  Json args = Json::array({"--bind_ip_all", "--port", std::to_string(kMongoPort), "--dbpath", kDataDir, "--auth",
                           "--tlsMode", "requireTLS", "--tlsCertificateKeyFile", tls + "/tls.pem", "--tlsCAFile",
                           tls + "/ca.crt", "--tlsAllowConnectionsWithoutCertificates", "--tlsDisabledProtocols",
                           "TLS1_0,TLS1_1", "--setParameter", "authenticationMechanisms=SCRAM-SHA-256",
                           "--wiredTigerCacheSizeGB", mongoWiredTigerCacheGb(resources->memoryLimitBytes)});
  Json container = {
      {"name", "mongod"},
      {"image", o.imageRepository + ":" + sdb.version},
      {"imagePullPolicy", "IfNotPresent"},
      {"args", args},
      {"env", Json::array({secretKeyEnv("MONGO_INITDB_ROOT_USERNAME", n.superuserSecret, "username"),
                           secretKeyEnv("MONGO_INITDB_ROOT_PASSWORD", n.superuserSecret, "password")})},
      {"ports", Json::array({{{"name", kMongoPortName}, {"containerPort", kMongoPort}, {"protocol", "TCP"}}})},
      {"resources", resources->json},
      {"securityContext", restrictedContainerSecurityContext()},
      // First start, or recovery after an unclean stop, may take minutes: up to 10. The startup
      // probe holds the others back until then, so liveness needs no initial delay.
      {"startupProbe", tcpProbe(10, 60)},
      {"readinessProbe", tcpProbe(10, 3)},
      // Only a server that stops accepting connections for a minute is restarted.
      {"livenessProbe", tcpProbe(10, 6)},
      {"volumeMounts", Json::array({{{"name", "data"}, {"mountPath", kDataDir}},
                                    {{"name", "tls"}, {"mountPath", tls}, {"readOnly", true}},
                                    {{"name", "tmp"}, {"mountPath", "/tmp"}},
                                    {{"name", "configdb"}, {"mountPath", "/data/configdb"}}})}};
  // tls.pem holds the private key: readable by the group (fsGroup 999, mongod's group) only;
  // nothing writes there.
  Json volumes = Json::array({{{"name", "tls"}, {"secret", {{"secretName", n.tlsSecret}, {"defaultMode", 0440}}}},
                              {{"name", "tmp"}, {"emptyDir", {{"sizeLimit", "64Mi"}}}},
                              {{"name", "configdb"}, {"emptyDir", {{"sizeLimit", "16Mi"}}}}});
  return instanceStatefulSet(sdb, instancePodSpec(kMongoUid, 60, Json::array(), Json::array({container}), volumes), "");
}

}  // namespace sdb::specs
