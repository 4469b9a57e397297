#include "operator/engines/postgres/model.h"

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
  auto q = [](const std::string& s) { return "\"" + s + "\""; };
  switch (kind) {
    case ActionKind::kCreateRole: return "create role " + q(role);
    case ActionKind::kAlterRole: {
      std::string out = "alter role " + q(role);
      for (const auto& c : clauses) out += " " + c;
      return out;
    }
    case ActionKind::kSetPassword: return "set password of role " + q(role);
    case ActionKind::kGrantMembership: return "grant role " + q(target) + " to " + q(role);
    case ActionKind::kSetDefaultRole: return "set default role of " + q(role) + " to " + q(target);
    case ActionKind::kCommentRole: return "mark role " + q(role) + " as ours";
    case ActionKind::kCreateDatabase: return "create database " + q(database) + " owned by " + q(role);
    case ActionKind::kCommentDatabase: return "mark database " + q(database) + " as ours";
    case ActionKind::kSetDatabaseOwner: return "set owner of database " + q(database) + " to " + q(role);
    case ActionKind::kRestrictDatabase: return "revoke all on database " + q(database) + " from PUBLIC";
    case ActionKind::kGrantConnect: return "grant connect on database " + q(database) + " to " + q(role);
    case ActionKind::kRevokeConnect: return "revoke connect on database " + q(database) + " from " + q(role);
    case ActionKind::kSecureSchema: return "secure schema public of " + q(database) + " for owner " + q(role);
    case ActionKind::kGrantAppDml: return "grant DML in " + q(database) + " to " + q(role);
    case ActionKind::kDropDatabase: return "drop database " + q(database);
    case ActionKind::kDropOwned: return "drop objects owned by " + q(role);
    case ActionKind::kDropRole: return "drop role " + q(role);
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
