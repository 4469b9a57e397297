// Helpers for the Redis engine integration tests: engines and service logins on the fixture server.
#pragma once

#include "operator/engines/redis/execute.h"
#include "operator/engines/redis/redis_engine.h"
#include "tests/integration/redis/redis_test_support.h"

namespace sdb::engines::redis {

class RedisEngineTest : public RedisServerTest {
 protected:
  static EngineOptions options(Mode mode = Mode::kShared) {
    EngineOptions o;
    o.admin = server_->admin();
    o.mode = mode;
    return o;
  }
  static RedisEngine engine(Mode mode = Mode::kShared) { return RedisEngine(options(mode)); }
  static Engine::ReconcileInput input(const std::string& ns, const std::string& name, const std::string& uid,
                                      const std::string& password) {
    Engine::ReconcileInput in;
    in.id = {ns, name, uid};
    in.credentials = {{"app", password}};
    return in;
  }
  static Result<RespClient> login(const std::string& user, const std::string& password) {
    return RespClient::connect(server_->as(user, password));
  }
  // The reply text of ACL DRYRUN for `user` (OK, or the server's sentence why not).
  static std::string dryRun(const std::string& user, const std::vector<std::string>& argv) {
    std::vector<std::string> cmd = {"ACL", "DRYRUN", user};
    cmd.insert(cmd.end(), argv.begin(), argv.end());
    Reply r = admin(cmd);
    return r.isError() ? "ERROR " + r.str : r.str;
  }
  // How often the server ran `command` (INFO commandstats), to prove a steady state writes nothing.
  static long long calls(const std::string& command) {
    Reply r = admin({"INFO", "commandstats"});
    const std::string key = "cmdstat_" + command + ":calls=";
    auto at = r.str.find(key);
    return at == std::string::npos ? 0 : std::stoll(r.str.substr(at + key.size()));
  }
  // Every key with `prefix`, as the admin sees it (SCAN MATCH).
  static std::set<std::string> keysUnder(const std::string& prefix) {
    std::set<std::string> out;
    std::string cursor = "0";
    do {
      Reply r = admin({"SCAN", cursor, "MATCH", globEscape(prefix) + "*", "COUNT", "1000"});
      if (r.elements.size() != 2) break;
      cursor = r.elements[0].str;
      for (const auto& k : r.elements[1].elements) out.insert(k.str);
    } while (cursor != "0");
    return out;
  }
};

}  // namespace sdb::engines::redis
