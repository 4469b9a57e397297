// The reviewed command table, as data: every row well-formed, the rule list built from it, and the
// review that names commands a server has but the table does not (so a Redis upgrade forces a
// review). The same review runs against a real redis-server in command_sweep_test.cpp.
#include "operator/engines/redis/command_policy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace sdb::engines::redis {
namespace {

// A server that knows exactly what the table lists.
std::vector<ServerCommand> serverFromTable() {
  std::vector<ServerCommand> out;
  std::set<std::string> containers;
  for (const auto& r : commandTable()) {
    std::string name(r.name);
    auto bar = name.find('|');
    if (bar != std::string::npos) containers.insert(name.substr(0, bar));
    out.push_back({name, -2, r.verdict == Verdict::kKeyed ? 1u : 0u, false});
  }
  for (const auto& c : containers) {
    if (c == "command") {
      for (auto& s : out)
        if (s.name == "command") s.hasSubcommands = true, s.arity = -1;
      continue;
    }
    out.push_back({c, -2, 0, true});
  }
  return out;
}

TEST(RedisCommandPolicy, RowsAreUniqueLowercaseAndExplained) {
  std::set<std::string_view> seen;
  for (const auto& r : commandTable()) {
    EXPECT_TRUE(seen.insert(r.name).second) << "duplicate " << r.name;
    for (char c : r.name) EXPECT_FALSE(c >= 'A' && c <= 'Z') << r.name;
    if (r.verdict == Verdict::kAllowed || r.verdict == Verdict::kDenied) {
      EXPECT_FALSE(r.reason.empty()) << r.name;
    }
  }
  EXPECT_GT(seen.size(), 340u);
}

TEST(RedisCommandPolicy, RulesAllowOnlyReviewedCommands) {
  auto rules = serviceUserCommandRules();
  ASSERT_FALSE(rules.empty());
  EXPECT_EQ(rules.front(), "-@all");
  auto has = [&](const std::string& r) { return std::find(rules.begin(), rules.end(), r) != rules.end(); };
  for (const char* allowed : {"+get", "+set", "+eval", "+multi", "+ping", "+client|setname", "+publish", "+command", "+hello"})
    EXPECT_TRUE(has(allowed)) << allowed;
  for (const char* denied : {"+scan", "+keys", "+flushall", "+flushdb", "+config|get", "+client|list", "+info", "+debug",
                             "+monitor", "+pubsub|channels", "+randomkey", "+select", "+swapdb", "+move", "+copy",
                             "+migrate", "+restore", "+function|load", "+script|flush", "+client", "+config"})
    EXPECT_FALSE(has(denied)) << denied;
  for (size_t i = 1; i < rules.size(); ++i) {
    EXPECT_EQ(rules[i][0], '+') << rules[i];
    EXPECT_EQ(rules[i].find('@'), std::string::npos) << "no category grants: " << rules[i];
    EXPECT_EQ(rules[i].find("command|"), std::string::npos) << "covered by +command: " << rules[i];
  }
}

TEST(RedisCommandPolicy, ReviewPassesForTheTablesOwnServer) {
  EXPECT_EQ(reviewCommandTable(serverFromTable()), std::vector<std::string>{});
}

TEST(RedisCommandPolicy, ReviewNamesAnUnknownCommandAndSubcommand) {
  auto server = serverFromTable();
  server.push_back({"newcmd", 2, 1, false});
  server.push_back({"client|no-touch", 3, 0, false});
  auto problems = reviewCommandTable(server);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_NE(problems[0].find("unreviewed command \"newcmd\""), std::string::npos) << problems[0];
  EXPECT_NE(problems[1].find("unreviewed command \"client|no-touch\""), std::string::npos) << problems[1];
}

TEST(RedisCommandPolicy, ReviewCatchesKeyedRowsWithoutKeySpecsAndRowsTheServerLacks) {
  auto server = serverFromTable();
  for (auto& c : server)
    if (c.name == "get") c.keySpecs = 0;
  server.erase(std::remove_if(server.begin(), server.end(), [](const ServerCommand& c) { return c.name == "lcs"; }),
               server.end());
  auto problems = reviewCommandTable(server);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_NE(problems[0].find("\"get\" is allowed as keyed, but the server declares no key specs"), std::string::npos);
  EXPECT_NE(problems[1].find("\"lcs\" is in the table but not on the server"), std::string::npos);
}

}  // namespace
}  // namespace sdb::engines::redis
