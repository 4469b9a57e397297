// Backend for spec.engine=mongodb, spec.mode=shared: a database and its users on an existing
// MongoDB (standalone, replica set or mongos) reached with the admin Secret the spec names (keys:
// admin_secret.h, mongoAdminKeys(): host, port 27017, username, password, authSource "admin",
// optional replicaSet, tls and ca.crt).
//
// open(): one uncached GET of the admin Secret, turned into the engine's admin connection string
//   mongodb://<user>:<password>@<host>:<port>/?authSource=<authSource>[&replicaSet=<rs>]
// (user, password and options percent-encoded; the engine forces tls=true and refuses options that
// weaken verification). With TLS the CA goes to a private file (ca_files.h) as tlsCAFile; without
// ca.crt the system store verifies. The connection string is checked by mongo-c-driver's parser
// before use (a refusal is InvalidAdminSecret, without the password). The endpoint is the admin
// Secret's host and port and the engine's database name. Credentials Secret entries: the engine's
// credentialSecretData (operator/engines/mongo/credentials.h): `uri` without a CA file path, and
// the CA as `ca.crt`, which applications mount and name in tlsCAFile (docs/engines/mongo.md).
// Credential slots: the engine's ("app" and "migration").
//
// Contract: thread-safe. `engineFactory` is injectable so unit tests can serve a FakeEngine.
#pragma once

#include "controllers/servicedatabase/backend.h"
#include "controllers/servicedatabase/ca_files.h"
#include "operator/engines/mongo/connection.h"
#include "operator/kube/client.h"

namespace sdb::controllers::servicedatabase {

using MongoEngineFactory =
    std::function<std::unique_ptr<engines::Engine>(const engines::mongo::ConnectionOptions& admin)>;

struct MongoSharedOptions {
  std::string caDir;  // "" = a fresh private directory under $TMPDIR
  int serverSelectionTimeoutMs = 10000;
  int connectTimeoutMs = 5000;
  MongoEngineFactory engineFactory;  // empty = MongoEngine(admin)
};

class MongoSharedBackend final : public Backend {
 public:
  MongoSharedBackend(kube::KubeClient& client, MongoSharedOptions options);

  std::string describe() const override { return "mongodb (shared)"; }
  std::vector<std::string> slots() const override;
  std::optional<Problem> check(const specs::ServiceDatabase& sdb) const override;
  PResult<Session> open(const specs::ServiceDatabase& sdb) override;

 private:
  kube::KubeClient& client_;
  MongoSharedOptions options_;
  CaFiles caFiles_;
};

}  // namespace sdb::controllers::servicedatabase
