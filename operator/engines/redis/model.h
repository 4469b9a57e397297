// Desired and observed state of one ServiceDatabase's ACL user on a Redis server, and the plan
// between them.
//
// Contract: plain values, no I/O. `Desired` comes from names.h and the stored password (as its
// SHA-256, the form Redis keeps); `Observed` is what ACL GETUSER reported (parseGetUser).
// `Action`s carry the exact ACL SETUSER arguments execute sends; `describe()` never shows them
// (they hold password hashes).
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "operator/engines/engine.h"
#include "operator/engines/redis/names.h"
#include "operator/engines/redis/resp_client.h"

namespace sdb::engines::redis {

enum class Mode { kShared, kDedicated };

struct Desired {
  Names names;
  std::string ownerKey;  // "<namespace>/<name>"
  std::string uid;
  std::optional<std::string> passwordHash;  // lowercase hex SHA-256 of the stored app password
  Mode mode = Mode::kShared;
};

struct ObservedSelector {
  std::string commands, keys, channels;
};

struct ObservedUser {
  std::set<std::string> flags;           // "on"/"off", "sanitize-payload", "nopass", "allkeys", ...
  std::set<std::string> passwordHashes;  // lowercase hex SHA-256
  std::string commands;                  // e.g. "-@all +get +set"
  std::string keys;                      // e.g. "~a:orders:*"
  std::string channels;                  // e.g. "&a:orders:*"
  std::vector<ObservedSelector> selectors;
};

struct Observed {
  std::optional<ObservedUser> user;
};

// ACL GETUSER's reply (RESP2 flat map) as an ObservedUser; nil means no such user.
Result<std::optional<ObservedUser>> parseGetUser(const Reply& reply);

enum class ActionKind {
  kCreateUser,   // ACL SETUSER user reset <all rules>
  kSetRules,     // the same, for an existing user of ours whose rules or marker drifted
  kSetPassword,  // ACL SETUSER user resetpass #<hash>
  // deletion
  kDisableUser,  // ACL SETUSER user off; CLIENT KILL USER user (no new keys while we delete)
  kDeleteKeys,   // SCAN MATCH <escaped prefix>* + UNLINK, shared mode only
  kDeleteUser,   // ACL DELUSER user (closes its connections)
};

struct Action {
  ActionKind kind;
  std::string user;
  std::string prefix;              // kDeleteKeys
  std::vector<std::string> rules;  // ACL SETUSER arguments after the user name
  // kCreateUser, kSetRules: after writing the rules, execute reads the server's description of the
  // user's commands and stamps its fingerprint into this marker (a second ACL SETUSER that only
  // replaces the marker selector).
  Marker marker;
  std::string describe() const;    // safe for logs and events
};

struct Plan {
  std::vector<Action> actions;
  std::vector<Blocker> blockers;  // when non-empty in plan(), actions is empty: nothing is touched
  bool empty() const { return actions.empty() && blockers.empty(); }
  PlanSummary summary() const;
};

// The version of command_policy.h's rules: 12 hex characters of SHA-256 over them.
std::string commandRulesVersion();
// Fingerprint of the server's description of a user's commands: 16 hex characters of SHA-256 over
// its rules sorted (the server's order varies between restarts).
std::string aclFingerprint(const std::string& commandsDescription);
// The marker this ServiceDatabase's user carries, unstamped (acl "-").
Marker markerOf(const Desired& desired);
// "(~<marker> resetchannels -@all)": a selector that allows no command.
std::string markerSelector(const Marker& marker);

// The complete rule list of a service user, in ACL SETUSER order, starting with "reset":
// on, sanitize-payload, #<hash> per password, ~<prefix>*, resetchannels, &<prefix>*, the command
// rules of command_policy.h, and the unstamped marker selector.
std::vector<std::string> userRules(const Desired& desired, const std::set<std::string>& passwordHashes);

// True when `observed` already is what userRules(desired, ...) makes, passwords aside: flags, keys
// and channels compared as text, commands through the marker's stamped fingerprint (Redis prints
// them compacted into categories), and the marker for this uid and this rules version.
bool rulesMatch(const Desired& desired, const ObservedUser& observed);

// True when one of the user's selectors carries the marker of desired.ownerKey (any uid).
bool ownedBy(const ObservedUser& observed, const std::string& ownerKey);

}  // namespace sdb::engines::redis
