// A libpq connection for the PostgreSQL engine: options, RAII handle, quoting and execution.
//
// Contract: `PgConnection` owns one PGconn (move-only, not thread-safe). Every identifier that
// reaches SQL goes through `ident()` (PQescapeIdentifier) and every literal through `literal()`
// (PQescapeLiteral) or a $n parameter of `query()`. Errors are values whose message names what
// was being done; passwords never appear in messages.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "operator/core/result.h"

namespace sdb::engines::postgres {

struct ConnectionOptions {
  std::string host = "127.0.0.1";
  int port = 5432;
  std::string dbname = "postgres";
  std::string user;
  std::string password;  // never logged
  std::string sslmode = "verify-full";
  std::string sslrootcert;  // path to the CA bundle; empty: libpq default
  int connectTimeoutSeconds = 10;
};

using Row = std::vector<std::optional<std::string>>;

// What the server said about a failed statement (libpq's PG_DIAG_* fields).
struct SqlDiagnostics {
  std::string sqlstate;  // e.g. "42501"; empty when the failure was not the server's (connection lost)
  std::string message;   // the primary message, without the "ERROR:" prefix
  std::string detail, hint, context;
  int position = 0;  // 1-based character (not byte) offset into the SQL sent; 0 when unknown
};

class PgConnection {
 public:
  static Result<PgConnection> open(const ConnectionOptions& options);
  // Opens from a libpq connection string or URI (may be empty, e.g. an unset DATABASE_URL); every
  // setting it leaves out comes from libpq's own PG* environment variables (PGHOST, PGPASSWORD,
  // PGSSLMODE, PGSSLROOTCERT, ...). Errors name user, host, port and database, never the string
  // itself nor libpq's parse error about it, since both may quote a password.
  static Result<PgConnection> openConninfo(const std::string& conninfo, const std::string& applicationName);

  // Runs one or more statements with no parameters (simple query protocol).
  Status exec(const std::string& sql, const std::string& what);
  // Runs one statement with text parameters $1..$n; returns the rows as text.
  Result<std::vector<Row>> query(const std::string& sql, const std::vector<std::string>& params,
                                 const std::string& what);

  // Runs SQL (one or more statements, simple query protocol) and keeps the server's diagnostics.
  // An empty query (only comments) succeeds. Unlike exec(), a failure leaves the transaction state
  // as it is, for the caller to roll back. COPY FROM STDIN / TO STDOUT fail (there is no data
  // stream here).
  Result<void, SqlDiagnostics> run(const std::string& sql);
  PGTransactionStatusType transactionStatus() const { return PQtransactionStatus(conn_.get()); }
  // "user@host:port/dbname", for logs (no password).
  std::string describe() const;

  Result<std::string> ident(const std::string& name);
  Result<std::string> literal(const std::string& value);
  // SCRAM-SHA-256 verifier computed here (PQencryptPasswordConn): the cleartext never crosses
  // the wire or reaches the server log.
  Result<std::string> scramVerifier(const std::string& password, const std::string& role);

  PGconn* raw() { return conn_.get(); }

 private:
  struct Closer {
    void operator()(PGconn* c) const { PQfinish(c); }
  };
  explicit PgConnection(PGconn* c) : conn_(c) {}
  std::unique_ptr<PGconn, Closer> conn_;
};

// True when `message` says the server rejected the password (as opposed to being unreachable).
bool isAuthenticationFailure(const std::string& message);

}  // namespace sdb::engines::postgres
