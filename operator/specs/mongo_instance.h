// A dedicated MongoDB instance (spec.engine: mongodb, spec.mode: dedicated), pure: its StatefulSet,
// on top of the engine-neutral pieces of instance.h (names, labels, owner reference, Services,
// Secrets, resources, restricted security contexts, the StatefulSet around a pod spec). There is no
// ConfigMap: everything mongod needs is on its command line. Tests: golden files
// tests/unit/specs/golden/mongo_statefulset*.json with mongo_instance_test.cpp (properties one by
// one), and mongo_pod_security_test.cpp (the local cluster's restricted Pod Security admission and
// StatefulSet controller).
//
// The pod runs the official image `<imageRepository>:<spec.version>` as its mongodb user (uid/gid
// 999) under Pod Security "restricted", with a read-only root filesystem:
// - a standalone `mongod --auth` (arguments start with '-', so the image's docker-entrypoint runs
//   mongod with them). On first start (an empty /data/db) the entrypoint creates the superuser from
//   MONGO_INITDB_ROOT_USERNAME/PASSWORD (the superuser Secret, role root on admin) on a temporary
//   server bound to 127.0.0.1 without --auth and with --tlsMode allowTLS, then stops it;
// - TLS: `--tlsMode requireTLS` with the operator's certificate: `--tlsCertificateKeyFile` is the
//   TLS Secret's tls.pem (certificate followed by key, as mongod wants them in one file; see
//   instance.h tlsSecret), `--tlsCAFile` its ca.crt (mongod refuses TLS without a chain of trust),
//   `--tlsAllowConnectionsWithoutCertificates` (clients authenticate with SCRAM, not certificates),
//   `--tlsDisabledProtocols TLS1_0,TLS1_1` (TLS 1.2 at least, as for PostgreSQL). A renewed
//   certificate is loaded by the admin command rotateCertificates (MongoDB 5.0 and later), without
//   a restart;
// - `--setParameter authenticationMechanisms=SCRAM-SHA-256`: no SCRAM-SHA-1, no other mechanism;
// - `--wiredTigerCacheSizeGB` from the memory limit (mongoWiredTigerCacheGb), so the cache fits the
//   container whether or not mongod reads the cgroup's limit;
// - writable paths are the PVC at /data/db, and emptyDirs at /tmp (mongod's socket, the
//   entrypoint's pid and config files) and /data/configdb (the image's other VOLUME);
// - probes are TCP connections to the port: during first-start initialisation the temporary server
//   listens on 127.0.0.1 only, so it never counts as ready; a TLS handshake or a login would need a
//   client in the probe (mongosh starts a JavaScript runtime every 10 s) for no better answer.
// NOT verified against a running mongo image in our CI (no container runtime, no mongod): the
// entrypoint's behaviour above is read from docker-library/mongo, not run.
//
// PodDisruptionBudget: none, as for PostgreSQL (postgres_instance.h says why).
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

inline constexpr int kMongoPort = 27017;
inline constexpr const char* kMongoPortName = "mongodb";
inline constexpr int kMongoUid = 999;  // the mongodb user of the official image
inline constexpr const char* kMongoSuperuser = "root";
// rotateCertificates, which reloads a renewed certificate without a restart, exists from 5.0.
inline constexpr int kMongoMinMajor = 5;
inline constexpr int kMongoMaxMajor = 8;

struct MongoInstanceOptions {
  std::string imageRepository = "mongo";  // image = repository + ":" + spec.version
};

// spec.version "7", "7.0" or "7.0.12" -> 7 (the image tag is spec.version as given). Errors name
// spec.version; supported majors are kMongoMinMajor..kMongoMaxMajor.
Result<int> mongoMajor(const std::string& version);

// --wiredTigerCacheSizeGB for a memory limit: mongod's own default rule, half of (limit - 1 GiB),
// and at least 0.25 (mongod's minimum), as a decimal string with two places ("0.25", "1.5").
std::string mongoWiredTigerCacheGb(int64_t memoryLimitBytes);

// The StatefulSet "<base>" (one replica). The superuser Secret (username, password) and the TLS
// Secret (tls.pem, ca.crt) must exist for the pod to start.
Result<Json> mongoStatefulSet(const ServiceDatabase& sdb, const MongoInstanceOptions& o);

}  // namespace sdb::specs
