// Backend for spec.engine=redis, spec.mode=dedicated: the engine-specific part of a dedicated
// instance (dedicated_backend.h) for Redis 7. The instance is the official redis image with the
// operator's redis.conf and ACL lines (operator/specs/redis_instance.h, rendered by
// operator/engines/redis/dedicated_config.h); it has no plain-text port at all (`port 0`).
//
// The admin connection (docs/engines/redis.md, "The admin connection: RESP over TLS"): the
// operator logs in as kRedisSuperuser ("servicedb-admin", +@all on ~* &*) through the ClusterIP,
// over RESP on OpenSSL (resp_client.h) with full verification: the chain against the operator's CA
// and the clusterIP against the certificate's IP SANs. AUTH is sent only inside that verified TLS
// session, so the admin password never crosses the pod network in clear; the pod learns it from the
// superuser Secret through Secrets only (the ACL Secret holds its SHA-256; the probes read
// REDISCLI_AUTH from the superuser Secret). On the instance the engine runs the same ACL plan as in
// shared mode, in dedicated mode (Delete: ACL DELUSER only; the instance and its volume go whole).
//
// Certificates are reloaded without a restart: Redis 7 re-reads its certificate, key and CA files
// on `CONFIG SET tls-cert-file ... tls-key-file ... tls-ca-cert-file ...` even when the paths are
// unchanged (they are "volatile" configs). reloadTls compares the serial a fresh TLS handshake
// presents with the stored one and re-sets the server's current paths until they match (the kubelet
// refreshes mounted Secrets with a delay).
//
// Contract: thread-safe (no state besides the options). redisWorkload is pure. No password in any
// message or log.
#pragma once

#include <chrono>

#include "controllers/servicedatabase/dedicated_backend.h"
#include "operator/engines/redis/redis_engine.h"
#include "operator/specs/redis_instance.h"

namespace sdb::controllers::servicedatabase {

// Operator-wide settings of every dedicated Redis instance (`servicedb-operator run --redis-*`).
struct RedisDedicatedOptions {
  specs::RedisInstanceOptions instance;
  bool appendOnly = true;                     // AOF persistence (--redis-appendonly)
  std::string appendFsync = "everysec";       // always, everysec or no (--redis-appendfsync)
  std::string maxmemoryPolicy = "noeviction"; // --redis-maxmemory-policy; maxmemory is half the memory limit
  std::chrono::milliseconds connectTimeout{10000};
  std::chrono::milliseconds ioTimeout{30000};
};

// The options as a redis.conf would take them; errors name the flag ("--redis-appendfsync: ...").
Status validateRedisDedicatedOptions(const RedisDedicatedOptions& options);

// ConfigMap (redis.conf), ACL Secret (the operator's ACL lines: `user default off`, the admin with
// the SHA-256 of `superuserPassword`) and StatefulSet, in apply order. The config hash on the pod
// template covers both files. Pure.
Result<std::vector<Json>> redisWorkload(const specs::ServiceDatabase& sdb, const RedisDedicatedOptions& options,
                                        const std::string& superuserPassword);

// The admin connection to the instance behind `conn` (TLS, verify against conn.caFile and conn.host).
engines::redis::ConnectOptions redisAdminConnection(const InstanceConnection& conn, const RedisDedicatedOptions& options);

// The serial (hex, as pki::serialHex) of the certificate a fresh TLS handshake with `conn` presents.
Result<std::string> presentedRedisSerial(const InstanceConnection& conn, const RedisDedicatedOptions& options);

InstanceEngine redisInstanceEngine(RedisDedicatedOptions options = {});

}  // namespace sdb::controllers::servicedatabase
