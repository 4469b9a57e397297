#include "operator/engines/redis/dedicated_config.h"

#include <set>
#include <sstream>

namespace sdb::engines::redis {
namespace {

Status plainValue(const std::string& field, const std::string& value, bool spacesAllowed = false) {
  if (value.empty()) return invalidArgument(field + ": must not be empty");
  for (char c : value)
    if (static_cast<unsigned char>(c) < 0x21 && !(spacesAllowed && c == ' '))
      return invalidArgument(field + ": must not contain whitespace or control characters");
  if (value.find('"') != std::string::npos || value.find('\'') != std::string::npos)
    return invalidArgument(field + ": must not contain quotes");
  return okStatus();
}

}  // namespace

Result<std::string> redisConf(const DedicatedConfig& c) {
  SDB_TRY(plainValue("bind", c.bind, /*spacesAllowed=*/true));
  if (c.tlsPort < 1 || c.tlsPort > 65535) return invalidArgument("tlsPort: must be 1 to 65535");
  for (const auto& [field, value] : {std::pair<std::string, std::string>{"dataDir", c.dataDir},
                                     {"tlsCertFile", c.tlsCertFile}, {"tlsKeyFile", c.tlsKeyFile},
                                     {"tlsCaFile", c.tlsCaFile}})
    SDB_TRY(plainValue(field, value));
  if (c.appendFsync != "always" && c.appendFsync != "everysec" && c.appendFsync != "no")
    return invalidArgument("appendFsync: want always, everysec or no, got \"" + c.appendFsync + "\"");
  static const std::set<std::string> policies = {"noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random",
                                                 "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"};
  if (!policies.count(c.maxmemoryPolicy)) return invalidArgument("maxmemoryPolicy: unknown policy \"" + c.maxmemoryPolicy + "\"");
  if (!c.maxmemory.empty()) SDB_TRY(plainValue("maxmemory", c.maxmemory));
  std::ostringstream o;
  o << "# Written by servicedb-operator (dedicated mode, docs/engines/redis.md). Do not edit.\n"
    << "bind " << c.bind << "\n"
    << "protected-mode yes\n"
    << "port 0\n"
    << "tls-port " << c.tlsPort << "\n"
    << "tls-cert-file " << c.tlsCertFile << "\n"
    << "tls-key-file " << c.tlsKeyFile << "\n"
    << "tls-ca-cert-file " << c.tlsCaFile << "\n"
    << "tls-auth-clients no\n"
    << "tls-protocols \"TLSv1.2 TLSv1.3\"\n"
    << "dir " << c.dataDir << "\n"
    << "aclfile " << c.dataDir << "/users.acl\n"
    << "appendonly " << (c.appendOnly ? "yes" : "no") << "\n"
    << "appendfsync " << c.appendFsync << "\n"
    << "repl-diskless-sync-delay 0\n"
    << "enable-debug-command no\n"
    << "enable-module-command no\n"
    << "maxmemory-policy " << c.maxmemoryPolicy << "\n";
  if (!c.maxmemory.empty()) o << "maxmemory " << c.maxmemory << "\n";
  return o.str();
}

Result<std::string> initialAclFile(const std::string& adminUser, const std::string& adminPasswordHash) {
  SDB_TRY(plainValue("adminUser", adminUser));
  if (adminUser == "default") return invalidArgument("adminUser: \"default\" is switched off; choose another name");
  if (adminPasswordHash.size() != 64 || adminPasswordHash.find_first_not_of("0123456789abcdef") != std::string::npos)
    return invalidArgument("adminPasswordHash: want 64 lowercase hex characters (SHA-256)");
  return "user default off resetchannels -@all\n"
         "user " + adminUser + " on #" + adminPasswordHash + " ~* &* +@all\n";
}

}  // namespace sdb::engines::redis
