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

// The ownership marker for the ACL user: "servicedb.io/owner=<ns>/<part>;uid=<uid>". It is kept as
// the key pattern of an ACL selector that allows no command, so it grants nothing
// (docs/engines/redis.md "Ownership marker").
std::string markerFor(const std::string& ownerKey, const std::string& uid);
// True when `pattern` (an observed "~..." selector key pattern, without '~') marks `ownerKey`.
bool markedFor(const std::string& pattern, const std::string& ownerKey);

// Lowercase hex SHA-256, the form Redis keeps ACL passwords in (`#<hash>`).
std::string passwordHash(std::string_view password);

}  // namespace sdb::engines::redis
