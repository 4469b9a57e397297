// Dedicated mode, pure: the StatefulSet of one MongoDB instance for a ServiceDatabase.
//
// This lives under the engine, not in operator/specs, because main had no specs-layer pattern
// (labels, owner references) when it was written; it should move there once that layer lands.
// Golden-file test: tests/unit/engines/mongo/dedicated_test.cpp (golden/dedicated_statefulset.json).
//
// What it builds: a StatefulSet "<name>-mongodb" with one replica of the official image
// `mongo:<version>` running a standalone mongod with --auth, --tlsMode requireTLS (certificate and
// key from the instance's TLS Secret, key `tls.pem` = certificate + key, and `ca.crt`),
// --tlsAllowConnectionsWithoutCertificates (clients authenticate with SCRAM, not certificates) and
// authenticationMechanisms=SCRAM-SHA-256; the operator's admin comes from the admin Secret
// (`username`, `password`) through the image's MONGO_INITDB_ROOT_* variables. Pod Security
// "restricted": non-root uid/gid 999 (the image's mongodb user), no privilege escalation, all
// capabilities dropped, RuntimeDefault seccomp, read-only root filesystem (/tmp and /data/configdb
// are emptyDirs), no service-account token. Labels follow docs/api.md's label contract.
// NOT verified against a running mongo image in our CI (no container runtime, no mongod).
//
// Contract: pure, deterministic, thread-safe.
#pragma once

#include <optional>
#include <string>

#include "operator/core/json.h"

namespace sdb::engines::mongo {

inline constexpr int kMongoPort = 27017;

struct DedicatedInput {
  std::string namespaceName;
  std::string name;     // the ServiceDatabase's name
  std::string uid;      // for the owner reference
  std::string service;  // spec.service (label app.kubernetes.io/part-of)
  std::string version;  // spec.version, e.g. "7.0"
  std::string storageSize = "10Gi";
  std::string storageClassName;  // empty: the cluster default
  std::string cpuRequest = "250m", memoryRequest = "512Mi", memoryLimit = "1Gi";
  std::string tlsSecretName;    // keys tls.pem, ca.crt
  std::string adminSecretName;  // keys username, password
};

// "<name>-mongodb": the StatefulSet and its headless Service.
std::string dedicatedInstanceName(const std::string& serviceDatabaseName);

Json dedicatedStatefulSet(const DedicatedInput& input);

}  // namespace sdb::engines::mongo
