// Logging set-up (spdlog). The logger is the one piece of global mutable state we allow.
//
// Contract: setupLogging() is called once by main before threads start. Format "json" writes one
// JSON object per line: {"ts","level","msg", ...structured fields}; "text" is for humans.
// Plain spdlog::info("...") calls are escaped into "msg". logStructured() adds fields (controller,
// namespace, name, reconcileID, ...). Never pass Secret data to a logger: log Secret *names* only.
// Thread-safe after set-up.
#pragma once

#include <spdlog/spdlog.h>

#include <string>
#include <utility>
#include <vector>

#include "operator/core/result.h"

namespace sdb {

struct LogOptions {
  std::string level = "info";   // trace, debug, info, warn, error, off
  std::string format = "json";  // json or text
};

Status setupLogging(const LogOptions& options);

using LogFields = std::vector<std::pair<std::string, std::string>>;

// One line with extra string fields, e.g.
// logStructured(spdlog::level::info, "reconciled", {{"controller","servicedatabase"},{"name","orders"}}).
void logStructured(spdlog::level::level_enum level, const std::string& msg, const LogFields& fields);

// Renders the JSON body that logStructured() hands to spdlog (exposed for tests).
std::string renderLogFields(const std::string& msg, const LogFields& fields);

}  // namespace sdb
