#include "operator/engines/postgres/connection.h"

#include <cstdlib>

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

Result<PgConnection> PgConnection::openConninfo(const std::string& conninfo, const std::string& applicationName) {
  if (!conninfo.empty()) {
    char* parseError = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &parseError);
    if (parsed == nullptr) {
      if (parseError) PQfreemem(parseError);  // may quote the password: withheld
      return invalidArgument("the connection string is not valid (libpq's message is withheld: it may quote a password)");
    }
    PQconninfoFree(parsed);
  }
  // dbname with expand_dbname=1 takes a whole connection string or URI; an empty value leaves every
  // setting to the PG* variables. fallback_application_name yields to one set by the caller.
  const char* keys[] = {"dbname", "fallback_application_name", nullptr};
  const char* values[] = {conninfo.c_str(), applicationName.c_str(), nullptr};
  PGconn* c = PQconnectdbParams(keys, values, 1);
  if (c == nullptr || PQstatus(c) != CONNECTION_OK) {
    std::string m = lastError(c);
    std::string where = c ? PgConnection(c).describe() : "PostgreSQL";  // PgConnection frees c
    return classify("connecting to " + where, m, true);
  }
  return PgConnection(c);
}

std::string PgConnection::describe() const {
  auto text = [](const char* s) { return std::string(s ? s : ""); };
  PGconn* c = conn_.get();
  return text(PQuser(c)) + "@" + text(PQhost(c)) + ":" + text(PQport(c)) + "/" + text(PQdb(c));
}

Result<void, SqlDiagnostics> PgConnection::run(const std::string& sql) {
  PGconn* c = conn_.get();
  PGresult* r = PQexec(c, sql.c_str());
  ExecStatusType st = PQresultStatus(r);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) {
    PQclear(r);
    return {};
  }
  std::optional<SqlDiagnostics> copyRefused;
  if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT) {
    PQclear(r);
    r = nullptr;
    if (st == PGRES_COPY_IN) {
      PQputCopyEnd(c, "COPY FROM STDIN is not supported: there is no data stream");
    } else {
      char* buf = nullptr;
      while (PQgetCopyData(c, &buf, 0) > 0) PQfreemem(buf);
      copyRefused = SqlDiagnostics{"", "COPY TO STDOUT is not supported: there is no data stream", "", "", "", 0};
    }
    // The rest of the query string runs on; keep the first failure it reports.
    while (PGresult* next = PQgetResult(c)) {
      if (r == nullptr && PQresultStatus(next) == PGRES_FATAL_ERROR) r = next;
      else PQclear(next);
    }
    if (r == nullptr) return copyRefused ? *copyRefused : SqlDiagnostics{"", lastError(c), "", "", "", 0};
  }
  auto field = [r](int code) {
    const char* v = r ? PQresultErrorField(r, code) : nullptr;
    return std::string(v ? v : "");
  };
  SqlDiagnostics d{field(PG_DIAG_SQLSTATE), field(PG_DIAG_MESSAGE_PRIMARY), field(PG_DIAG_MESSAGE_DETAIL),
                   field(PG_DIAG_MESSAGE_HINT), field(PG_DIAG_CONTEXT), 0};
  if (std::string pos = field(PG_DIAG_STATEMENT_POSITION); !pos.empty()) d.position = std::atoi(pos.c_str());
  if (d.message.empty()) d.message = lastError(c);
  PQclear(r);
  return d;
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
