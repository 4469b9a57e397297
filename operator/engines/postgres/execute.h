// I/O side of the PostgreSQL engine: read the catalogs into `Observed`, and perform a `Plan`.
//
// Contract: `observe` only reads (SELECTs and trial logins), so it never adds a line to a
// log_statement=mod log. `execute` runs the actions in order, each as its own statement or
// transaction, and stops at the first failure with an error naming the action; a re-run of
// observe+plan+execute after a failure or crash converges. The admin connection options are
// those of a role with CREATEDB and CREATEROLE (docs/engines/postgres.md); actions that must run
// inside the service database open a second connection to it. Not thread-safe per call.
#pragma once

#include <functional>

#include "operator/engines/postgres/connection.h"
#include "operator/engines/postgres/model.h"

namespace sdb::engines::postgres {

// `adminConnection` (optional): an open admin connection to use instead of opening one, so a
// reconcile pays for one TLS handshake and SCRAM exchange, not two.
Result<Observed> observe(const ConnectionOptions& admin, const Desired& desired,
                         PgConnection* adminConnection = nullptr);

// `stopAfter` (tests only): run at most this many actions, then stop as if the process died.
// `afterAction` (tests only, may be empty): called after each action that succeeded.
ExecuteReport execute(const ConnectionOptions& admin, const Plan& plan,
                      std::optional<size_t> stopAfter = std::nullopt,
                      const std::function<void(const Action&)>& afterAction = {},
                      PgConnection* adminConnection = nullptr);

// Index of the first candidate password that `role` can log in with, or NotFound.
Result<size_t> whichPasswordWorks(const ConnectionOptions& admin, const std::string& role,
                                  const std::vector<std::string>& candidates);

}  // namespace sdb::engines::postgres
