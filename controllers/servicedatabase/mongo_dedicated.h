// Backend for spec.engine=mongodb, spec.mode=dedicated: the engine-specific part of a dedicated
// instance (dedicated_backend.h) for MongoDB. The instance is the official mongo image as a
// standalone mongod with --tlsMode requireTLS and SCRAM-SHA-256 only (operator/specs/mongo_instance.h).
//
// - Superuser: the superuser Secret's username ("root") and password, given to the image as
//   MONGO_INITDB_ROOT_USERNAME/PASSWORD, which creates it on first start with role root on admin.
// - The operator connects as the superuser through the ClusterIP:
//     mongodb://root:<password>@<clusterIP>:27017/?authSource=admin&authMechanism=SCRAM-SHA-256
//   with tls=true and tlsCAFile = the operator's CA (engines/mongo/connection.h forces TLS and
//   refuses anything that weakens verification; the certificate names the clusterIP), and runs the
//   MongoDB engine there: database-scoped users with readWrite (app) and readWrite + dbAdmin
//   (migration), as in shared mode.
// - spec.databaseName, when set, is the database (validated before anything is created, naming the
//   field; the engine's names.h rules); otherwise the derived `<namespace>_<name>`.
// - Credentials Secrets: the engine's credentialSecretData (engines/mongo/credentials.h) with host
//   the Service's DNS name "<base>.<namespace>.svc" and port 27017: `uri` with tls=true and no CA
//   path, and the CA as `ca.crt` (docs/engines/mongo.md says why the uri names no CA file).
// - Certificates are reloaded without a restart: when the serial the server presents in a TLS
//   handshake (tls_probe.h) is not the stored certificate's, the operator sends rotateCertificates
//   (MongoDB 5.0+, hence mongoMajor's range) and reads the serial again; until the kubelet has
//   refreshed the mounted Secret the serials differ and the backend looks again (dedicated_backend.h).
//
// NOT verified against a live server in our CI (no mongod, no container runtime): the commands are
// pinned by unit tests; on the local cluster the mongo image cannot run and the instance reports
// ImageNotRunnable (e2e/servicedatabase/mongo_e2e.sh).
//
// Contract: thread-safe (the engine is made per session; no shared state).
#pragma once

#include "controllers/servicedatabase/dedicated_backend.h"
#include "operator/engines/mongo/connection.h"
#include "operator/specs/mongo_instance.h"

namespace sdb::controllers::servicedatabase {

struct MongoDedicatedOptions {
  specs::MongoInstanceOptions instance;
  int serverSelectionTimeoutMs = 10000;
  int connectTimeoutMs = 5000;
  int probeTimeoutSeconds = 5;  // the TLS handshake that reads the presented serial
};

InstanceEngine mongoInstanceEngine(MongoDedicatedOptions options = {});

// The superuser's connection to the instance at `conn` (for the engine and for rotateCertificates).
engines::mongo::ConnectionOptions mongoSuperuserConnection(const InstanceConnection& conn,
                                                           const MongoDedicatedOptions& options);

}  // namespace sdb::controllers::servicedatabase
