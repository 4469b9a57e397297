#include "operator/engines/redis/execute.h"

namespace sdb::engines::redis {
namespace {

bool changesAcl(ActionKind k) { return k != ActionKind::kDeleteKeys; }

Status run(RespClient& admin, const Action& a, const ExecuteOptions& opts) {
  const std::string what = a.describe();
  switch (a.kind) {
    case ActionKind::kCreateUser:
    case ActionKind::kSetRules:
    case ActionKind::kSetPassword:
    case ActionKind::kDisableUser: {
      std::vector<std::string> argv = {"ACL", "SETUSER", a.user};
      argv.insert(argv.end(), a.rules.begin(), a.rules.end());
      auto r = admin.call(argv, what);
      if (!r.ok()) return r.error();
      if (a.kind == ActionKind::kDisableUser) {
        // An "off" user's authenticated connections stay open: close them.
        auto k = admin.call({"CLIENT", "KILL", "USER", a.user}, what);
        if (!k.ok()) return k.error();
      }
      if (a.kind == ActionKind::kCreateUser || a.kind == ActionKind::kSetRules) {
        // Stamp the marker with the fingerprint of how the server now describes the commands.
        auto got = admin.call({"ACL", "GETUSER", a.user}, what);
        if (!got.ok()) return got.error();
        const Reply* commands = got->field("commands");
        if (commands == nullptr) return internalError(what + ": ACL GETUSER shows no commands");
        Marker stamped = a.marker;
        stamped.acl = aclFingerprint(commands->str);
        auto s = admin.call({"ACL", "SETUSER", a.user, "clearselectors", markerSelector(stamped)}, what);
        if (!s.ok()) return s.error();
      }
      return okStatus();
    }
    case ActionKind::kDeleteKeys: {
      auto n = deleteKeysWithPrefix(admin, a.prefix, opts.scanCount);
      if (!n.ok()) return n.error().wrap(what);
      return okStatus();
    }
    case ActionKind::kDeleteUser: {
      auto r = admin.call({"ACL", "DELUSER", a.user}, what);
      if (!r.ok()) return r.error();
      return okStatus();
    }
  }
  return internalError("unknown action");
}

Status saveAcl(RespClient& admin) {
  auto r = admin.command({"ACL", "SAVE"});
  if (!r.ok()) return r.error().wrap("ACL SAVE");
  if (r->isError() && r->str.find("not configured to use an ACL file") == std::string::npos)
    return errorFromReply("ACL SAVE", *r);
  return okStatus();
}

}  // namespace

Result<Observed> observe(RespClient& admin, const Desired& d) {
  auto r = admin.call({"ACL", "GETUSER", d.names.user}, "reading ACL user \"" + d.names.user + "\"");
  if (!r.ok()) return r.error();
  auto user = parseGetUser(*r);
  if (!user.ok()) return user.error();
  return Observed{*user};
}

ExecuteReport execute(RespClient& admin, const Plan& plan, const ExecuteOptions& opts) {
  ExecuteReport report;
  bool aclChanged = false;
  for (const auto& a : plan.actions) {
    if (opts.stopAfter && report.applied >= *opts.stopAfter) return report;
    if (auto s = run(admin, a, opts); !s.ok()) {
      report.failure = s.error();
      break;
    }
    aclChanged = aclChanged || changesAcl(a.kind);
    ++report.applied;
  }
  if (aclChanged && opts.aclSave) {
    // Persist what did happen even when a later action failed.
    if (auto s = saveAcl(admin); !s.ok() && !report.failure) report.failure = s.error();
  }
  return report;
}

Result<uint64_t> deleteKeysWithPrefix(RespClient& admin, const std::string& prefix, size_t batch) {
  if (prefix.empty()) return invalidArgument("refusing to delete keys with an empty prefix");
  const std::string match = globEscape(prefix) + "*";
  const std::string count = std::to_string(batch);
  std::string cursor = "0";
  uint64_t deleted = 0;
  do {
    auto r = admin.call({"SCAN", cursor, "MATCH", match, "COUNT", count}, "SCAN " + prefix);
    if (!r.ok()) return r.error();
    if (r->type != Reply::Type::kArray || r->elements.size() != 2 || r->elements[1].type != Reply::Type::kArray)
      return internalError("SCAN: unexpected reply");
    cursor = r->elements[0].str;
    std::vector<std::string> unlink = {"UNLINK"};
    for (const auto& k : r->elements[1].elements)
      if (k.str.compare(0, prefix.size(), prefix) == 0) unlink.push_back(k.str);  // belt and braces
    if (unlink.size() > 1) {
      auto u = admin.call(unlink, "UNLINK under " + prefix);
      if (!u.ok()) return u.error();
      deleted += static_cast<uint64_t>(u->integer);
    }
  } while (cursor != "0");
  return deleted;
}

Result<size_t> whichPasswordWorks(const ConnectOptions& server, const std::string& user,
                                  const std::vector<std::string>& candidates) {
  ConnectOptions anonymous = server;
  anonymous.user.clear();
  anonymous.password.clear();
  auto c = RespClient::connect(anonymous);
  if (!c.ok()) return c.error();
  for (size_t i = 0; i < candidates.size(); ++i) {
    auto r = c->command({"AUTH", user, candidates[i]});
    if (!r.ok()) return r.error().wrap("trying a password of \"" + user + "\"");
    if (r->isOk()) return i;
    if (r->str.rfind("WRONGPASS", 0) != 0) return errorFromReply("trying a password of \"" + user + "\"", *r);
  }
  return notFound("no candidate password is accepted for ACL user \"" + user + "\"");
}

}  // namespace sdb::engines::redis
