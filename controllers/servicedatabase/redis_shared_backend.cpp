#include "controllers/servicedatabase/redis_shared_backend.h"

#include "controllers/servicedatabase/admin_secret.h"
#include "operator/core/hash.h"
#include "operator/specs/redis_binding.h"

namespace sdb::controllers::servicedatabase {

namespace redis = engines::redis;

namespace {

engines::ServiceIdentity identityOf(const specs::ServiceDatabase& sdb) {
  return {sdb.ns, sdb.name, sdb.uid, sdb.databaseName};
}

}  // namespace

RedisSharedBackend::RedisSharedBackend(kube::KubeClient& client, RedisSharedOptions options)
    : client_(client), options_(std::move(options)), caFiles_(options_.caDir) {
  if (!options_.engineFactory) {
    options_.engineFactory = [](const redis::EngineOptions& o) -> std::unique_ptr<engines::Engine> {
      return std::make_unique<redis::RedisEngine>(o);
    };
  }
}

std::vector<std::string> RedisSharedBackend::slots() const {
  return redis::RedisEngine(redis::EngineOptions{}).credentialSlots();  // no I/O: options only
}

std::optional<Problem> RedisSharedBackend::check(const specs::ServiceDatabase& sdb) const {
  // Names are validated, never sanitised (names.h): a bad one is refused before anything exists.
  auto names = redis::namesFor(identityOf(sdb));
  if (!names.ok()) return Problem{"InvalidSpec", names.error().message, true, false};
  return std::nullopt;
}

std::string RedisSharedBackend::endpointDatabaseFor(const specs::ServiceDatabase& sdb) const {
  auto names = redis::namesFor(identityOf(sdb));
  return names.ok() ? names->prefix : sdb.databaseName;
}

PResult<Session> RedisSharedBackend::open(const specs::ServiceDatabase& sdb) {
  if (auto p = check(sdb)) return *p;
  auto secret = readAdminSecret(client_, sdb);
  if (!secret.ok()) return secret.error();
  auto admin = parseAdminSecret(*secret, redisAdminKeys(), sdb.tlsEnabled);
  if (!admin.ok()) return admin.error();

  redis::EngineOptions eo;
  eo.mode = redis::Mode::kShared;
  eo.admin.host = admin->host;
  eo.admin.port = admin->port;
  eo.admin.user = admin->username;
  eo.admin.password = admin->password;
  eo.admin.connectTimeout = options_.connectTimeout;
  eo.admin.ioTimeout = options_.ioTimeout;
  if (admin->tls) {
    auto path = caFiles_.pathFor(admin->caCert);
    if (!path.ok()) return Problem{"OperatorError", path.error().message, false, true};
    eo.admin.transport = redis::Transport::kTls;
    eo.admin.tls.caFile = *path;
    eo.admin.tls.serverName = admin->host;
  } else {
    eo.admin.transport = redis::Transport::kPlainTcp;  // the spec and the Secret both chose it
  }

  auto names = redis::namesFor(identityOf(sdb));
  if (!names.ok()) return Problem{"InvalidSpec", names.error().message, true, false};
  Session s;
  s.engine = options_.engineFactory(eo);
  s.endpoint = {admin->host, admin->port, names->prefix};
  s.bindingType = specs::kBindingTypeRedis;
  s.bindingData = [endpoint = s.endpoint, user = names->user, tls = admin->tls, ca = admin->caCert](
                      const std::string&, const std::string& password) {
    specs::RedisBinding b;
    b.host = endpoint.host;
    b.port = endpoint.port;
    b.prefix = endpoint.database;
    b.username = user;  // the only slot, "app"
    b.password = password;
    b.tls = tls;
    b.caCert = ca;
    return specs::redisBindingData(b);
  };
  s.fingerprint = sha256Hex("redis\n" + admin->host + "\n" + std::to_string(admin->port) + "\n" + admin->username +
                            "\n" + admin->password + "\n" + (admin->tls ? "tls" : "plain") + "\n" + admin->caCert);
  return s;
}

}  // namespace sdb::controllers::servicedatabase
