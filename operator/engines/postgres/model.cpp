#include "operator/engines/postgres/model.h"
#include "operator/core/text.h"

namespace sdb::engines::postgres {
namespace {
constexpr std::string_view kMarkerPrefix = "servicedb.io/owner=";
}

std::string markerFor(const std::string& ownerKey, const std::string& uid) {
  return std::string(kMarkerPrefix) + ownerKey + ";uid=" + uid;
}

bool markedFor(const std::optional<std::string>& comment, const std::string& ownerKey) {
  if (!comment) return false;
  std::string prefix = std::string(kMarkerPrefix) + ownerKey + ";uid=";
  return comment->rfind(prefix, 0) == 0;
}

std::string Action::describe() const {
  switch (kind) {
    case ActionKind::kCreateRole: return "create role " + quote(role);
    case ActionKind::kAlterRole: {
      std::string out = "alter role " + quote(role);
      for (const auto& c : clauses) out += " " + c;
      return out;
    }
    case ActionKind::kSetPassword: return "set password of role " + quote(role);
    case ActionKind::kGrantMembership: return "grant role " + quote(target) + " to " + quote(role);
    case ActionKind::kSetDefaultRole: return "set default role of " + quote(role) + " to " + quote(target);
    case ActionKind::kCommentRole: return "mark role " + quote(role) + " as ours";
    case ActionKind::kCreateDatabase: return "create database " + quote(database) + " owned by " + quote(role);
    case ActionKind::kCommentDatabase: return "mark database " + quote(database) + " as ours";
    case ActionKind::kSetDatabaseOwner: return "set owner of database " + quote(database) + " to " + quote(role);
    case ActionKind::kRestrictDatabase: return "revoke all on database " + quote(database) + " from PUBLIC";
    case ActionKind::kGrantConnect: return "grant connect on database " + quote(database) + " to " + quote(role);
    case ActionKind::kRevokeConnect: return "revoke connect on database " + quote(database) + " from " + quote(role);
    case ActionKind::kSecureSchema: return "secure schema public of " + quote(database) + " for owner " + quote(role);
    case ActionKind::kGrantAppDml: return "grant DML in " + quote(database) + " to " + quote(role);
    case ActionKind::kDropDatabase: return "drop database " + quote(database);
    case ActionKind::kDropOwned: return "drop objects owned by " + quote(role);
    case ActionKind::kDropRole: return "drop role " + quote(role);
  }
  return "unknown action";
}

PlanSummary Plan::summary() const {
  PlanSummary s;
  for (const auto& a : actions) s.actions.push_back(a.describe());
  s.blockers = blockers;
  return s;
}

}  // namespace sdb::engines::postgres
