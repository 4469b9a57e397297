#include "operator/migrate/runner.h"

#include "operator/core/log.h"
#include "operator/migrate/sql_text.h"

namespace sdb::migrate {
namespace {

using engines::postgres::PgConnection;
using engines::postgres::SqlDiagnostics;

constexpr std::string_view kBom = "\xEF\xBB\xBF";
constexpr const char* kActiveSqlTransaction = "25001";

// Server NOTICEs (e.g. "relation already exists, skipping") go to the log with the file they came from.
struct NoticeContext {
  std::string file;
};

void onNotice(void* arg, const char* message) {
  std::string m = message ? message : "";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  logStructured(spdlog::level::info, "server notice", {{"file", static_cast<NoticeContext*>(arg)->file}, {"notice", m}});
}

// The SQL to send: the file without a UTF-8 byte order mark, which the server would not accept.
size_t sqlStart(const MigrationFile& f) { return std::string_view(f.sql).substr(0, 3) == kBom ? 3 : 0; }

SqlDiagnostics plain(std::string message) {
  SqlDiagnostics d;
  d.message = std::move(message);
  return d;
}

class Run {
 public:
  Run(const RunnerOptions& options, PgConnection& conn)
      : o_(options), c_(conn), clock_(options.clock ? *options.clock : SystemClock::instance()) {}

  // RESET ALL and the role, so every file starts from the same session state.
  Result<void, SqlDiagnostics> prepareSession() {
    if (o_.ownerRole.empty()) return c_.run("RESET ALL; RESET ROLE");
    auto role = c_.ident(o_.ownerRole);
    if (!role.ok()) return plain(role.error().message);
    return c_.run("RESET ALL; SET ROLE " + *role);
  }

  std::optional<MigrationFailure> apply(const MigrationFile& f, int64_t* durationMs) {
    const auto started = clock_.monotonic();
    auto failed = f.transactional ? applyInTransaction(f) : applyStatements(f);
    if (failed) return failed;
    *durationMs = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.monotonic() - started).count();
    if (Status st = recordApplied(c_, f, *durationMs); !st.ok()) {
      if (c_.transactionStatus() != PQTRANS_IDLE) (void)c_.run("ROLLBACK");
      auto m = failure(f, plain(st.error().message));
      m.partialEffects = !f.transactional;
      return m;
    }
    if (!f.transactional) return std::nullopt;
    if (auto committed = c_.run("COMMIT"); !committed.ok()) return failure(f, committed.error());
    return std::nullopt;
  }

 private:
  MigrationFailure failure(const MigrationFile& f, SqlDiagnostics d) {
    MigrationFailure m;
    m.fileName = f.fileName;
    m.version = f.version.text();
    if (d.sqlstate == kActiveSqlTransaction && d.hint.empty())
      d.hint = "a statement that cannot run in a transaction needs the first line -- servicedb:transaction=false";
    m.diagnostics = std::move(d);
    return m;
  }

  std::optional<MigrationFailure> applyInTransaction(const MigrationFile& f) {
    if (auto p = prepareSession(); !p.ok()) return failure(f, p.error());
    if (auto b = c_.run("BEGIN"); !b.ok()) return failure(f, b.error());
    const size_t base = sqlStart(f);
    const std::string_view text = std::string_view(f.sql).substr(base);
    auto r = c_.run(std::string(text));
    if (!r.ok()) {
      (void)c_.run("ROLLBACK");
      auto m = failure(f, r.error());
      if (m.diagnostics.position > 0) {
        TextPosition at = locate(f.sql, base, text, m.diagnostics.position);
        m.line = at.line;
        m.column = at.column;
      }
      return m;
    }
    if (c_.transactionStatus() != PQTRANS_INTRANS) {
      if (c_.transactionStatus() != PQTRANS_IDLE) (void)c_.run("ROLLBACK");
      auto m = failure(f, plain("the file ended the transaction itself (COMMIT or ROLLBACK in a transactional file); "
                                "what it did up to there may have taken effect. Remove it, or make the file "
                                "non-transactional"));
      m.partialEffects = true;
      return m;
    }
    return std::nullopt;
  }

  std::optional<MigrationFailure> applyStatements(const MigrationFile& f) {
    const size_t base = sqlStart(f);
    auto statements = splitStatements(std::string_view(f.sql).substr(base));
    if (!statements.ok()) return failure(f, plain(statements.error().message));
    if (auto p = prepareSession(); !p.ok()) return failure(f, p.error());
    for (size_t i = 0; i < statements->size(); ++i) {
      const Statement& s = (*statements)[i];
      auto r = c_.run(s.sql);
      if (r.ok()) continue;
      if (c_.transactionStatus() != PQTRANS_IDLE) (void)c_.run("ROLLBACK");
      auto m = failure(f, r.error());
      m.statement = static_cast<int>(i + 1);
      m.partialEffects = i > 0;
      TextPosition at{s.line, 0};  // column unknown without a position
      if (m.diagnostics.position > 0) at = locate(f.sql, base + s.offset, s.sql, m.diagnostics.position);
      m.line = at.line;
      m.column = at.column;
      return m;
    }
    if (c_.transactionStatus() != PQTRANS_IDLE) {
      (void)c_.run("ROLLBACK");
      auto m = failure(f, plain("the file left a transaction open (BEGIN without COMMIT); it was rolled back"));
      m.partialEffects = true;
      return m;
    }
    return std::nullopt;
  }

  const RunnerOptions& o_;
  PgConnection& c_;
  Clock& clock_;
};

void warn(RunReport& report, const std::string& message) {
  logStructured(spdlog::level::warn, message, {});
  report.warnings.push_back(message);
}

RunReport failedWith(RunReport report, Outcome outcome, const std::string& error) {
  report.outcome = outcome;
  report.error = error;
  logStructured(spdlog::level::err, outcome == Outcome::kRefused ? "migrations refused" : "migrations failed",
                {{"error", error}});
  return report;
}

}  // namespace

RunReport runMigrations(const std::vector<MigrationFile>& files, const RunnerOptions& options) {
  RunReport report;
  Clock& clock = options.clock ? *options.clock : SystemClock::instance();
  NoticeContext notices;  // outlives the connection, which points at it
  auto conn = PgConnection::openConninfo(options.conninfo, "servicedb-operator migrate");
  const auto connectStart = clock.monotonic();
  for (int attempt = 1; !conn.ok() && conn.error().code == ErrorCode::kUnavailable &&
                        clock.monotonic() - connectStart < options.connectRetryFor;
       ++attempt) {
    if (attempt == 1) {
      logStructured(spdlog::level::warn, "cannot connect yet; trying again",
                    {{"error", conn.error().message},
                     {"for", std::to_string(options.connectRetryFor.count() / 1000) + "s"}});
    }
    clock.sleepFor(std::chrono::seconds(1));
    conn = PgConnection::openConninfo(options.conninfo, "servicedb-operator migrate");
  }
  if (!conn.ok()) return failedWith(report, Outcome::kFailed, conn.error().message);
  PQsetNoticeProcessor(conn->raw(), onNotice, &notices);
  Run run(options, *conn);

  if (auto p = run.prepareSession(); !p.ok()) {
    std::string what = options.ownerRole.empty() ? "RESET ROLE" : "SET ROLE " + options.ownerRole;
    return failedWith(report, Outcome::kFailed, "cannot " + what + ": " + p.error().message);
  }
  auto who = conn->query("SELECT session_user, current_user", {}, "reading the session's roles");
  if (!who.ok()) return failedWith(report, Outcome::kFailed, who.error().message);
  const std::string login = who->front()[0].value_or(""), role = who->front()[1].value_or("");
  logStructured(spdlog::level::info, "connected", {{"server", conn->describe()}, {"role", role}});
  if (options.ownerRole.empty() && login == role)
    warn(report, "objects will be owned by the login " + login +
                     " itself: no --owner-role was given and the login has no default role; the app's default "
                     "privileges (granted for the owner role) will not apply to them");

  if (!options.dryRun) {
    Status locked = acquireMigrationLock(*conn, clock, options.lock, [](const std::string& holder) {
      logStructured(spdlog::level::info, "waiting for the migration lock", {{"holderPid", holder}});
    });
    if (!locked.ok()) return failedWith(report, Outcome::kFailed, locked.error().message);
    if (options.afterLock) options.afterLock();
    auto created = ensureHistoryTable(*conn);
    if (!created.ok()) return failedWith(report, Outcome::kFailed, created.error().message);
    if (*created) logStructured(spdlog::level::info, "created the history table", {{"table", kHistoryTable}});
  }
  auto history = readHistory(*conn);
  if (!history.ok()) return failedWith(report, Outcome::kFailed, history.error().message);
  auto plan = planMigrations(files, *history, options.plan);
  if (!plan.ok()) return failedWith(report, Outcome::kRefused, plan.error().message);
  for (const auto& w : plan->warnings) warn(report, w);
  report.alreadyApplied = plan->alreadyApplied;
  if (plan->highestApplied) report.schemaVersion = plan->highestApplied->text();

  if (options.dryRun) {
    for (const auto& f : plan->pending) report.pending.push_back(f.fileName);
    report.outcome = Outcome::kDryRun;
    return report;
  }
  for (const MigrationFile& f : plan->pending) {
    notices.file = f.fileName;
    logStructured(spdlog::level::info, "applying",
                  {{"file", f.fileName}, {"version", f.version.text()}, {"transactional", f.transactional ? "true" : "false"}});
    int64_t durationMs = 0;
    if (auto failed = run.apply(f, &durationMs)) {
      const auto& d = failed->diagnostics;
      logStructured(spdlog::level::err, "migration failed",
                    {{"file", f.fileName}, {"sqlstate", d.sqlstate}, {"error", d.message}, {"line", std::to_string(failed->line)}});
      report.failure = std::move(*failed);
      report.outcome = Outcome::kFailed;
      return report;
    }
    logStructured(spdlog::level::info, "applied", {{"file", f.fileName}, {"durationMs", std::to_string(durationMs)}});
    report.applied.push_back({f.version.text(), f.description, f.fileName, f.transactional, durationMs});
    report.schemaVersion = f.version.text();
  }
  report.outcome = report.applied.empty() ? Outcome::kUpToDate : Outcome::kApplied;
  return report;
}

}  // namespace sdb::migrate
