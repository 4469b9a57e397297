// The ServiceDatabase controller in Redis shared mode against a real redis-server 7 with TLS
// (tests/integration/fixtures/redis_server.h: `user default off`, an admin ACL user, a throwaway
// CA), with the in-process store as the API. Applications are played by RespClient connections
// made from the credentials Secret exactly as a pod would: host, port, username and password, TLS
// with full verification against the Secret's ca.crt.
//
// One server per test binary (RedisServerTest); each test uses its own namespaces, so users and
// key prefixes never meet across tests.
#pragma once

#include <set>

#include "controllers/servicedatabase/redis_shared_backend.h"
#include "operator/core/base64.h"
#include "tests/integration/redis/redis_test_support.h"
#include "tests/integration/servicedatabase/controller_it_fixture.h"

namespace sdb::controllers::servicedatabase::testing {

namespace res = kube::resources;
namespace redis = engines::redis;

class RedisControllerIT : public ControllerITFixture<redis::RedisServerTest> {
 protected:
  RedisControllerIT() : ControllerITFixture({.tmpPrefix = "sdb-redis-ctrl-it", .controllerName = "redis-it"}) {}

  void addBackends(BackendRegistry& backends) override {
    backends.add("redis", "shared", std::make_unique<RedisSharedBackend>(*client_, RedisSharedOptions{}));
  }

  // The admin Secret's entries for the fixture's server (TLS port, its CA).
  static std::map<std::string, std::string> adminEntries() {
    return {{"host", server_->host()},
            {"port", std::to_string(server_->tlsPort())},
            {"username", server_->adminUser()},
            {"password", server_->adminPassword()},
            {"tls", "true"},
            {"ca.crt", slurp(server_->caFile())}};
  }
  void putAdminSecret(const std::string& ns, const std::map<std::string, std::string>& entries) {
    Json data = Json::object();
    for (const auto& [k, v] : entries) data[k] = base64Encode(v);
    Json secret = {{"apiVersion", "v1"},
                   {"kind", "Secret"},
                   {"metadata", {{"name", "redis-admin"}, {"namespace", ns}}},
                   {"data", data}};
    auto existing = inproc_->get(res::kSecrets, ns, "redis-admin");
    auto w = existing.ok() ? inproc_->update(res::kSecrets, ns, secret) : inproc_->create(res::kSecrets, ns, secret);
    ASSERT_TRUE(w.ok()) << w.error().toString();
  }
  // A namespace with the admin Secret of the fixture's server.
  void addNamespace(const std::string& ns) {
    ASSERT_TRUE(inproc_->create(res::kNamespaces, "", runtime::testing::nsObject(ns)).ok());
    putAdminSecret(ns, adminEntries());
  }

  static Json sdb(const std::string& ns, const std::string& name, const std::string& policy) {
    return sharedSdb(ns, name, "redis", policy, "redis-admin");
  }
  void create(const std::string& ns, const std::string& name, const std::string& policy = "Retain") {
    createSdb(ns, sdb(ns, name, policy));
  }

  // Connects as an application would, from a credentials Secret's entries (`password` overrides
  // the Secret's, e.g. to try an old one).
  Result<redis::RespClient> connectWith(const std::map<std::string, std::string>& creds,
                                        const std::string& password = "") {
    const std::string ca = writeCaFile(creds);
    redis::ConnectOptions o;
    o.host = creds.at("host");
    o.port = std::stoi(creds.at("port"));
    o.transport = redis::Transport::kTls;
    o.tls.caFile = ca;
    o.user = creds.at("username");
    o.password = password.empty() ? creds.at("password") : password;
    o.connectTimeout = std::chrono::milliseconds(2000);
    o.ioTimeout = std::chrono::milliseconds(5000);
    return redis::RespClient::connect(o);
  }
  // The reply to `argv` as the application of `creds`: "OK", the value, or "ERROR <server text>".
  std::string as(const std::map<std::string, std::string>& creds, const std::vector<std::string>& argv) {
    auto c = connectWith(creds);
    if (!c.ok()) return "CONNECT " + c.error().message;
    auto r = c->command(argv);
    if (!r.ok()) return "IO " + r.error().message;
    if (r->isError()) return "ERROR " + r->str;
    if (r->type == redis::Reply::Type::kInteger) return std::to_string(r->integer);
    return r->str;
  }
  // Every key with `prefix`, as the admin sees it.
  static std::set<std::string> keysUnder(const std::string& prefix) {
    std::set<std::string> out;
    std::string cursor = "0";
    do {
      redis::Reply r = admin({"SCAN", cursor, "MATCH", redis::globEscape(prefix) + "*", "COUNT", "1000"});
      if (r.elements.size() != 2) break;
      cursor = r.elements[0].str;
      for (const auto& k : r.elements[1].elements) out.insert(k.str);
    } while (cursor != "0");
    return out;
  }
  // How often the server ran `command` (INFO commandstats), to prove a steady state writes nothing.
  static long long calls(const std::string& command) {
    redis::Reply r = admin({"INFO", "commandstats"});
    const std::string key = "cmdstat_" + command + ":calls=";
    auto at = r.str.find(key);
    return at == std::string::npos ? 0 : std::stoll(r.str.substr(at + key.size()));
  }
};

}  // namespace sdb::controllers::servicedatabase::testing
