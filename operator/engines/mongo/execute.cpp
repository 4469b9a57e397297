#include "operator/engines/mongo/execute.h"

#include "operator/engines/mongo/commands.h"
#include "operator/engines/mongo/names.h"

namespace sdb::engines::mongo {
namespace {

std::optional<std::string> str(const Json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::optional<Marker> markerFrom(const Json* j) {
  if (j == nullptr) return std::nullopt;
  auto owner = str(*j, "owner");
  auto uid = str(*j, "uid");
  if (!owner || !uid) return std::nullopt;
  return Marker{*owner, *uid};
}

}  // namespace

Result<std::vector<std::string>> parseListDatabases(const Json& reply) {
  const Json* dbs = jsonAt(reply, {"databases"});
  if (dbs == nullptr || !dbs->is_array()) return internalError("listDatabases reply has no databases array");
  std::vector<std::string> out;
  for (const auto& d : *dbs)
    if (auto n = str(d, "name")) out.push_back(*n);
  return out;
}

bool parseHelloMajority(const Json& reply) {
  // A replica set member reports setName; mongos reports msg: "isdbgrid". Both take w: "majority".
  return str(reply, "setName").has_value() || str(reply, "msg") == std::optional<std::string>("isdbgrid");
}

std::optional<Marker> parseMarkerReply(const Json& reply) {
  const Json* batch = jsonAt(reply, {"cursor"});
  if (batch == nullptr || !batch->contains("firstBatch") || !(*batch)["firstBatch"].is_array() ||
      (*batch)["firstBatch"].empty())
    return std::nullopt;
  return markerFrom(&(*batch)["firstBatch"][0]);
}

Result<std::map<std::string, ObservedUser>> parseUsersInfo(const Json& reply, const std::string& database) {
  const Json* users = jsonAt(reply, {"users"});
  if (users == nullptr || !users->is_array()) return internalError("usersInfo reply has no users array");
  std::map<std::string, ObservedUser> out;
  for (const auto& u : *users) {
    auto name = str(u, "user");
    if (!name || str(u, "db") != std::optional<std::string>(database)) continue;
    ObservedUser o;
    o.name = *name;
    if (auto it = u.find("roles"); it != u.end() && it->is_array())
      for (const auto& r : *it) o.roles.push_back(RoleRef{str(r, "role").value_or(""), str(r, "db").value_or("")});
    if (auto it = u.find("mechanisms"); it != u.end() && it->is_array())
      for (const auto& m : *it)
        if (m.is_string()) o.mechanisms.push_back(m.get<std::string>());
    o.marker = markerFrom(jsonAt(u, {"customData", "servicedb"}));
    out[o.name] = std::move(o);
  }
  return out;
}

Result<Observed> observe(AdminChannel& ch, const Desired& d) {
  Observed o;
  auto hello = ch.run(helloCommand(), "asking the server for its topology (hello)");
  if (!hello.ok()) return hello.error();
  o.majority = parseHelloMajority(*hello);

  auto list = ch.run(listDatabasesCommand(), "listing databases");
  if (!list.ok()) return list.error();
  auto names = parseListDatabases(*list);
  if (!names.ok()) return names.error();
  const std::string folded = foldCase(d.database);
  for (const auto& n : *names) {
    if (n == d.database) o.databaseExists = true;
    else if (foldCase(n) == folded) o.caseVariants.push_back(n);
  }
  if (o.databaseExists) {
    auto found = ch.run(findMarkerCommand(d.database), "reading the marker of database \"" + d.database + "\"");
    if (!found.ok()) return found.error();
    o.databaseMarker = parseMarkerReply(*found);
  }

  auto info = ch.run(usersInfoCommand(d.database, {d.migration.name, d.app.name}),
                     "reading users of database \"" + d.database + "\"");
  if (!info.ok()) return info.error();
  auto users = parseUsersInfo(*info, d.database);
  if (!users.ok()) return users.error();
  o.users = std::move(*users);
  for (const DesiredUser* u : {&d.migration, &d.app}) {
    auto it = o.users.find(u->name);
    if (it == o.users.end() || !u->password || !it->second.marker || it->second.marker->owner != d.ownerKey) continue;
    auto works = ch.tryLogin(d.database, u->name, *u->password);
    if (!works.ok()) return works.error();
    it->second.passwordWorks = *works;
  }
  return o;
}

ExecuteReport execute(AdminChannel& ch, const Plan& plan, std::optional<size_t> stopAfter) {
  ExecuteReport report;
  if (!plan.blockers.empty()) {
    const Blocker& b = plan.blockers.front();
    report.failure = Error(ErrorCode::kFailedPrecondition, b.reason + ": " + b.message);
    if (plan.actions.empty()) return report;
  }
  for (const Action& a : plan.actions) {
    if (stopAfter && report.applied >= *stopAfter) break;
    auto r = ch.run(commandFor(a), a.describe());
    if (!r.ok() && !(a.kind == ActionKind::kDropUser && r.error().code == ErrorCode::kNotFound)) {
      report.failure = r.error();
      return report;
    }
    ++report.applied;
  }
  return report;
}

Result<size_t> whichPasswordWorks(AdminChannel& ch, const std::string& database, const std::string& user,
                                  const std::vector<std::string>& candidates) {
  for (size_t i = 0; i < candidates.size(); ++i) {
    auto works = ch.tryLogin(database, user, candidates[i]);
    if (!works.ok()) return works.error();
    if (*works) return i;
  }
  return notFound("no candidate password is accepted for user " + user + " in database " + database);
}

}  // namespace sdb::engines::mongo
