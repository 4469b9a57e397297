#include "operator/engines/postgres/connection.h"

namespace sdb::engines::postgres {
namespace {

std::string lastError(PGconn* c) {
  std::string m = c ? PQerrorMessage(c) : "out of memory";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

Error classify(const std::string& what, const std::string& message, bool connecting) {
  ErrorCode code = ErrorCode::kInternal;
  if (isAuthenticationFailure(message)) code = ErrorCode::kPermissionDenied;
  else if (connecting) code = ErrorCode::kUnavailable;
  else if (message.find("permission denied") != std::string::npos ||
           message.find("must be") != std::string::npos)
    code = ErrorCode::kPermissionDenied;
  return Error(code, what + ": " + message);
}

}  // namespace

bool isAuthenticationFailure(const std::string& message) {
  return message.find("password authentication failed") != std::string::npos ||
         message.find("SCRAM authentication failed") != std::string::npos;
}

Result<PgConnection> PgConnection::open(const ConnectionOptions& o) {
  std::string port = std::to_string(o.port), timeout = std::to_string(o.connectTimeoutSeconds);
  std::vector<const char*> keys = {"host", "port", "dbname", "user", "password", "sslmode",
                                   "connect_timeout", "application_name"};
  std::vector<const char*> values = {o.host.c_str(), port.c_str(), o.dbname.c_str(), o.user.c_str(),
                                     o.password.c_str(), o.sslmode.c_str(), timeout.c_str(),
                                     "servicedb-operator"};
  if (!o.sslrootcert.empty()) {
    keys.push_back("sslrootcert");
    values.push_back(o.sslrootcert.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* c = PQconnectdbParams(keys.data(), values.data(), 0);
  if (c == nullptr || PQstatus(c) != CONNECTION_OK) {
    std::string m = lastError(c);
    if (c) PQfinish(c);
    return classify("connecting to " + o.host + ":" + port + "/" + o.dbname + " as " + o.user, m, true);
  }
  return PgConnection(c);
}

Status PgConnection::exec(const std::string& sql, const std::string& what) {
  PGresult* r = PQexec(conn_.get(), sql.c_str());
  ExecStatusType st = PQresultStatus(r);
  std::string m = (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) ? "" : lastError(conn_.get());
  PQclear(r);
  if (!m.empty()) {
    // A failed multi-statement string leaves an aborted transaction behind; end it.
    if (PQtransactionStatus(conn_.get()) == PQTRANS_INERROR) PQclear(PQexec(conn_.get(), "ROLLBACK"));
    return classify(what, m, false);
  }
  return okStatus();
}

Result<std::vector<Row>> PgConnection::query(const std::string& sql, const std::vector<std::string>& params,
                                             const std::string& what) {
  std::vector<const char*> vals;
  for (const auto& p : params) vals.push_back(p.c_str());
  PGresult* r = PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(vals.size()), nullptr,
                             vals.data(), nullptr, nullptr, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
    std::string m = lastError(conn_.get());
    PQclear(r);
    return classify(what, m, false);
  }
  std::vector<Row> rows;
  for (int i = 0; i < PQntuples(r); ++i) {
    Row row;
    for (int j = 0; j < PQnfields(r); ++j)
      row.push_back(PQgetisnull(r, i, j) ? std::nullopt : std::optional<std::string>(PQgetvalue(r, i, j)));
    rows.push_back(std::move(row));
  }
  PQclear(r);
  return rows;
}

Result<std::string> PgConnection::ident(const std::string& name) {
  char* q = PQescapeIdentifier(conn_.get(), name.c_str(), name.size());
  if (q == nullptr) return invalidArgument("cannot quote identifier: " + lastError(conn_.get()));
  std::string out(q);
  PQfreemem(q);
  return out;
}

Result<std::string> PgConnection::literal(const std::string& value) {
  char* q = PQescapeLiteral(conn_.get(), value.c_str(), value.size());
  if (q == nullptr) return invalidArgument("cannot quote literal: " + lastError(conn_.get()));
  std::string out(q);
  PQfreemem(q);
  return out;
}

Result<std::string> PgConnection::scramVerifier(const std::string& password, const std::string& role) {
  char* v = PQencryptPasswordConn(conn_.get(), password.c_str(), role.c_str(), "scram-sha-256");
  if (v == nullptr) return internalError("computing the SCRAM verifier for role " + role + ": " + lastError(conn_.get()));
  std::string out(v);
  PQfreemem(v);
  return out;
}

}  // namespace sdb::engines::postgres
