// What a failed migration Job's pod log contributes to the MigrationsApplied condition: the
// built-in runner's summary line as a sentence, and the log's last lines, at most ~1 KiB. Never a
// secret: the text goes to status, which many more people may read than the Secret.
//
// - Only the log's last 64 KiB are looked at (a tool that logs megabytes costs nothing more).
// - Redaction comes before cutting, so no prefix of a secret survives at the cut:
//   every known secret value (the passwords the ServiceDatabase's Secrets hold, current and
//   pending) becomes "<redacted>", and so does the password of any URI with user information
//   (scheme://user:password@host, as a tool may print DATABASE_URL).
// - The result is valid UTF-8 without control characters other than newline and tab (invalid bytes
//   become '?'), as a JSON string in status must be.
//
// Contract: pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace sdb::controllers::servicedatabase {

// The `type` of the built-in runner's summary line (operator/migrate/summary.h, kSummaryType).
inline constexpr const char* kMigrationSummaryType = "servicedb.io/migration-summary";
inline constexpr size_t kMaxLogTailBytes = 1024;

std::string redactSecrets(std::string text, const std::vector<std::string>& secrets);
std::string sanitizeText(const std::string& text);

// "V3__audit.sql failed: SQLSTATE 42P01: relation \"x\" does not exist (line 4, column 47)" from
// the last summary line of a failed or refused run; "" when the log has none (image mode).
std::string describeMigrationSummary(const std::string& log);

// The condition's text for a failed pod's log: the summary sentence (if any), then "log tail:" and
// the last lines within maxTailBytes (cut at a line start when one is near), redacted and sanitized.
std::string migrationLogReport(const std::string& log, const std::vector<std::string>& secrets,
                               size_t maxTailBytes = kMaxLogTailBytes);

}  // namespace sdb::controllers::servicedatabase
