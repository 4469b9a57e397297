// Backend for spec.engine=postgres, spec.mode=shared: a database and roles on an existing
// PostgreSQL (possibly cloud-managed) reached with the admin Secret the spec names.
//
// open(): one uncached GET of the admin Secret, its CA written to a private file for libpq
// (sslrootcert needs a path; PostgreSQL 15's libpq has no in-memory CA), and a PostgresEngine for
// that connection. The endpoint is the admin Secret's host and port, and the database the engine's
// name for this ServiceDatabase (or spec.databaseName). Credential slots: "app" and "migration".
//
// Contract: thread-safe. CA files live in a private directory (ca_files.h). `engineFactory` is
// injectable so unit tests can serve a FakeEngine and crash tests a PostgresEngine with a fault hook.
#pragma once

#include "controllers/servicedatabase/backend.h"
#include "controllers/servicedatabase/ca_files.h"
#include "operator/engines/postgres/connection.h"
#include "operator/kube/client.h"

namespace sdb::controllers::servicedatabase {

using PostgresEngineFactory =
    std::function<std::unique_ptr<engines::Engine>(const engines::postgres::ConnectionOptions& admin)>;

struct PostgresSharedOptions {
  std::string caDir;                    // "" = a fresh private directory under $TMPDIR
  int connectTimeoutSeconds = 10;
  PostgresEngineFactory engineFactory;  // empty = PostgresEngine(admin, Mode::kShared)
};

class PostgresSharedBackend final : public Backend {
 public:
  PostgresSharedBackend(kube::KubeClient& client, PostgresSharedOptions options);

  std::string describe() const override { return "postgres (shared)"; }
  std::vector<std::string> slots() const override { return {"app", "migration"}; }
  std::optional<Problem> check(const specs::ServiceDatabase& sdb) const override;
  PResult<Session> open(const specs::ServiceDatabase& sdb) override;
  std::string migrationOwnerRole(const specs::ServiceDatabase& sdb) const override;

 private:
  kube::KubeClient& client_;
  PostgresSharedOptions options_;
  CaFiles caFiles_;
};

}  // namespace sdb::controllers::servicedatabase
