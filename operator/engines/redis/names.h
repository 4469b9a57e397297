// Deterministic, namespace-aware Redis names for one ServiceDatabase: the key prefix, the ACL user
// and the ownership marker.
//
// Contract: pure functions, thread-safe.
//  - prefix = "<namespace>:<part>:", user = "<namespace>.<part>", where part is the
//    ServiceDatabase's name (or spec.databaseName).
//  - Inputs are validated, never sanitised: the namespace must be a DNS-1123 label and the part
//    may hold only [a-z0-9._-] (Kubernetes names and spec.databaseName fit). So no part contains
//    ':', the glob characters '*', '?', '[', ']', '\', spaces, control characters or anything
//    else that could widen an ACL pattern or split an ACL file line. Anything else is an
//    InvalidArgument naming the field.
//  - No tenant's prefix is a prefix of another's: parts hold no ':', and the prefix ends with ':'
//    (property-tested in tests/unit/engines/redis/names_test.cpp). The same holds for user names
//    (namespaces hold no '.'), so distinct ServiceDatabases never share a prefix or a user.
//  - Nothing of ours starts with the operator's reserved namespace "servicedb.io" (namespaces hold
//    no '.'), which is where the marker pattern lives.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "operator/core/result.h"

namespace sdb::engines::redis {

struct Names {
  std::string prefix;  // "<ns>:<part>:"; the user's keys and channels are "<prefix>*"
  std::string user;    // "<ns>.<part>"
};

Result<Names> deriveNames(std::string_view namespaceName, std::string_view part,
                          std::string_view partField = "metadata.name");

// Checks a whole prefix as deriveNames makes it (for --key-prefix flags).
Status validatePrefix(std::string_view prefix, std::string_view field);

// The ServiceDatabase uid as it may appear in a marker: [A-Za-z0-9-], 1 to 128 characters.
Status validateUid(std::string_view uid);

// Escapes the glob characters of Redis' stringmatch (* ? [ ] \) so `s` matches only itself.
std::string globEscape(std::string_view s);

// The ownership marker of an ACL user, kept as the key pattern of an ACL selector that allows no
// command, so it grants nothing (docs/engines/redis.md "Ownership marker"):
//   "servicedb.io/owner=<ns>/<name>;uid=<uid>;rules=<version>;acl=<fingerprint>"
// `rules` names the command rules it was written with (command_policy.h), `acl` fingerprints the
// server's own description of the user's commands right after writing them ("-" until stamped), so
// a later change by anyone shows up as a mismatch without the operator parsing Redis' compacted
// description.
struct Marker {
  std::string ownerKey;  // "<ns>/<name>"
  std::string uid;
  std::string rules = "-";
  std::string acl = "-";
};
std::string formatMarker(const Marker& marker);
// Parses a marker pattern (without the leading '~'); nullopt when it is not one.
std::optional<Marker> parseMarker(std::string_view pattern);
// True when `pattern` is a marker for `ownerKey` (any uid).
bool markedFor(std::string_view pattern, const std::string& ownerKey);

// Lowercase hex SHA-256, the form Redis keeps ACL passwords in (`#<hash>`).
std::string passwordHash(std::string_view password);

}  // namespace sdb::engines::redis
