#include "controllers/servicedatabase/redis_dedicated.h"

#include "operator/core/hash.h"
#include "operator/engines/redis/dedicated_config.h"
#include "operator/engines/redis/names.h"
#include "operator/pki/pki.h"
#include "operator/specs/redis_binding.h"

namespace sdb::controllers::servicedatabase {

namespace redis = engines::redis;

namespace {

engines::ServiceIdentity identityOf(const specs::ServiceDatabase& sdb) { return {sdb.ns, sdb.name, sdb.uid, sdb.databaseName}; }

// redis.conf for the pod's mounts; maxmemory follows the container's memory limit (0: none given).
redis::DedicatedConfig dedicatedConfig(const RedisDedicatedOptions& o, int64_t memoryLimitBytes) {
  const std::string tls = specs::kRedisTlsDir;
  redis::DedicatedConfig c;
  c.tlsPort = specs::kRedisPort;
  c.dataDir = specs::kRedisDataDir;
  c.tlsCertFile = tls + "/tls.crt";
  c.tlsKeyFile = tls + "/tls.key";
  c.tlsCaFile = tls + "/ca.crt";
  c.appendOnly = o.appendOnly;
  c.appendFsync = o.appendFsync;
  c.maxmemoryPolicy = o.maxmemoryPolicy;
  if (memoryLimitBytes > 0) c.maxmemory = std::to_string(specs::redisMaxmemoryMb(memoryLimitBytes)) + "mb";
  return c;
}

// dedicated_config's field names, as the operator's flags spell them.
Error asFlagError(const Error& e) {
  std::string m = e.message;
  for (const auto& [field, flag] : {std::pair<std::string, std::string>{"appendFsync:", "--redis-appendfsync:"},
                                    {"maxmemoryPolicy:", "--redis-maxmemory-policy:"}}) {
    if (m.rfind(field, 0) == 0) m = flag + m.substr(field.size());
  }
  return Error(ErrorCode::kInvalidArgument, m);
}

}  // namespace

Status validateRedisDedicatedOptions(const RedisDedicatedOptions& options) {
  auto conf = redis::redisConf(dedicatedConfig(options, 0));
  if (!conf.ok()) return asFlagError(conf.error());
  return okStatus();
}

Result<std::vector<Json>> redisWorkload(const specs::ServiceDatabase& sdb, const RedisDedicatedOptions& options,
                                        const std::string& superuserPassword) {
  auto resources = specs::containerResources(sdb);
  if (!resources.ok()) return resources.error();
  auto conf = redis::redisConf(dedicatedConfig(options, resources->memoryLimitBytes));
  if (!conf.ok()) return asFlagError(conf.error());
  if (superuserPassword.empty()) return invalidArgument("the superuser password is empty");
  auto acl = redis::initialAclFile(specs::kRedisSuperuser, redis::passwordHash(superuserPassword));
  if (!acl.ok()) return acl.error();
  Json configMap = specs::redisConfigMap(sdb, *conf);
  Json aclSecret = specs::redisAclSecret(sdb, *acl);
  const std::string hash = sha256Hex(specs::configMapHash(configMap) + "\n" + specs::configMapHash(aclSecret));
  auto sts = specs::redisStatefulSet(sdb, options.instance, hash);
  if (!sts.ok()) return sts.error();
  return std::vector<Json>{std::move(configMap), std::move(aclSecret), std::move(*sts)};
}

redis::ConnectOptions redisAdminConnection(const InstanceConnection& conn, const RedisDedicatedOptions& options) {
  redis::ConnectOptions o;
  o.host = conn.host;
  o.port = conn.port;
  o.transport = redis::Transport::kTls;
  o.tls.caFile = conn.caFile;  // the operator's CA only
  o.tls.serverName = "";       // verify the clusterIP itself against the certificate's IP SANs
  o.user = conn.username;
  o.password = conn.password;
  o.connectTimeout = options.connectTimeout;
  o.ioTimeout = options.ioTimeout;
  return o;
}

Result<std::string> presentedRedisSerial(const InstanceConnection& conn, const RedisDedicatedOptions& options) {
  auto c = redis::RespClient::connect(redisAdminConnection(conn, options));
  if (!c.ok()) return c.error();
  const std::string pem = c->peerCertificatePem();
  if (pem.empty()) return internalError("the server presented no certificate");
  return pki::serialHex(pem);
}

InstanceEngine redisInstanceEngine(RedisDedicatedOptions options) {
  InstanceEngine e;
  e.describe = "redis (dedicated)";
  e.portName = specs::kRedisPortName;
  e.port = specs::kRedisPort;
  e.superuser = specs::kRedisSuperuser;
  e.slots = redis::RedisEngine(redis::EngineOptions{}).credentialSlots();  // no I/O: options only
  e.bindingType = specs::kBindingTypeRedis;
  e.major = [](const std::string& version) { return specs::redisMajor(version); };
  // Names are validated, never sanitised (names.h): a bad one is refused before anything exists.
  e.check = [](const specs::ServiceDatabase& sdb) -> std::optional<Problem> {
    auto names = redis::namesFor(identityOf(sdb));
    if (!names.ok()) return Problem{"InvalidSpec", names.error().message, true, false};
    return std::nullopt;
  };
  e.workload = [options](const specs::ServiceDatabase& sdb, const std::string& password) {
    return redisWorkload(sdb, options, password);
  };
  e.engine = [options](const InstanceConnection& conn) -> std::unique_ptr<engines::Engine> {
    redis::EngineOptions eo;
    eo.admin = redisAdminConnection(conn, options);
    eo.mode = redis::Mode::kDedicated;
    return std::make_unique<redis::RedisEngine>(eo);
  };
  e.database = [](const specs::ServiceDatabase& sdb) {
    auto names = redis::namesFor(identityOf(sdb));
    return names.ok() ? names->prefix : std::string();
  };
  e.bindingData = [](const specs::ServiceDatabase& sdb, const Endpoint& endpoint, const std::string& ca,
                     const std::string&, const std::string& password) {
    auto names = redis::namesFor(identityOf(sdb));  // check() refused invalid names before
    specs::RedisBinding b;
    b.host = endpoint.host;
    b.port = endpoint.port;
    b.prefix = endpoint.database;
    b.username = names.ok() ? names->user : "";  // the only slot, "app"
    b.password = password;
    b.tls = true;
    b.caCert = ca;
    return specs::redisBindingData(b);
  };
  e.reloadTls = [options](const InstanceConnection& conn, const std::string& serial) -> Result<std::string> {
    auto served = presentedRedisSerial(conn, options);
    if (!served.ok() || *served == serial) return served;
    auto c = redis::RespClient::connect(redisAdminConnection(conn, options));
    if (!c.ok()) return c.error();
    // The server's own paths, set again: the files behind them (the mounted Secret) have changed.
    auto paths = c->call({"CONFIG", "GET", "tls-*-file"}, "reading the TLS file settings");
    if (!paths.ok()) return paths.error();
    std::vector<std::string> set = {"CONFIG", "SET"};
    for (size_t i = 0; i + 1 < paths->elements.size(); i += 2) {
      const std::string& name = paths->elements[i].str;
      const std::string& value = paths->elements[i + 1].str;
      if (!value.empty() && (name == "tls-cert-file" || name == "tls-key-file" || name == "tls-ca-cert-file")) {
        set.push_back(name);
        set.push_back(value);
      }
    }
    if (set.size() == 2) return internalError("the server reports no tls-cert-file");
    if (auto r = c->call(set, "reloading the TLS certificate"); !r.ok()) return r.error();
    return presentedRedisSerial(conn, options);  // CONFIG SET applies to new connections at once
  };
  return e;
}

}  // namespace sdb::controllers::servicedatabase
