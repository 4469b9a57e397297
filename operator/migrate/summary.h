// The result of a migration run as one JSON line and an exit code, for the Job that runs it.
//
// Contract: pure functions, thread-safe. The summary is one JSON object on one line, printed as the
// last line of stdout (the log goes to stderr, but a pod's log mixes both): its key "type" is
// always "servicedb.io/migration-summary", so the operator can pick it out of the log tail. Fields
// (docs/migrations.md, "The summary line"):
//   result: upToDate | applied | dryRun | failed | refused
//   schemaVersion: the highest applied version after the run, or null
//   applied: [{version, description, file, transactional, durationMs}]
//   alreadyApplied: count; pending: [file] (dry run only); warnings: [text]
//   failure: {file, version, sqlstate, message, detail, hint, line, column, statement,
//             partialEffects} (a file failed); error: text (otherwise, when result is failed or refused)
// Exit codes: 0 upToDate, applied and dryRun; 1 failed; 2 refused (bad input).
#pragma once

#include <string>

#include "operator/core/json.h"
#include "operator/migrate/runner.h"

namespace sdb::migrate {

inline constexpr const char* kSummaryType = "servicedb.io/migration-summary";
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitRefused = 2;

const char* outcomeName(Outcome outcome);
int exitCodeFor(Outcome outcome);
Json summaryJson(const RunReport& report);

// A report for input refused before any connection (bad file names, duplicate versions).
RunReport refusedBeforeRunning(const std::string& error, std::vector<std::string> warnings = {});

}  // namespace sdb::migrate
