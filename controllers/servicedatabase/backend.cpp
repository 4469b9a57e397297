#include "controllers/servicedatabase/backend.h"

namespace sdb::controllers::servicedatabase {

std::string BackendRegistry::supported() const {
  std::string out;
  for (const auto& [key, backend] : backends_) {
    if (!out.empty()) out += ", ";
    out += key.first + " (" + key.second + ")";
  }
  return out.empty() ? "none" : out;
}

Problem problemFromEngineError(const Error& e, const std::string& doing) {
  const std::string message = doing + ": " + e.message;
  switch (e.code) {
    case ErrorCode::kUnavailable:
    case ErrorCode::kTimeout:
    case ErrorCode::kIO:
      return {"ServerUnreachable", message, false, true};
    case ErrorCode::kPermissionDenied:
      // Wrong admin password, or an admin without the privileges docs/engines/*.md lists: a human
      // must fix the Secret or the server; we keep retrying with backoff meanwhile.
      return {"PermissionDenied", message, true, true};
    case ErrorCode::kFailedPrecondition:
      return {"ForeignObject", message, true, true};
    case ErrorCode::kInvalidArgument:
      return {"InvalidSpec", message, true, false};
    default:
      return {"EngineError", message, false, true};
  }
}

}  // namespace sdb::controllers::servicedatabase
