#include "operator/engines/redis/names.h"

#include <cstdio>

#include "operator/core/hash.h"

namespace sdb::engines::redis {
namespace {

constexpr std::string_view kMarkerPrefix = "servicedb.io/owner=";

bool lowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

std::string shown(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 80)) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char b[5];
      std::snprintf(b, sizeof b, "\\x%02x", static_cast<unsigned char>(c));
      out += b;
    } else {
      out.push_back(c);
    }
  }
  return "\"" + out + (s.size() > 80 ? "...\"" : "\"");
}

Status validateNamespace(std::string_view ns) {
  if (ns.empty() || ns.size() > 63)
    return invalidArgument("metadata.namespace: " + shown(ns) + " must be 1 to 63 characters");
  for (char c : ns)
    if (!lowerAlnum(c) && c != '-')
      return invalidArgument("metadata.namespace: " + shown(ns) +
                             " may only contain lowercase letters, digits and '-' (a DNS-1123 label)");
  if (ns.front() == '-' || ns.back() == '-')
    return invalidArgument("metadata.namespace: " + shown(ns) + " must start and end with a letter or digit");
  return okStatus();
}

Status validatePart(std::string_view part, std::string_view field) {
  const std::string f(field);
  if (part.empty() || part.size() > 253) return invalidArgument(f + ": " + shown(part) + " must be 1 to 253 characters");
  for (char c : part)
    if (!lowerAlnum(c) && c != '-' && c != '.' && c != '_')
      return invalidArgument(f + ": " + shown(part) +
                             " may only contain lowercase letters, digits, '.', '-' and '_' in a Redis key prefix "
                             "(never ':', '*', '?', '[', ']', spaces or control characters)");
  return okStatus();
}

}  // namespace

Result<Names> deriveNames(std::string_view ns, std::string_view part, std::string_view partField) {
  SDB_TRY(validateNamespace(ns));
  SDB_TRY(validatePart(part, partField));
  std::string n(ns), p(part);
  return Names{n + ":" + p + ":", n + "." + p};
}

Status validatePrefix(std::string_view prefix, std::string_view field) {
  const std::string f(field);
  auto first = prefix.find(':');
  if (first == std::string_view::npos || prefix.size() < 4 || prefix.back() != ':')
    return invalidArgument(f + ": " + shown(prefix) + " must look like \"<namespace>:<name>:\"");
  std::string_view part = prefix.substr(first + 1, prefix.size() - first - 2);
  if (part.find(':') != std::string_view::npos)
    return invalidArgument(f + ": " + shown(prefix) + " must have exactly two parts, \"<namespace>:<name>:\"");
  if (auto s = validateNamespace(prefix.substr(0, first)); !s.ok()) return s.error().wrap(f);
  return validatePart(part, f);
}

Status validateUid(std::string_view uid) {
  if (uid.empty() || uid.size() > 128) return invalidArgument("metadata.uid: " + shown(uid) + " must be 1 to 128 characters");
  for (char c : uid)
    if (!lowerAlnum(c) && !(c >= 'A' && c <= 'Z') && c != '-')
      return invalidArgument("metadata.uid: " + shown(uid) + " may only contain letters, digits and '-'");
  return okStatus();
}

std::string globEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string formatMarker(const Marker& m) {
  return std::string(kMarkerPrefix) + m.ownerKey + ";uid=" + m.uid + ";rules=" + m.rules + ";acl=" + m.acl;
}

std::optional<Marker> parseMarker(std::string_view pattern) {
  if (pattern.substr(0, kMarkerPrefix.size()) != kMarkerPrefix) return std::nullopt;
  std::string_view rest = pattern.substr(kMarkerPrefix.size());
  Marker m;
  auto uid = rest.find(";uid=");
  if (uid == std::string_view::npos) return std::nullopt;
  m.ownerKey = std::string(rest.substr(0, uid));
  rest = rest.substr(uid + 5);
  auto take = [&](std::string_view key, std::string& out) {
    auto at = rest.find(key);
    if (at == std::string_view::npos) return false;
    out = std::string(rest.substr(at + key.size(), rest.find(';', at + key.size()) - at - key.size()));
    rest = rest.substr(0, at);
    return true;
  };
  if (!take(";acl=", m.acl) || !take(";rules=", m.rules)) return std::nullopt;
  m.uid = std::string(rest);
  return m;
}

bool markedFor(std::string_view pattern, const std::string& ownerKey) {
  auto m = parseMarker(pattern);
  return m && m->ownerKey == ownerKey;
}

std::string passwordHash(std::string_view password) { return sha256Hex(password); }

}  // namespace sdb::engines::redis
