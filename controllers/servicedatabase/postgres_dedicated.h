// Backend for spec.engine=postgres, spec.mode=dedicated: the engine-specific part of a dedicated
// instance (dedicated_backend.h) for PostgreSQL. The instance is the official postgres image with
// the operator's postgresql.conf and pg_hba.conf (operator/specs/postgres_instance.h); the operator
// connects as the superuser through the ClusterIP with sslmode=verify-full against its CA, and runs
// part 1's plan (databases, roles, REVOKE CONNECT FROM PUBLIC) there.
//
// Certificates are reloaded without a restart: when the Secret holds a new certificate, the
// operator compares the serial the server presents in the TLS handshake with it, and runs
// pg_reload_conf() until they match (the kubelet refreshes mounted Secrets with a delay).
//
// Contract: thread-safe.
#pragma once

#include "controllers/servicedatabase/dedicated_backend.h"
#include "operator/specs/postgres_instance.h"

namespace sdb::controllers::servicedatabase {

InstanceEngine postgresInstanceEngine(specs::PostgresInstanceOptions options, int connectTimeoutSeconds = 10);

// The serial of the certificate the server at `conn` presents (hex, as pki::serialHex).
Result<std::string> presentedPostgresSerial(const InstanceConnection& conn, int connectTimeoutSeconds);

}  // namespace sdb::controllers::servicedatabase
