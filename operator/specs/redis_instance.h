// A dedicated Redis instance (spec.engine: redis, spec.mode: dedicated), pure: its ConfigMap, its
// ACL Secret and its StatefulSet, on top of the engine-neutral pieces of instance.h. The two
// files' contents (redis.conf and the operator's ACL lines) are rendered by
// operator/engines/redis/dedicated_config.h and passed in by the controller
// (controllers/servicedatabase/redis_dedicated.h), so this layer stays below the engines.
// Tests: golden files tests/unit/specs/golden/redis_*.json; specs_pod_security_test (the local
// cluster's restricted admission and StatefulSet controller); e2e.servicedatabase_dedicated_redis
// (the real redis-server 7 on the local node).
//
// The pod runs the official image `<imageRepository>:<spec.version>` as its redis user (uid/gid
// 999) under Pod Security "restricted", with a read-only root filesystem; the only writable path
// is the PVC at /data:
// - init container "acl" (the same image, `sh`): writes /data/users.acl, the `aclfile` of
//   redis.conf, as the ACL Secret's lines for `default` (off) and the operator's admin, followed by
//   every other user line the file already had (the service users Redis saved with ACL SAVE). So
//   service users survive restarts, and the admin's password is always the superuser Secret's: a
//   new superuser password changes the ACL Secret, hence the config hash, hence rolls the pod;
// - container "redis": the image's entrypoint with /etc/redis/redis.conf (a `.conf` first argument
//   means redis-server; the entrypoint then sets umask 0077). redis.conf has `port 0`: the TLS port
//   is the only one that listens;
// - probes speak TLS (a bare TCP connection to the TLS port makes Redis log a warning each time):
//   `redis-cli --tls` as the admin, the password from the REDISCLI_AUTH environment variable (the
//   superuser Secret), never a command line. Ready and started: PONG (while the AOF loads the answer
//   is LOADING, so the pod is not ready). Alive: any answer, LOADING and BUSY included (a server
//   inside a long script is not restarted; one that does not answer for a minute is);
// - TLS: certificate, key and CA from the TLS Secret at /tls (mode 0640, group 999 by fsGroup).
// The superuser Secret's username MUST be kRedisSuperuser: the ACL lines, the probes and the
// operator's admin connection use that name.
//
// PodDisruptionBudget: none, for the reason postgres_instance.h gives.
//
// Contract: pure functions, no I/O, thread-safe. Errors name the field ("spec.version: ...").
#pragma once

#include <cstdint>
#include <string>

#include "operator/core/json.h"
#include "operator/core/result.h"
#include "operator/specs/instance.h"
#include "operator/specs/servicedatabase.h"

namespace sdb::specs {

inline constexpr int kRedisPort = 6379;
inline constexpr const char* kRedisPortName = "rediss";  // TLS only, as the URI scheme says
inline constexpr int kRedisUid = 999;                    // the redis user of the official images
inline constexpr const char* kRedisSuperuser = "servicedb-admin";  // no '.': never a service user's name
inline constexpr int kRedisMinMajor = 7;  // ACL selectors, ACL DRYRUN, CONFIG SET reloading TLS files
inline constexpr int kRedisMaxMajor = 7;  // the command table (command_policy.cpp) is reviewed for 7
// Where the pod mounts what redis.conf refers to (engines/redis/dedicated_config.h's defaults).
inline constexpr const char* kRedisDataDir = "/data";
inline constexpr const char* kRedisTlsDir = "/tls";
inline constexpr const char* kRedisConfigDir = "/etc/redis";

struct RedisInstanceOptions {
  std::string imageRepository = "redis";  // image = repository + ":" + spec.version
};

// spec.version "7", "7.2" or "7.2.4" -> 7. Errors name spec.version; supported majors are
// kRedisMinMajor..kRedisMaxMajor.
Result<int> redisMajor(const std::string& version);

// maxmemory for a memory limit, in MB (Redis' mb, 2^20 bytes): half of it, at least 1. A fork for
// an AOF rewrite or a backup's snapshot may copy every page under write load; half keeps that
// worst case within the limit, and `noeviction` then answers OOM errors instead of the kernel
// killing the pod.
int64_t redisMaxmemoryMb(int64_t memoryLimitBytes);

// The ACL Secret's name: "<base>-acl".
std::string redisAclSecretName(const ServiceDatabase& sdb);

// The ConfigMap "<base>-config" with the one key redis.conf.
Json redisConfigMap(const ServiceDatabase& sdb, const std::string& redisConf);
// The Secret "<base>-acl" (Opaque) with the one key users.acl: the operator's ACL lines (`user
// default off ...`, the admin with its password's SHA-256). Mounted by the init container only.
Json redisAclSecret(const ServiceDatabase& sdb, const std::string& aclLines);

// The StatefulSet "<base>" (one replica). `configHash` covers redis.conf and the ACL lines (the
// controller hashes both), put on the pod template so a change rolls the pod. The superuser Secret
// (password), the TLS Secret, the ConfigMap and the ACL Secret must exist for the pod to start.
Result<Json> redisStatefulSet(const ServiceDatabase& sdb, const RedisInstanceOptions& o, const std::string& configHash);

}  // namespace sdb::specs
