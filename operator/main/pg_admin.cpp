#include "operator/main/pg_admin.h"

#include <libpq-fe.h>

#include <cstring>
#include <memory>

namespace sdb::cli {
namespace {

using Conn = std::unique_ptr<PGconn, decltype(&PQfinish)>;

Result<Conn> connect(const std::string& database, const PgLogin& login) {
  std::vector<const char*> keys = {"dbname"}, values = {database.c_str()};
  if (!login.user.empty()) {
    keys.push_back("user");
    values.push_back(login.user.c_str());
  }
  if (!login.password.empty()) {
    keys.push_back("password");
    values.push_back(login.password.c_str());
  }
  if (login.readOnly) {
    keys.push_back("options");
    values.push_back("-c default_transaction_read_only=on");
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  Conn c(PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/0), &PQfinish);
  if (PQstatus(c.get()) != CONNECTION_OK) {
    return Error(ErrorCode::kUnavailable, "connecting to PostgreSQL database \"" + database + "\"" +
                                              (login.user.empty() ? "" : " as " + login.user) + ": " +
                                              PQerrorMessage(c.get()));
  }
  return c;
}

}  // namespace

Status execSql(const std::string& database, std::string sql, const std::vector<std::string>& args, const PgLogin& login) {
  auto c = connect(database, login);
  if (!c.ok()) return c.error();
  size_t at = 0;
  for (const auto& arg : args) {
    const size_t i = sql.find("%I", at), l = sql.find("%L", at);
    const size_t pos = std::min(i, l);
    if (pos == std::string::npos) return invalidArgument("execSql: more arguments than placeholders");
    char* quoted = pos == i ? PQescapeIdentifier(c->get(), arg.c_str(), arg.size())
                            : PQescapeLiteral(c->get(), arg.c_str(), arg.size());
    if (!quoted) return invalidArgument(std::string("cannot quote a value: ") + PQerrorMessage(c->get()));
    sql.replace(pos, 2, quoted);
    at = pos + std::strlen(quoted);
    PQfreemem(quoted);
  }
  PGresult* r = PQexec(c->get(), sql.c_str());
  Status s = PQresultStatus(r) == PGRES_COMMAND_OK ? okStatus() : Status(ioError(PQerrorMessage(c->get())));
  PQclear(r);
  return s;
}

Result<std::vector<std::vector<std::string>>> querySql(const std::string& database, const std::string& sql,
                                                       const std::vector<std::string>& params, const PgLogin& login) {
  auto c = connect(database, login);
  if (!c.ok()) return c.error();
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  PGresult* r = PQexecParams(c->get(), sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                             nullptr, 0);
  const ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    std::string msg = PQerrorMessage(c->get());
    PQclear(r);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return ioError(msg);
  }
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < PQntuples(r); ++i) {
    std::vector<std::string> row;
    for (int j = 0; j < PQnfields(r); ++j) row.emplace_back(PQgetvalue(r, i, j));
    rows.push_back(std::move(row));
  }
  PQclear(r);
  return rows;
}

}  // namespace sdb::cli
