// A scripted AdminChannel for unit tests of observe/execute: replies are looked up by command name
// and database, logins by (database, user, password). Records every command as canonical extended
// JSON. Not a MongoDB: it knows nothing of users or roles (the integration suite covers a real one).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "operator/engines/mongo/channel.h"

namespace sdb::engines::mongo::testing {

class ScriptedChannel final : public AdminChannel {
 public:
  struct Sent {
    std::string database;
    std::string name;  // first key
    std::string json;  // canonical extended JSON
  };
  std::map<std::string, Result<Json>> replies;  // "<command>@<db>" or "<command>" (any db)
  std::map<std::string, Result<bool>> logins;   // "<db>/<user>/<password>"; default: false
  std::vector<Sent> sent;
  std::vector<std::string> loginAttempts;  // "<db>/<user>"

  Result<Json> run(const Command& c, const std::string& what) override {
    auto j = nlohmann::ordered_json::parse(c.body.canonicalJson());
    std::string name = j.begin().key();
    sent.push_back({c.database, name, c.body.canonicalJson()});
    auto it = replies.find(name + "@" + c.database);
    if (it == replies.end()) it = replies.find(name);
    if (it == replies.end()) return Json{{"ok", 1}};
    if (!it->second.ok()) return it->second.error().wrap(what);
    return it->second;
  }

  Result<bool> tryLogin(const std::string& db, const std::string& user, const std::string& password) override {
    loginAttempts.push_back(db + "/" + user);
    auto it = logins.find(db + "/" + user + "/" + password);
    return it == logins.end() ? Result<bool>(false) : it->second;
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& s : sent) out.push_back(s.name + "@" + s.database);
    return out;
  }
};

}  // namespace sdb::engines::mongo::testing
