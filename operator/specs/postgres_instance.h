// A dedicated PostgreSQL instance (spec.engine: postgres, spec.mode: dedicated), pure: its
// ConfigMap and StatefulSet, on top of the engine-neutral pieces of instance.h (names, Services,
// Secrets, resources, security contexts). Tests: golden files tests/unit/specs/golden/postgres_*.json;
// specs_pod_security_test (the local cluster's restricted admission and StatefulSet controller);
// specs_postgres_config_integration_test (the two files on a real PostgreSQL 15, laid out as in the pod).
//
// The pod runs the official Debian-based image `<imageRepository>:<spec.version>` as its postgres
// user (uid/gid 999) under Pod Security "restricted", with a read-only root filesystem:
// - the image's docker-entrypoint initialises $PGDATA (a subdirectory of the PVC, so initdb finds
//   it empty and mode 0700 whatever the volume's root holds) on first start, then runs
//   `postgres -c config_file=/etc/postgresql/postgresql.conf`; the configuration and pg_hba.conf
//   come from the ConfigMap, never from files in $PGDATA;
// - the superuser Secret's username MUST be kPostgresSuperuser ("postgres"): pg_hba.conf admits
//   the local socket by `peer`, which matches a role to the OS user of the same name, and the
//   entrypoint's own initialisation connects through that socket as POSTGRES_USER;
// - POSTGRES_INITDB_ARGS makes initdb store the superuser's password as SCRAM on every supported
//   major (12 and 13 would otherwise store md5, which the scram-sha-256 hba lines refuse) and makes
//   the unused pg_hba.conf it writes into $PGDATA peer/scram instead of trust;
// - TLS: server certificate and key from the TLS Secret at /tls (mode 0640, group 999 by fsGroup;
//   PostgreSQL accepts a root-owned key that only its group can read); clients must use TLS
//   (every plain-text host line of pg_hba.conf is `reject`);
// - writable paths are the PVC, and emptyDirs at /var/run/postgresql (socket, lock), /tmp and
//   /dev/shm (dynamic shared memory; Memory medium, counted against the memory limit).
// NOT verified against a running postgres image in our CI (no container runtime): the
// entrypoint's behaviour above is read from docker-library/postgres, not run.
//
// PodDisruptionBudget: none. With one replica, minAvailable 1 (or maxUnavailable 0) would block
// every voluntary eviction, so no node could ever be drained without deleting the budget by hand;
// a single instance accepts the short outage of a drain instead (docs/api.md, dedicated mode).
//
// Contract: pure functions, no I/O, thread-safe. Errors name the field ("spec.version: ...").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "operator/core/json.h"
#include "operator/core/result.h"
#include "operator/specs/instance.h"
#include "operator/specs/servicedatabase.h"

namespace sdb::specs {

inline constexpr int kPostgresPort = 5432;
inline constexpr const char* kPostgresPortName = "postgresql";
inline constexpr int kPostgresUid = 999;  // the postgres user of the Debian-based official image
inline constexpr const char* kPostgresSuperuser = "postgres";
inline constexpr int kPostgresMinMajor = 12;
inline constexpr int kPostgresMaxMajor = 17;

struct PostgresInstanceOptions {
  std::string imageRepository = "postgres";          // image = repository + ":" + spec.version
  // Operator-wide postgresql.conf settings (e.g. log_statement=mod), written after the operator's
  // own, sorted. Names: [a-z_][a-z0-9_.]*, and neither a setting the operator sets itself (TLS,
  // authentication, listening, file locations, shared_buffers, max_connections) nor an include
  // directive. Values: any text without control characters, always quoted.
  std::map<std::string, std::string> extraSettings;
};

// spec.version "15" or "15.4" -> 15. Errors name spec.version; supported majors are
// kPostgresMinMajor..kPostgresMaxMajor.
Result<int> postgresMajor(const std::string& version);

// shared_buffers for a memory limit: a quarter of it, in whole MB, and at least 32.
int64_t postgresSharedBuffersMb(int64_t memoryLimitBytes);

// The ConfigMap "<base>-config": keys postgresql.conf and pg_hba.conf (see the .cpp for each line;
// the files carry comments saying why).
Result<Json> postgresConfigMap(const ServiceDatabase& sdb, const PostgresInstanceOptions& o);

// The StatefulSet "<base>" (one replica). `configHash` is configMapHash() of postgresConfigMap(),
// put on the pod template so a configuration change rolls the pod. The superuser Secret
// (username, password) and the TLS Secret (tls.crt, tls.key) must exist for the pod to start.
// spec.deletionPolicy Delete or Snapshot sets persistentVolumeClaimRetentionPolicy.whenDeleted to
// Delete (the finalizer has taken any snapshot before the StatefulSet goes); Retain keeps the PVC.
Result<Json> postgresStatefulSet(const ServiceDatabase& sdb, const PostgresInstanceOptions& o, const std::string& configHash);

// Always std::nullopt for the single-replica instance (see above).
std::optional<Json> postgresPodDisruptionBudget(const ServiceDatabase& sdb);

}  // namespace sdb::specs
