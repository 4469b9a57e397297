// Desired and observed state of one ServiceDatabase on a PostgreSQL server, and the plan between.
//
// Contract: plain values, no I/O. `Desired` is what the controller asks for (names from
// names.h, passwords already stored in a Secret); `Observed` is what observe.cpp read from the
// catalogs (pg_roles, pg_auth_members, pg_shdescription, pg_database, aclexplode, pg_namespace,
// pg_default_acl). `Action`s carry everything execute needs; `describe()` never shows a password.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "operator/engines/engine.h"

namespace sdb::engines::postgres {

enum class Mode { kShared, kDedicated };

// The comment that marks objects as ours: "servicedb.io/owner=<ns>/<name>;uid=<uid>".
// Ownership is by ServiceDatabase namespace/name (so a ServiceDatabase recreated after Retain, with
// a new uid, adopts its objects); the uid records which incarnation last wrote it.
std::string markerFor(const std::string& ownerKey, const std::string& uid);
// True when `comment` is a marker for `ownerKey` (any uid).
bool markedFor(const std::optional<std::string>& comment, const std::string& ownerKey);

struct DesiredRole {
  std::string name;
  bool login = false;
  int connectionLimit = -1;
  std::optional<std::string> password;  // cleartext from the Secret; hashed client-side
  std::optional<std::string> memberOf;  // the owner role, for the migration login
  std::optional<std::string> defaultRole;  // `ALTER ROLE .. SET role`, for the migration login
};

struct Desired {
  std::string database;
  DesiredRole owner, migration, app;
  std::string ownerKey;  // "<namespace>/<name>"
  std::string uid;       // ownership marker
  std::string adminRole;  // the role execute connects as (needs membership in owner)
  Mode mode = Mode::kShared;
  bool deferDatabase = false;  // a restore Job makes the database: plan the roles only
};

struct ObservedRole {
  std::string name;
  bool superuser = false, createdb = false, createrole = false, replication = false;
  bool bypassrls = false, inherit = true, login = false;
  int connectionLimit = -1;
  std::optional<std::string> comment;
  std::set<std::string> memberOf;  // roles this role is a member of
  std::vector<std::string> config;  // rolconfig, e.g. "role=x_owner"
  std::optional<bool> passwordWorks;  // a trial login with the desired password (read only)
};

struct ObservedSchema {
  std::string owner;
  bool publicCanCreate = false;
  bool appHasUsage = false;
  bool appMissingTableGrants = false;     // some table in public lacks app DML
  bool appMissingSequenceGrants = false;  // some sequence lacks app USAGE/SELECT
  // Database-wide `ALTER DEFAULT PRIVILEGES FOR ROLE owner ... TO app` (no IN SCHEMA), so they also
  // cover schemas that migrations create.
  bool defaultTablePrivileges = false;
  bool defaultSequencePrivileges = false;
  bool defaultSchemaPrivileges = false;  // USAGE ON SCHEMAS
};

struct ObservedDatabase {
  std::string owner;
  std::optional<std::string> comment;
  bool publicHasAny = false;           // PUBLIC holds any privilege (incl. the implicit default)
  std::set<std::string> connectGrantees;  // roles with CONNECT (excluding PUBLIC)
  std::optional<ObservedSchema> schema;   // nullopt when the database could not be entered
};

struct Observed {
  std::map<std::string, ObservedRole> roles;  // only the roles named in Desired
  std::optional<ObservedDatabase> database;
};

enum class ActionKind {
  kCreateRole,        // CREATE ROLE + COMMENT marker, one transaction
  kAlterRole,         // attributes + connection limit
  kSetPassword,       // SCRAM verifier computed client-side
  kGrantMembership,   // GRANT role TO member
  kSetDefaultRole,    // ALTER ROLE member SET role = owner
  kCommentRole,       // re-mark an adopted role with the current uid
  kCreateDatabase,    // outside a transaction
  kCommentDatabase,
  kSetDatabaseOwner,
  kRestrictDatabase,  // REVOKE ALL FROM PUBLIC
  kGrantConnect,
  kRevokeConnect,
  kSecureSchema,      // owner, REVOKE CREATE FROM PUBLIC (in the database)
  kGrantAppDml,       // tables, sequences, default privileges (in the database)
  // deletion
  kDropDatabase,      // WITH (FORCE): terminates its sessions first
  kDropOwned,         // REASSIGN OWNED BY role TO admin; DROP OWNED BY role
  kDropRole,
};

struct Action {
  ActionKind kind;
  std::string role;      // subject role (or member)
  std::string target;    // database, or the role granted
  std::string database;  // for actions run inside the service database
  DesiredRole roleSpec;  // for create/alter/password
  std::vector<std::string> clauses;  // fixed keywords for ALTER ROLE (no user data)
  std::string marker;
  std::string adminRole;
  std::string describe() const;  // safe for logs and events
};

struct Plan {
  std::vector<Action> actions;
  std::vector<Blocker> blockers;  // when non-empty, actions is empty: nothing is touched
  bool empty() const { return actions.empty() && blockers.empty(); }
  PlanSummary summary() const;
};

}  // namespace sdb::engines::postgres
