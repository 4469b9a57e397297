#include "operator/engines/mongo/model.h"
#include "operator/core/text.h"

namespace sdb::engines::mongo {

Desired desiredFor(const Engine::ReconcileInput& in, const std::string& database, const std::string& appUser,
                   const std::string& migrationUser) {
  Desired d;
  d.database = database;
  d.app = DesiredUser{"app", appUser, {{"readWrite", database}}, std::nullopt};
  d.migration = DesiredUser{"migration", migrationUser, {{"dbAdmin", database}, {"readWrite", database}}, std::nullopt};
  for (const auto& c : in.credentials) {
    if (c.role == "app") d.app.password = c.password;
    if (c.role == "migration") d.migration.password = c.password;
  }
  d.ownerKey = in.id.namespaceName + "/" + in.id.name;
  d.uid = in.id.uid;
  return d;
}

std::string Action::describe() const {
  switch (kind) {
    case ActionKind::kMarkDatabase: return "mark database " + quote(database) + " as ours";
    case ActionKind::kCreateUser: return "create user " + quote(user) + " in database " + quote(database);
    case ActionKind::kUpdateUser: {
      std::string what;
      auto add = [&](const char* w) { what += (what.empty() ? "" : ", ") + std::string(w); };
      if (change.password) add("password");
      if (change.roles) add("roles");
      if (change.marker) add("marker");
      return "update " + what + " of user " + quote(user) + " in database " + quote(database);
    }
    case ActionKind::kDropUser: return "drop user " + quote(user) + " from database " + quote(database);
    case ActionKind::kDropDatabase: return "drop database " + quote(database);
  }
  return "unknown action";
}

PlanSummary Plan::summary() const {
  PlanSummary s;
  for (const auto& a : actions) s.actions.push_back(a.describe());
  s.blockers = blockers;
  return s;
}

}  // namespace sdb::engines::mongo
