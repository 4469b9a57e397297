// `servicedb-operator migrate`: what built-in migration Jobs execute (docs/migrations.md).
//
// The connection comes from the environment, as the Job's pod gets it from the migration Secret:
// DATABASE_URL (a libpq URI or connection string) and/or libpq's own PGHOST, PGPORT, PGDATABASE,
// PGUSER, PGPASSWORD, PGSSLMODE, PGSSLROOTCERT. No secret is ever a flag or a log line. The log goes
// to stderr; the last line of stdout is the JSON summary (operator/migrate/summary.h).
#include <cstdlib>
#include <iostream>

#include "operator/core/log.h"
#include "operator/main/commands.h"
#include "operator/main/flags.h"
#include "operator/migrate/runner.h"
#include "operator/migrate/source_dir.h"
#include "operator/migrate/summary.h"
#include "operator/specs/servicedatabase.h"

namespace sdb::cli {
namespace {

std::string envOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}

int finish(const migrate::RunReport& report) {
  spdlog::default_logger()->flush();
  std::cout << dumpJson(migrate::summaryJson(report)) << std::endl;
  return migrate::exitCodeFor(report.outcome);
}

}  // namespace

int runMigrateCommand(const std::vector<std::string>& args) {
  LogOptions log;
  std::string dir, lockTimeout = "0s", connectRetry = "30s";
  migrate::RunnerOptions options;
  options.ownerRole = envOr("SERVICEDB_OWNER_ROLE", "");
  FlagSet flags("migrate");
  flags.addString("dir", &dir,
                  "directory of V<version>__<description>.sql files, e.g. a mounted ConfigMap (required)");
  flags.addString("owner-role", &options.ownerRole,
                  "role to SET before each file, so that it owns what the migrations create (default: "
                  "$SERVICEDB_OWNER_ROLE; empty: the login's default role, which the engine sets to the owner)");
  flags.addBool("dry-run", &options.dryRun, "list the files that would be applied; take no lock, write nothing");
  flags.addBool("allow-missing", &options.plan.allowMissing,
                "accept applied versions that no file has any more (a warning instead of a refusal)");
  flags.addString("lock-timeout", &lockTimeout,
                  "how long to wait for another runner's lock, as a Go duration (30s, 10m); 0s waits for ever");
  flags.addString("connect-retry", &connectRetry,
                  "keep trying to connect this long while the server refuses or cannot be reached (a new pod "
                  "may reach a NetworkPolicy a moment after it starts), as a Go duration; 0s tries once");
  flags.addString("log-level", &log.level, "trace, debug, info, warn, error or off");
  flags.addString("log-format", &log.format, "json or text");
  auto parsed = flags.parse(args);
  if (!parsed.ok()) {
    std::cerr << "servicedb-operator migrate: " << parsed.error().message << "\n";
    return 2;
  }
  if (flags.helpRequested()) {
    std::cout << "Usage: servicedb-operator migrate --dir DIR [flags]\n\n"
              << "Connection: DATABASE_URL and/or PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGSSLMODE,\n"
              << "PGSSLROOTCERT. Exit codes: 0 applied or nothing to do, 1 a migration or the server failed,\n"
              << "2 bad input (file names, a changed checksum, missing or out-of-order versions).\n\n"
              << flags.usage();
    return 0;
  }
  if (dir.empty()) {
    std::cerr << "servicedb-operator migrate: --dir is required\n";
    return 2;
  }
  auto timeout = specs::parseGoDuration(lockTimeout);
  if (!timeout.ok()) {
    std::cerr << "servicedb-operator migrate: --lock-timeout: " << timeout.error().message << "\n";
    return 2;
  }
  options.lock.waitTimeout = std::chrono::duration_cast<std::chrono::milliseconds>(*timeout);
  auto retry = specs::parseGoDuration(connectRetry);
  if (!retry.ok()) {
    std::cerr << "servicedb-operator migrate: --connect-retry: " << retry.error().message << "\n";
    return 2;
  }
  options.connectRetryFor = std::chrono::duration_cast<std::chrono::milliseconds>(*retry);
  if (auto logged = setupLogging(log); !logged.ok()) {
    std::cerr << "servicedb-operator migrate: " << logged.error().message << "\n";
    return 2;
  }
  options.conninfo = envOr("DATABASE_URL", "");

  auto loaded = migrate::loadMigrations(dir);
  if (!loaded.ok()) {
    logStructured(spdlog::level::err, "migrations refused", {{"error", loaded.error().message}});
    return finish(migrate::refusedBeforeRunning(loaded.error().message));
  }
  for (const auto& w : loaded->warnings) logStructured(spdlog::level::warn, w, {{"dir", dir}});
  migrate::RunReport report = migrate::runMigrations(loaded->files, options);
  report.warnings.insert(report.warnings.begin(), loaded->warnings.begin(), loaded->warnings.end());
  return finish(report);
}

}  // namespace sdb::cli
