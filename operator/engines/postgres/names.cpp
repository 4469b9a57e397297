#include "operator/engines/postgres/names.h"

#include "operator/core/hash.h"

namespace sdb::engines::postgres {
namespace {

constexpr std::string_view kOwnerSuffix = "_owner";
constexpr std::string_view kMigrationSuffix = "_migrator";
constexpr std::string_view kAppSuffix = "_app";
constexpr size_t kLongestSuffix = kMigrationSuffix.size();
constexpr size_t kHashChars = 10;

bool plainChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'; }

// Maps to [a-z0-9.-]; reports whether anything had to change.
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
      out.push_back('-');
      changed = true;
    }
  }
  if (out.empty()) {
    out = "x";
    changed = true;
  }
  return out;
}

}  // namespace

std::string shortHash(std::string_view data, size_t hexChars) { return sdb::sha256Hex(data, hexChars); }

Names deriveNames(std::string_view namespaceName, std::string_view name) {
  bool changed = false;
  std::string base = sanitise(namespaceName, changed) + "_" + sanitise(name, changed);
  if (base.rfind("pg", 0) == 0 && base.size() > 2 && base[2] == '_') {
    base = "s" + base;  // "pg_" is reserved for roles
    changed = true;
  }
  const size_t budget = kMaxIdentifierBytes - kLongestSuffix;
  if (changed || base.size() > budget) {
    std::string raw = std::string(namespaceName) + "/" + std::string(name);
    // The length prefix keeps ("a/b", "c") and ("a", "b/c") apart in the hash input.
    std::string hashInput = std::to_string(namespaceName.size()) + ":" + raw;
    // "__" never occurs in a plain name (its parts are non-empty and have no '_'), so a hashed
    // name can never equal a plain one, even when the cut removed the separator.
    base.resize(std::min(base.size(), budget - 2 - kHashChars));
    base += "__" + shortHash(hashInput, kHashChars);
  }
  return Names{base, base + std::string(kOwnerSuffix), base + std::string(kMigrationSuffix),
               base + std::string(kAppSuffix)};
}

}  // namespace sdb::engines::postgres
