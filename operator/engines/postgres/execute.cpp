#include "operator/engines/postgres/execute.h"

namespace sdb::engines::postgres {
namespace {

ConnectionOptions inDatabase(ConnectionOptions o, const std::string& db) {
  o.dbname = db;
  return o;
}

// Builds the SQL of one action with every name and literal quoted by libpq.
Result<std::string> sqlFor(PgConnection& c, const Action& a) {
  auto roleQ = c.ident(a.role);
  if (!roleQ.ok()) return roleQ.error();
  const std::string& role = *roleQ;
  auto dbQ = c.ident(a.database);
  if (!dbQ.ok()) return dbQ.error();
  const std::string& db = *dbQ;
  auto targetQ = c.ident(a.target);
  if (!targetQ.ok()) return targetQ.error();
  const std::string& target = *targetQ;
  auto markerQ = c.literal(a.marker);
  if (!markerQ.ok()) return markerQ.error();
  const std::string& marker = *markerQ;
  auto passwordClause = [&]() -> Result<std::string> {
    if (!a.roleSpec.password) return std::string();
    auto v = c.scramVerifier(*a.roleSpec.password, a.role);
    if (!v.ok()) return v.error();
    auto lit = c.literal(*v);
    if (!lit.ok()) return lit.error();
    return " PASSWORD " + *lit;
  };
  switch (a.kind) {
    case ActionKind::kCreateRole: {
      auto pw = passwordClause();
      if (!pw.ok()) return pw.error();
      return "BEGIN; CREATE ROLE " + role + " NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT " +
             (a.roleSpec.login ? "LOGIN" : "NOLOGIN") + " CONNECTION LIMIT " +
             std::to_string(a.roleSpec.connectionLimit) + *pw + "; COMMENT ON ROLE " + role + " IS " + marker +
             "; GRANT " + role + " TO CURRENT_USER; COMMIT";
    }
    case ActionKind::kAlterRole: {
      std::string sql = "ALTER ROLE " + role;
      for (const auto& clause : a.clauses) sql += " " + clause;  // fixed keywords from plan.cpp
      return sql;
    }
    case ActionKind::kSetPassword: {
      auto pw = passwordClause();
      if (!pw.ok()) return pw.error();
      return "ALTER ROLE " + role + *pw;
    }
    case ActionKind::kGrantMembership: return "GRANT " + target + " TO " + role;
    case ActionKind::kSetDefaultRole: {
      auto lit = c.literal(a.target);
      if (!lit.ok()) return lit.error();
      return "ALTER ROLE " + role + " SET role = " + *lit;
    }
    case ActionKind::kCommentRole: return "COMMENT ON ROLE " + role + " IS " + marker;
    case ActionKind::kCreateDatabase: return "CREATE DATABASE " + db + " OWNER " + role;
    case ActionKind::kCommentDatabase: return "COMMENT ON DATABASE " + db + " IS " + marker;
    case ActionKind::kSetDatabaseOwner: return "ALTER DATABASE " + db + " OWNER TO " + role;
    case ActionKind::kRestrictDatabase: return "REVOKE ALL ON DATABASE " + db + " FROM PUBLIC";
    case ActionKind::kGrantConnect: return "GRANT CONNECT ON DATABASE " + db + " TO " + role;
    case ActionKind::kRevokeConnect: return "REVOKE ALL ON DATABASE " + db + " FROM " + role;
    case ActionKind::kSecureSchema:
      return "BEGIN; ALTER SCHEMA public OWNER TO " + role + "; REVOKE CREATE ON SCHEMA public FROM PUBLIC; COMMIT";
    case ActionKind::kGrantAppDml: {
      auto ownerQ = c.ident(a.target);
      if (!ownerQ.ok()) return ownerQ.error();
      return "BEGIN; GRANT USAGE ON SCHEMA public TO " + role +
             "; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO " + role +
             "; GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO " + role +
             // Database-wide (no IN SCHEMA): they also cover schemas that migrations create later,
             // and ON SCHEMAS exists only in this form.
             "; ALTER DEFAULT PRIVILEGES FOR ROLE " + *ownerQ + " GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO " +
             role + "; ALTER DEFAULT PRIVILEGES FOR ROLE " + *ownerQ + " GRANT USAGE, SELECT ON SEQUENCES TO " + role +
             "; ALTER DEFAULT PRIVILEGES FOR ROLE " + *ownerQ + " GRANT USAGE ON SCHEMAS TO " + role + "; COMMIT";
    }
    case ActionKind::kDropDatabase: return "DROP DATABASE IF EXISTS " + db + " WITH (FORCE)";
    case ActionKind::kDropOwned:
      return "BEGIN; REASSIGN OWNED BY " + role + " TO CURRENT_USER; DROP OWNED BY " + role + "; COMMIT";
    case ActionKind::kDropRole: return "DROP ROLE IF EXISTS " + role;
  }
  return internalError("unknown action");
}

bool runsInServiceDatabase(ActionKind k) { return k == ActionKind::kSecureSchema || k == ActionKind::kGrantAppDml; }

}  // namespace

ExecuteReport execute(const ConnectionOptions& admin, const Plan& plan, std::optional<size_t> stopAfter,
                      const std::function<void(const Action&)>& afterAction, PgConnection* adminConnection) {
  ExecuteReport report;
  if (!plan.blockers.empty()) {
    const Blocker& b = plan.blockers.front();
    report.failure = Error(ErrorCode::kFailedPrecondition, b.reason + ": " + b.message);
    if (plan.actions.empty()) return report;
  }
  std::optional<PgConnection> adminConn;
  for (const Action& a : plan.actions) {
    if (stopAfter && report.applied >= *stopAfter) break;
    const std::string what = a.describe();
    std::optional<PgConnection> dbConn;
    PgConnection* conn = nullptr;
    if (runsInServiceDatabase(a.kind)) {
      auto c = PgConnection::open(inDatabase(admin, a.database));
      if (!c.ok()) { report.failure = c.error().wrap(what); return report; }
      dbConn.emplace(std::move(c).value());
      conn = &*dbConn;
    } else {
      if (adminConnection == nullptr) {
        auto c = PgConnection::open(admin);
        if (!c.ok()) { report.failure = c.error().wrap(what); return report; }
        adminConn.emplace(std::move(c).value());
        adminConnection = &*adminConn;
      }
      conn = adminConnection;
    }
    auto sql = sqlFor(*conn, a);
    if (!sql.ok()) { report.failure = sql.error().wrap(what); return report; }
    Status st = conn->exec(*sql, what);
    if (!st.ok()) { report.failure = st.error(); return report; }
    ++report.applied;
    if (afterAction) afterAction(a);
  }
  return report;
}

Result<size_t> whichPasswordWorks(const ConnectionOptions& admin, const std::string& role,
                                  const std::vector<std::string>& candidates) {
  for (size_t i = 0; i < candidates.size(); ++i) {
    ConnectionOptions o = admin;
    o.user = role;
    o.password = candidates[i];
    auto c = PgConnection::open(o);
    // Past authentication (e.g. "permission denied for database") the password is right.
    if (c.ok() || c.error().code != ErrorCode::kPermissionDenied) {
      if (!c.ok() && c.error().code == ErrorCode::kUnavailable &&
          c.error().message.find("FATAL") == std::string::npos)
        return c.error();  // the server could not be reached at all
      return i;
    }
  }
  return notFound("no candidate password is accepted for role " + role);
}

}  // namespace sdb::engines::postgres
