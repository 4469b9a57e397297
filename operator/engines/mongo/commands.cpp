#include "operator/engines/mongo/commands.h"

namespace sdb::engines::mongo {
namespace {

Bson rolesArrayItem(const RoleRef& r) { return Bson().utf8("role", r.role).utf8("db", r.db); }

void appendRoles(Bson& b, const std::vector<RoleRef>& roles) {
  std::vector<Bson> items;
  for (const auto& r : roles) items.push_back(rolesArrayItem(r));
  b.documentArray("roles", items);
}

Bson customData(const Marker& m) {
  return Bson().document("servicedb", Bson().utf8("owner", m.owner).utf8("uid", m.uid));
}

void appendWriteConcern(Bson& b, bool majority) {
  // On a standalone server the default (w: 1) is all there is; on a replica set or through mongos
  // user management waits for a majority, so a failover cannot lose a user or a password change.
  if (majority) b.document("writeConcern", Bson().utf8("w", "majority").int32("wtimeout", kWriteConcernTimeoutMs));
}

}  // namespace

Command helloCommand() { return {"admin", Bson().int32("hello", 1)}; }
Command listDatabasesCommand() { return {"admin", Bson().int32("listDatabases", 1).boolean("nameOnly", true)}; }
Command buildInfoCommand() { return {"admin", Bson().int32("buildInfo", 1)}; }
Command pingCommand(const std::string& database) { return {database, Bson().int32("ping", 1)}; }
Command rotateCertificatesCommand() { return {"admin", Bson().int32("rotateCertificates", 1)}; }

Command findMarkerCommand(const std::string& database) {
  return {database, Bson()
                        .utf8("find", kMarkerCollection)
                        .document("filter", Bson().utf8("_id", kMarkerId))
                        .int32("limit", 1)
                        .boolean("singleBatch", true)};
}

Command usersInfoCommand(const std::string& database, const std::vector<std::string>& users) {
  std::vector<Bson> items;
  for (const auto& u : users) items.push_back(Bson().utf8("user", u).utf8("db", database));
  return {database, Bson().documentArray("usersInfo", items)};
}

Command commandFor(const Action& a) {
  Bson b;
  switch (a.kind) {
    case ActionKind::kMarkDatabase: {
      Bson replacement = Bson()
                             .utf8("_id", kMarkerId)
                             .utf8("managedBy", "servicedb-operator")
                             .utf8("owner", a.marker.owner)
                             .utf8("uid", a.marker.uid);
      Bson update = Bson()
                        .document("q", Bson().utf8("_id", kMarkerId))
                        .document("u", replacement)
                        .boolean("upsert", true);
      b.utf8("update", kMarkerCollection).documentArray("updates", {update}).boolean("ordered", true);
      break;
    }
    case ActionKind::kCreateUser:
      b.utf8("createUser", a.user).utf8("pwd", a.password.value_or(""));
      b.document("customData", customData(a.marker));
      appendRoles(b, a.roles);
      b.stringArray("mechanisms", {kMechanism});
      break;
    case ActionKind::kUpdateUser:
      b.utf8("updateUser", a.user);
      if (a.change.password) {
        b.utf8("pwd", a.password.value_or(""));
        b.stringArray("mechanisms", {kMechanism});
      }
      if (a.change.roles) appendRoles(b, a.roles);
      if (a.change.marker) b.document("customData", customData(a.marker));
      break;
    case ActionKind::kDropUser:
      b.utf8("dropUser", a.user);
      break;
    case ActionKind::kDropDatabase:
      b.int32("dropDatabase", 1);
      break;
  }
  appendWriteConcern(b, a.majority);
  return {a.database, std::move(b)};
}

}  // namespace sdb::engines::mongo
