// Desired and observed state of one ServiceDatabase on a MongoDB server, and the plan between.
//
// Contract: plain values, no I/O. `Desired` comes from names.h and the stored credentials;
// `Observed` is what observe.cpp read (hello, listDatabases, the marker document, usersInfo, and
// trial logins). `Action`s carry everything commands.cpp needs to build the exact command document;
// `describe()` never shows a password.
//
// Ownership markers:
//  - a user carries `customData: {servicedb: {owner: "<ns>/<name>", uid: "<uid>"}}` (a service's own
//    users cannot change their customData: readWrite and dbAdmin lack changeOwnCustomData);
//  - the database carries the document `{_id: "owner", managedBy: "servicedb-operator", owner, uid}`
//    in its collection `_servicedb`. Inserting it is what creates the database, so a database we
//    create is never unmarked, not even after a crash (docs/engines/mongo.md says why it lives there).
// Ownership is by `<ns>/<name>`: a ServiceDatabase recreated after Retain (new uid) adopts its objects.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "operator/engines/engine.h"

namespace sdb::engines::mongo {

inline constexpr const char* kMarkerCollection = "_servicedb";
inline constexpr const char* kMarkerId = "owner";
inline constexpr const char* kMechanism = "SCRAM-SHA-256";

struct RoleRef {
  std::string role;
  std::string db;
  bool operator==(const RoleRef&) const = default;
  bool operator<(const RoleRef& o) const { return role != o.role ? role < o.role : db < o.db; }
};

struct Marker {
  std::string owner;  // "<ns>/<name>"
  std::string uid;
  bool operator==(const Marker&) const = default;
};

struct DesiredUser {
  std::string slot;  // "app" or "migration"
  std::string name;
  std::vector<RoleRef> roles;           // always on `Desired::database` only
  std::optional<std::string> password;  // from the Secret; never logged
};

struct Desired {
  std::string database;
  DesiredUser migration, app;
  std::string ownerKey;  // "<ns>/<name>"
  std::string uid;
  Marker marker() const { return Marker{ownerKey, uid}; }
};

// The roles of each slot: app gets readWrite, migration readWrite and dbAdmin, all on `database`.
Desired desiredFor(const Engine::ReconcileInput& input, const std::string& database, const std::string& appUser,
                   const std::string& migrationUser);

struct ObservedUser {
  std::string name;
  std::vector<RoleRef> roles;
  std::vector<std::string> mechanisms;
  std::optional<Marker> marker;        // from customData.servicedb
  std::optional<bool> passwordWorks;   // a trial SCRAM login with the desired password
};

struct Observed {
  bool majority = false;               // replica set member or mongos: user management with w: majority
  bool databaseExists = false;         // listed by listDatabases (MongoDB lists only databases with data)
  std::optional<Marker> databaseMarker;
  std::vector<std::string> caseVariants;  // other databases equal to ours ignoring letter case
  std::map<std::string, ObservedUser> users;  // only the users named in Desired
};

enum class ActionKind {
  kMarkDatabase,  // upsert of the marker document; creates the database when it does not exist
  kCreateUser,
  kUpdateUser,    // only the fields in `change`
  kDropUser,
  kDropDatabase,
};

struct UserChange {
  bool password = false;  // pwd + mechanisms: ["SCRAM-SHA-256"]
  bool roles = false;
  bool marker = false;
};

struct Action {
  ActionKind kind;
  std::string database;  // every command runs on the service's own database
  std::string user;
  std::vector<RoleRef> roles;
  std::optional<std::string> password;
  Marker marker;
  UserChange change;
  bool majority = false;  // writeConcern {w: "majority"}
  std::string describe() const;  // safe for logs and events
};

struct Plan {
  std::vector<Action> actions;
  std::vector<Blocker> blockers;  // from plan(): when non-empty, actions is empty
  bool empty() const { return actions.empty() && blockers.empty(); }
  PlanSummary summary() const;
};

}  // namespace sdb::engines::mongo
