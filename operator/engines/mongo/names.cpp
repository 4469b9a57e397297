#include "operator/engines/mongo/names.h"

#include <algorithm>

#include "operator/core/hash.h"

namespace sdb::engines::mongo {
namespace {

constexpr size_t kHashChars = 10;

bool plainChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

// Maps to [a-z0-9-]; reports whether anything had to change.
std::string sanitise(std::string_view in, bool& changed) {
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    if (plainChar(c)) {
      out.push_back(c);
    } else if (c >= 'A' && c <= 'Z') {
      out.push_back(static_cast<char>(c - 'A' + 'a'));
      changed = true;
    } else {
      out.push_back('-');  // '.', '_', '/', '$', NUL, non-ASCII bytes, ...
      changed = true;
    }
  }
  if (out.empty()) {
    out = "x";
    changed = true;
  }
  return out;
}

Names withUsers(std::string database) {
  return Names{database, database + "_app", database + "_migrator"};
}

}  // namespace

std::string foldCase(std::string_view name) {
  std::string out(name);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool isReservedDatabase(std::string_view name) {
  const std::string f = foldCase(name);
  return f == "admin" || f == "local" || f == "config";
}

Names derivedNames(std::string_view namespaceName, std::string_view name) {
  bool changed = false;
  std::string base = sanitise(namespaceName, changed) + "_" + sanitise(name, changed);
  if (changed || base.size() > kMaxDatabaseNameBytes) {
    // The length prefix keeps ("a/b", "c") and ("a", "b/c") apart in the hash input.
    std::string hashInput = std::to_string(namespaceName.size()) + ":" + std::string(namespaceName) + "/" +
                            std::string(name);
    base.resize(std::min(base.size(), kMaxDatabaseNameBytes - 2 - kHashChars));
    base += "__" + sha256Hex(hashInput, kHashChars);
  }
  return withUsers(std::move(base));
}

Status validateDatabaseName(std::string_view name, std::string_view field) {
  const std::string f(field);
  if (name.empty()) return invalidArgument(f + ": must not be empty");
  if (name.size() > kMaxDatabaseNameBytes)
    return invalidArgument(f + ": \"" + std::string(name.substr(0, 20)) + "...\" is " + std::to_string(name.size()) +
                           " bytes; MongoDB allows at most 63");
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) {
      // Never echo the raw byte: it may be NUL or a control character.
      return invalidArgument(f + ": may contain only letters, digits, '_' and '-' (MongoDB forbids /\\. \"$ and NUL "
                                 "in database names; servicedb allows no other punctuation either)");
    }
  }
  if (isReservedDatabase(name))
    return invalidArgument(f + ": \"" + std::string(name) + "\" is a database MongoDB reserves (admin, local, config)");
  return okStatus();
}

Result<Names> namesFor(const ServiceIdentity& id) {
  if (id.databaseName.empty()) return derivedNames(id.namespaceName, id.name);
  SDB_TRY(validateDatabaseName(id.databaseName));
  return withUsers(id.databaseName);
}

}  // namespace sdb::engines::mongo
