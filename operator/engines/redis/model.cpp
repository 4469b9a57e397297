#include "operator/engines/redis/model.h"

#include <sstream>

#include "operator/engines/redis/command_policy.h"

namespace sdb::engines::redis {
namespace {

Result<std::set<std::string>> stringSet(const Reply* r, const char* field) {
  std::set<std::string> out;
  if (r == nullptr) return out;
  if (r->type != Reply::Type::kArray) return invalidArgument(std::string("ACL GETUSER: \"") + field + "\" is not a list");
  for (const auto& e : r->elements) out.insert(e.str);
  return out;
}

std::string stringField(const Reply& map, const char* field) {
  const Reply* r = map.field(field);
  return r == nullptr ? "" : r->str;
}

}  // namespace

Result<std::optional<ObservedUser>> parseGetUser(const Reply& reply) {
  if (reply.isNil()) return std::optional<ObservedUser>();
  if (reply.type != Reply::Type::kArray) return invalidArgument("ACL GETUSER: unexpected reply type");
  ObservedUser u;
  auto flags = stringSet(reply.field("flags"), "flags");
  if (!flags.ok()) return flags.error();
  u.flags = *flags;
  auto passwords = stringSet(reply.field("passwords"), "passwords");
  if (!passwords.ok()) return passwords.error();
  u.passwordHashes = *passwords;
  u.commands = stringField(reply, "commands");
  u.keys = stringField(reply, "keys");
  u.channels = stringField(reply, "channels");
  if (const Reply* sel = reply.field("selectors"); sel != nullptr) {
    if (sel->type != Reply::Type::kArray) return invalidArgument("ACL GETUSER: \"selectors\" is not a list");
    for (const auto& s : sel->elements)
      u.selectors.push_back({stringField(s, "commands"), stringField(s, "keys"), stringField(s, "channels")});
  }
  return std::optional<ObservedUser>(std::move(u));
}

std::string commandRulesVersion() {
  std::string all;
  for (const auto& r : serviceUserCommandRules()) all += r + " ";
  return passwordHash(all).substr(0, 12);
}

std::string aclFingerprint(const std::string& commandsDescription) {
  // Redis lists the exceptions in its command table's hash order, which changes from one server
  // process to the next: fingerprint the sorted rules, which do not.
  std::set<std::string> rules;
  std::istringstream in(commandsDescription);
  for (std::string r; in >> r;) rules.insert(r);
  std::string canonical;
  for (const auto& r : rules) canonical += r + " ";
  return passwordHash(canonical).substr(0, 16);
}

Marker markerOf(const Desired& d) { return Marker{d.ownerKey, d.uid, commandRulesVersion(), "-"}; }

std::string markerSelector(const Marker& m) { return "(~" + formatMarker(m) + " resetchannels -@all)"; }

std::vector<std::string> userRules(const Desired& d, const std::set<std::string>& passwordHashes) {
  const std::string pattern = globEscape(d.names.prefix) + "*";
  std::vector<std::string> r = {"reset", "on", "sanitize-payload"};
  for (const auto& h : passwordHashes) r.push_back("#" + h);
  r.push_back("~" + pattern);
  r.push_back("resetchannels");
  r.push_back("&" + pattern);
  for (auto& c : serviceUserCommandRules()) r.push_back(std::move(c));
  r.push_back(markerSelector(markerOf(d)));
  return r;
}

bool rulesMatch(const Desired& d, const ObservedUser& o) {
  const std::string pattern = globEscape(d.names.prefix) + "*";
  if (o.flags != std::set<std::string>{"on", "sanitize-payload"}) return false;
  if (o.keys != "~" + pattern || o.channels != "&" + pattern) return false;
  if (o.selectors.size() != 1) return false;
  const ObservedSelector& s = o.selectors.front();
  if (s.commands != "-@all" || !s.channels.empty() || s.keys.empty() || s.keys[0] != '~') return false;
  auto m = parseMarker(std::string_view(s.keys).substr(1));
  return m && m->ownerKey == d.ownerKey && m->uid == d.uid && m->rules == commandRulesVersion() &&
         m->acl == aclFingerprint(o.commands);
}

bool ownedBy(const ObservedUser& o, const std::string& ownerKey) {
  for (const auto& s : o.selectors)
    if (s.keys.size() > 1 && s.keys[0] == '~' && markedFor(s.keys.substr(1), ownerKey)) return true;
  return false;
}

std::string Action::describe() const {
  const std::string u = "ACL user \"" + user + "\"";
  switch (kind) {
    case ActionKind::kCreateUser: return "create " + u;
    case ActionKind::kSetRules: return "set the rules of " + u;
    case ActionKind::kSetPassword: return "set the password of " + u;
    case ActionKind::kDisableUser: return "disable " + u + " and close its connections";
    case ActionKind::kDeleteKeys: return "delete the keys under \"" + prefix + "\"";
    case ActionKind::kDeleteUser: return "delete " + u;
  }
  return "unknown action";
}

PlanSummary Plan::summary() const {
  PlanSummary s;
  for (const auto& a : actions) s.actions.push_back(a.describe());
  s.blockers = blockers;
  return s;
}

}  // namespace sdb::engines::redis
