// The command set is proven, not assumed: every command and subcommand the real redis-server knows
// (COMMAND) goes through ACL DRYRUN for a service user the engine made, and must come out exactly as
// operator/engines/redis/command_policy.cpp says:
//  - keyed: allowed on a key under the prefix, NOPERM on another tenant's key (and COMMAND GETKEYS
//    confirms the test really passed that key as a key);
//  - channels: allowed on a channel under the prefix, NOPERM on another tenant's;
//  - allowed (reviewed, with a reason): allowed;
//  - denied: refused at the command level, even with only the tenant's own keys as arguments.
// A command the server has and the table lacks fails the test (so a Redis upgrade forces a review).
#include <gtest/gtest.h>

#include <map>

#include "operator/engines/redis/command_policy.h"
#include "tests/integration/redis/engine_test_support.h"

namespace sdb::engines::redis {
namespace {

using CommandSweep = RedisEngineTest;

const std::string kUser = "sweep.orders";
const std::string kOwn = "sweep:orders:k";          // a key (or channel) of the service
const std::string kForeign = "sweep:payments:k";    // another tenant's

struct Entry {
  std::string name;  // "get", "client|setname"
  int arity = 0;
  size_t keySpecs = 0;
  bool hasSubcommands = false;
};

void collect(const Reply& info, std::vector<Entry>& out) {
  Entry e;
  e.name = info.elements.at(0).str;
  e.arity = static_cast<int>(info.elements.at(1).integer);
  e.keySpecs = info.elements.size() > 8 ? info.elements[8].elements.size() : 0;
  const Reply* subs = info.elements.size() > 9 ? &info.elements[9] : nullptr;
  e.hasSubcommands = subs != nullptr && !subs->elements.empty();
  out.push_back(e);
  if (subs != nullptr)
    for (const auto& s : subs->elements) collect(s, out);
}

std::vector<Entry> entries(const Reply& all) {
  std::vector<Entry> out;
  for (const auto& c : all.elements) collect(c, out);
  return out;
}

// Arguments that satisfy the arity and put `key` where the command takes keys (or channels).
// Commands whose keys follow a count or a keyword get a template; the rest are filled with `key`.
std::vector<std::string> argsFor(const Entry& e, const std::string& key, size_t extra = 0) {
  static const std::map<std::string, std::vector<std::string>> templates = {
      {"eval", {"return 1", "1", "@"}},        {"eval_ro", {"return 1", "1", "@"}},
      {"evalsha", {std::string(40, 'a'), "1", "@"}}, {"evalsha_ro", {std::string(40, 'a'), "1", "@"}},
      {"fcall", {"f", "1", "@"}},              {"fcall_ro", {"f", "1", "@"}},
      {"blmpop", {"0", "1", "@", "LEFT"}},     {"lmpop", {"1", "@", "LEFT"}},
      {"bzmpop", {"0", "1", "@", "MIN"}},      {"zmpop", {"1", "@", "MIN"}},
      {"sintercard", {"1", "@"}},              {"zintercard", {"1", "@"}},
      {"zdiff", {"1", "@"}},                   {"zinter", {"1", "@"}},
      {"zunion", {"1", "@"}},                  {"zdiffstore", {"@", "1", "@"}},
      {"zinterstore", {"@", "1", "@"}},        {"zunionstore", {"@", "1", "@"}},
      {"xread", {"STREAMS", "@", "0"}},        {"xreadgroup", {"GROUP", "g", "c", "STREAMS", "@", "0"}},
      {"georadius", {"@", "0", "0", "1", "m"}}, {"georadiusbymember", {"@", "m", "1", "m"}},
      {"bitop", {"AND", "@", "@"}},            {"sort", {"@"}},
      {"sort_ro", {"@"}},
      {"migrate", {"h", "1", "@", "0", "1"}},
  };
  std::vector<std::string> argv;
  const auto bar = e.name.find('|');
  if (bar == std::string::npos) {
    argv.push_back(e.name);
  } else {
    argv.push_back(e.name.substr(0, bar));
    argv.push_back(e.name.substr(bar + 1));
  }
  if (auto t = templates.find(e.name); t != templates.end()) {
    for (std::string a : t->second) {
      if (a.rfind('@', 0) == 0) a = key + a.substr(1);
      argv.push_back(a);
    }
    for (size_t i = 0; i < extra; ++i) argv.push_back(key);
    return argv;
  }
  const size_t need = static_cast<size_t>(e.arity < 0 ? -e.arity : e.arity) + extra;
  while (argv.size() < need) argv.push_back(key);
  return argv;
}

class CommandSweepFixture : public CommandSweep {
 protected:
  void SetUp() override {
    CommandSweep::SetUp();
    if (IsSkipped()) return;
    auto e = engine();
    auto r = e.reconcile(input("sweep", "orders", "uid-sweep", "pw"));
    ASSERT_TRUE(r.ok()) << r.error().toString();
  }
  static std::vector<Entry> serverCommands() { return entries(admin({"COMMAND"})); }
};

TEST_F(CommandSweepFixture, EveryServerCommandIsReviewed) {
  std::vector<ServerCommand> server;
  for (const auto& e : serverCommands()) server.push_back({e.name, e.arity, e.keySpecs, e.hasSubcommands});
  ASSERT_GT(server.size(), 300u);
  auto problems = reviewCommandTable(server);
  for (const auto& p : problems) ADD_FAILURE() << p;
  // The same review with a command the table does not know: it must fail, naming it.
  server.push_back({"futurecmd", -2, 1, false});
  problems = reviewCommandTable(server);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("unreviewed command \"futurecmd\""), std::string::npos);
}

TEST_F(CommandSweepFixture, AclDryRunMatchesTheTableForEveryCommand) {
  std::map<Verdict, int> counted;
  int checked = 0, unchecked = 0;
  for (const auto& e : serverCommands()) {
    if (e.hasSubcommands && e.arity != -1) continue;  // a container runs only with a subcommand
    const CommandRule* rule = findCommand(e.name);
    ASSERT_NE(rule, nullptr) << "unreviewed command " << e.name;
    ++counted[rule->verdict];
    ++checked;
    // PSUBSCRIBE patterns are compared literally with &<prefix>*: only the whole-prefix pattern passes.
    const bool pattern = e.name == "psubscribe";
    const std::string own1 = pattern ? "sweep:orders:*" : kOwn, foreign1 = pattern ? "sweep:payments:*" : kForeign;
    const auto own = argsFor(e, own1);
    const std::string verdictOwn = dryRun(kUser, own);
    SCOPED_TRACE(e.name + " (" + std::string(rule->reason) + ")");
    switch (rule->verdict) {
      case Verdict::kKeyed: {
        EXPECT_EQ(verdictOwn, "OK");
        EXPECT_GT(e.keySpecs, 0u);
        const auto foreign = argsFor(e, kForeign);
        const std::string verdictForeign = dryRun(kUser, foreign);
        EXPECT_NE(verdictForeign.find("no permissions to access the '" + kForeign + "' key"), std::string::npos)
            << verdictForeign;
        std::vector<std::string> getkeys = {"COMMAND", "GETKEYS"};
        getkeys.insert(getkeys.end(), foreign.begin(), foreign.end());
        Reply keys = admin(getkeys);
        bool found = false;
        for (const auto& k : keys.elements) found = found || k.str == kForeign;
        EXPECT_TRUE(found) << "COMMAND GETKEYS does not see the test key: " << keys.str;
        // With more arguments too: whenever the server's key check lets an all-foreign call through
        // (it found no keys in them), run it for real as the service user and make sure it fails
        // and changes nothing.
        for (size_t extra = 0; extra <= (e.arity > 0 ? 0u : 3u); ++extra) {
          const auto variant = argsFor(e, kForeign, extra);
          if (dryRun(kUser, variant) != "OK") continue;
          ++unchecked;
          const std::string digest = admin({"DEBUG", "DIGEST"}).str;
          auto o = server_->as(kUser, "pw");
          o.ioTimeout = std::chrono::milliseconds(1500);
          auto c = RespClient::connect(o);
          ASSERT_TRUE(c.ok());
          auto r = c->command(variant);
          EXPECT_TRUE(!r.ok() || r->isError()) << "ACL let " << e.name << " with " << variant.size() - 1
                                               << " foreign arguments through and it succeeded";
          EXPECT_EQ(admin({"DEBUG", "DIGEST"}).str, digest) << e.name << " changed data outside the prefix";
        }
        break;
      }
      case Verdict::kChannels: {
        EXPECT_EQ(verdictOwn, "OK");
        const std::string verdictForeign = dryRun(kUser, argsFor(e, foreign1));
        EXPECT_NE(verdictForeign.find("' channel"), std::string::npos) << verdictForeign;
        EXPECT_NE(verdictForeign.find(foreign1), std::string::npos) << verdictForeign;
        break;
      }
      case Verdict::kAllowed:
        EXPECT_EQ(verdictOwn, "OK");
        EXPECT_FALSE(rule->reason.empty());
        break;
      case Verdict::kDenied:
        EXPECT_NE(verdictOwn.find("no permissions to run the '" + e.name + "' command"), std::string::npos)
            << verdictOwn;
        break;
    }
  }
  EXPECT_GT(checked, 330);
  std::printf("swept %d commands: %d keyed, %d channel, %d allowed without keys, %d denied; %d all-foreign calls "
              "passed ACL DRYRUN and were run for real (each failed, nothing changed)\n",
              checked, counted[Verdict::kKeyed], counted[Verdict::kChannels], counted[Verdict::kAllowed],
              counted[Verdict::kDenied], unchecked);
}

// Keys that only a keyword, a count or a later position makes keys: one own key first, the other
// tenant's key where the server must still find it.
TEST_F(CommandSweepFixture, KeysBehindKeywordsAndCountsAreCheckedToo) {
  const std::string o = kOwn, f = kForeign;
  const std::vector<std::vector<std::string>> mixed = {
      {"SORT", o, "STORE", f},
      {"GEORADIUS", o, "0", "0", "1", "m", "STORE", f}, {"GEORADIUS", o, "0", "0", "1", "m", "STOREDIST", f},
      {"GEORADIUSBYMEMBER", o, "m", "1", "m", "STORE", f}, {"GEOSEARCHSTORE", f, o, "FROMMEMBER", "m", "BYRADIUS", "1", "m"},
      {"XREAD", "STREAMS", o, f, "0", "0"}, {"XREADGROUP", "GROUP", "g", "c", "STREAMS", o, f, "0", "0"},
      {"LMOVE", o, f, "LEFT", "RIGHT"}, {"BLMOVE", o, f, "LEFT", "RIGHT", "0"}, {"RENAME", o, f}, {"RENAMENX", o, f},
      {"BITOP", "AND", f, o}, {"BITOP", "AND", o, o, f}, {"EVAL", "return 1", "2", o, f}, {"FCALL", "x", "2", o, f},
      {"ZUNIONSTORE", f, "1", o}, {"ZUNIONSTORE", o, "2", o, f}, {"ZINTER", "2", o, f}, {"SINTERCARD", "2", o, f},
      {"LMPOP", "2", o, f, "LEFT"}, {"BZMPOP", "0", "2", o, f, "MIN"}, {"MSET", o, "v", f, "v"}, {"MSETNX", o, "v", f, "v"},
      {"SMOVE", o, f, "m"}, {"RPOPLPUSH", o, f}, {"SDIFFSTORE", f, o}, {"ZRANGESTORE", f, o, "0", "1"},
      {"PFCOUNT", o, f}, {"PFMERGE", f}, {"MEMORY", "USAGE", f}, {"XINFO", "STREAM", f}, {"OBJECT", "ENCODING", f},
      {"DEL", o, f}, {"UNLINK", o, f}, {"EXISTS", o, f}, {"TOUCH", o, f}, {"WATCH", o, f}, {"LCS", o, f},
      {"BLPOP", o, f, "0"}, {"SUNIONSTORE", o, o, f}, {"XAUTOCLAIM", f, "g", "c", "0", "0"},
      {"SPUBLISH", f, "m"}, {"SSUBSCRIBE", o, f}, {"PUBLISH", f, "m"}, {"SUBSCRIBE", o, f}, {"PSUBSCRIBE", "sweep:*"},
  };
  for (const auto& cmd : mixed) {
    const std::string v = dryRun(kUser, cmd);
    EXPECT_NE(v.find("no permissions"), std::string::npos) << cmd[0] << " " << cmd[1] << ": " << v;
  }
  // SORT's BY and GET take patterns, not keys: ACL DRYRUN passes them, and the server refuses them
  // when the command runs, for any user with key restrictions.
  auto c = login(kUser, "pw");
  ASSERT_TRUE(c.ok());
  for (const char* option : {"BY", "GET"}) {
    auto r = c->command({"SORT", o, option, "sweep:payments:*"});
    ASSERT_TRUE(r.ok());
    EXPECT_NE(r->str.find(std::string(option) + " option of SORT denied"), std::string::npos) << r->str;
  }
}

// The headline denials, by name, so a table edit that allows one of them fails loudly here.
TEST_F(CommandSweepFixture, HeadlineCommandsAreDenied) {
  for (const std::vector<std::string>& cmd : std::vector<std::vector<std::string>>{
           {"SCAN", "0"}, {"KEYS", "*"}, {"FLUSHALL"}, {"FLUSHDB"}, {"CONFIG", "GET", "x"}, {"CONFIG", "SET", "x", "y"},
           {"CLIENT", "LIST"}, {"CLIENT", "KILL", "x", "y"}, {"DEBUG", "x"}, {"MONITOR"}, {"PUBSUB", "CHANNELS"},
           {"PUBSUB", "NUMSUB"}, {"RANDOMKEY"}, {"INFO"}, {"DBSIZE"}, {"SELECT", "1"}, {"SWAPDB", "0", "1"},
           {"SHUTDOWN"}, {"REPLICAOF", "h", "1"}, {"SLOWLOG", "GET"}, {"FUNCTION", "LIST"}, {"SCRIPT", "FLUSH"},
           {"ACL", "LIST"}, {"ACL", "SETUSER", "x"}, {"MODULE", "LIST"}, {"LATENCY", "LATEST"}}) {
    EXPECT_NE(dryRun(kUser, cmd).find("no permissions to run"), std::string::npos) << cmd[0] << " " << (cmd.size() > 1 ? cmd[1] : "");
  }
}

}  // namespace
}  // namespace sdb::engines::redis
