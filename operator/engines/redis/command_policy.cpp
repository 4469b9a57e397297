#include "operator/engines/redis/command_policy.h"

#include <algorithm>
#include <map>
#include <set>

namespace sdb::engines::redis {
namespace {

constexpr Verdict K = Verdict::kKeyed;
constexpr Verdict C = Verdict::kChannels;
constexpr Verdict A = Verdict::kAllowed;
constexpr Verdict D = Verdict::kDenied;

// Why a command without keys is allowed.
constexpr std::string_view kAlwaysAllowed = "authenticates or ends this connection; the server allows it to every connection";
constexpr std::string_view kTransaction = "transaction control of this connection; every queued command is checked on its own";
constexpr std::string_view kOwnConnection = "reads or sets only this connection's own attributes";
constexpr std::string_view kHelp = "static help text";
constexpr std::string_view kCommandMetadata = "static command metadata, the same for every tenant; client libraries read it";
constexpr std::string_view kOwnSubscriptions = "leaves this connection's own subscriptions";
constexpr std::string_view kChannel = "every channel (or pattern) argument is checked against &<prefix>*";
// Notes on keyed commands that do more than touch their keys.
constexpr std::string_view kSortNote = "BY and GET patterns are refused by the server for users with key restrictions";
constexpr std::string_view kScriptNote =
    "every redis.call inside runs with the caller's permissions; a long script can still stall a shared server";
constexpr std::string_view kFunctionNote =
    "functions run with the caller's permissions; only an admin can load them (FUNCTION is denied)";
// Why a command is denied.
constexpr std::string_view kPfmergeBypass =
    "redis-server 7.0 checks no key when PFMERGE gets only its destination, so PFMERGE <another tenant's key> "
    "writes outside the prefix (found by the command sweep test)";
constexpr std::string_view kAdmin = "server administration";
constexpr std::string_view kAllKeys = "lists, counts or changes the keys of every tenant, not only the prefix";
constexpr std::string_view kOtherDb = "puts data into another logical database, where backups and Delete do not look";
constexpr std::string_view kOtherServer = "sends keys to another server";
constexpr std::string_view kUnsafePayload = "loads a serialized value the server does not deeply validate (a crafted one can crash it)";
constexpr std::string_view kDebug = "debugging of server internals";
constexpr std::string_view kOtherClients = "shows or changes other tenants' connections or commands";
constexpr std::string_view kServerInfo = "shows server-wide state: other tenants' clients, keys, commands or memory";
constexpr std::string_view kNotNeeded = "not needed by applications; denied to keep the set small";
constexpr std::string_view kCluster = "Redis Cluster topology; servicedb runs no cluster";
constexpr std::string_view kSharedScripts = "the script and function registry is shared by every tenant";
constexpr std::string_view kChannelInfo = "lists or counts other tenants' channels and subscribers";
constexpr std::string_view kTracking = "client-side caching; BCAST mode reports the names of keys every tenant changes";

// Every command and subcommand of redis-server 7.0, reviewed. Containers that need a subcommand
// (CONFIG, CLIENT, ...) are listed by subcommand only; COMMAND runs on its own too.
constexpr CommandRule kTable[] = {
    {"acl|cat", D, kNotNeeded},
    {"acl|deluser", D, kAdmin},
    {"acl|dryrun", D, kAdmin},
    {"acl|genpass", D, kNotNeeded},
    {"acl|getuser", D, kAdmin},
    {"acl|help", D, kNotNeeded},
    {"acl|list", D, kAdmin},
    {"acl|load", D, kAdmin},
    {"acl|log", D, kAdmin},
    {"acl|save", D, kAdmin},
    {"acl|setuser", D, kAdmin},
    {"acl|users", D, kAdmin},
    {"acl|whoami", A, "this connection's own user name"},
    {"append", K, ""},
    {"asking", D, kCluster},
    {"auth", A, kAlwaysAllowed},
    {"bgrewriteaof", D, kAdmin},
    {"bgsave", D, kAdmin},
    {"bitcount", K, ""}, {"bitfield", K, ""}, {"bitfield_ro", K, ""}, {"bitop", K, ""},
    {"bitpos", K, ""}, {"blmove", K, ""}, {"blmpop", K, ""}, {"blpop", K, ""},
    {"brpop", K, ""}, {"brpoplpush", K, ""}, {"bzmpop", K, ""}, {"bzpopmax", K, ""},
    {"bzpopmin", K, ""},
    {"client|caching", D, kTracking},
    {"client|getname", A, kOwnConnection},
    {"client|getredir", D, kTracking},
    {"client|help", A, kHelp},
    {"client|id", A, kOwnConnection},
    {"client|info", A, kOwnConnection},
    {"client|kill", D, kOtherClients},
    {"client|list", D, kOtherClients},
    {"client|no-evict", D, kAdmin},
    {"client|pause", D, kOtherClients},
    {"client|reply", A, kOwnConnection},
    {"client|setname", A, kOwnConnection},
    {"client|tracking", D, kTracking},
    {"client|trackinginfo", D, kTracking},
    {"client|unblock", D, kOtherClients},
    {"client|unpause", D, kOtherClients},
    {"cluster|addslots", D, kCluster},
    {"cluster|addslotsrange", D, kCluster},
    {"cluster|bumpepoch", D, kCluster},
    {"cluster|count-failure-reports", D, kCluster},
    {"cluster|countkeysinslot", D, kCluster},
    {"cluster|delslots", D, kCluster},
    {"cluster|delslotsrange", D, kCluster},
    {"cluster|failover", D, kCluster},
    {"cluster|flushslots", D, kCluster},
    {"cluster|forget", D, kCluster},
    {"cluster|getkeysinslot", D, kCluster},
    {"cluster|help", D, kNotNeeded},
    {"cluster|info", D, kCluster},
    {"cluster|keyslot", D, kCluster},
    {"cluster|links", D, kCluster},
    {"cluster|meet", D, kCluster},
    {"cluster|myid", D, kCluster},
    {"cluster|nodes", D, kCluster},
    {"cluster|replicas", D, kCluster},
    {"cluster|replicate", D, kCluster},
    {"cluster|reset", D, kCluster},
    {"cluster|saveconfig", D, kCluster},
    {"cluster|set-config-epoch", D, kCluster},
    {"cluster|setslot", D, kCluster},
    {"cluster|shards", D, kCluster},
    {"cluster|slaves", D, kCluster},
    {"cluster|slots", D, kCluster},
    {"command", A, kCommandMetadata},
    {"command|count", A, kCommandMetadata},
    {"command|docs", A, kCommandMetadata},
    {"command|getkeys", A, kCommandMetadata},
    {"command|getkeysandflags", A, kCommandMetadata},
    {"command|help", A, kCommandMetadata},
    {"command|info", A, kCommandMetadata},
    {"command|list", A, kCommandMetadata},
    {"config|get", D, kAdmin},
    {"config|help", D, kNotNeeded},
    {"config|resetstat", D, kAdmin},
    {"config|rewrite", D, kAdmin},
    {"config|set", D, kAdmin},
    {"copy", D, kOtherDb},
    {"dbsize", D, kAllKeys},
    {"debug", D, kDebug},
    {"decr", K, ""}, {"decrby", K, ""}, {"del", K, ""},
    {"discard", A, kTransaction},
    {"dump", K, ""},
    {"echo", A, "connection check; carries no data"},
    {"eval", K, kScriptNote},
    {"eval_ro", K, kScriptNote},
    {"evalsha", K, kScriptNote},
    {"evalsha_ro", K, kScriptNote},
    {"exec", A, kTransaction},
    {"exists", K, ""}, {"expire", K, ""}, {"expireat", K, ""}, {"expiretime", K, ""},
    {"failover", D, kAdmin},
    {"fcall", K, kFunctionNote},
    {"fcall_ro", K, kFunctionNote},
    {"flushall", D, kAllKeys},
    {"flushdb", D, kAllKeys},
    {"function|delete", D, kSharedScripts},
    {"function|dump", D, kSharedScripts},
    {"function|flush", D, kSharedScripts},
    {"function|help", D, kNotNeeded},
    {"function|kill", D, kSharedScripts},
    {"function|list", D, kSharedScripts},
    {"function|load", D, kSharedScripts},
    {"function|restore", D, kSharedScripts},
    {"function|stats", D, kSharedScripts},
    {"geoadd", K, ""}, {"geodist", K, ""}, {"geohash", K, ""}, {"geopos", K, ""},
    {"georadius", K, ""}, {"georadius_ro", K, ""}, {"georadiusbymember", K, ""}, {"georadiusbymember_ro", K, ""},
    {"geosearch", K, ""}, {"geosearchstore", K, ""}, {"get", K, ""}, {"getbit", K, ""},
    {"getdel", K, ""}, {"getex", K, ""}, {"getrange", K, ""}, {"getset", K, ""},
    {"hdel", K, ""},
    {"hello", A, kAlwaysAllowed},
    {"hexists", K, ""}, {"hget", K, ""}, {"hgetall", K, ""}, {"hincrby", K, ""},
    {"hincrbyfloat", K, ""}, {"hkeys", K, ""}, {"hlen", K, ""}, {"hmget", K, ""},
    {"hmset", K, ""}, {"hrandfield", K, ""}, {"hscan", K, ""}, {"hset", K, ""},
    {"hsetnx", K, ""}, {"hstrlen", K, ""}, {"hvals", K, ""}, {"incr", K, ""},
    {"incrby", K, ""}, {"incrbyfloat", K, ""},
    {"info", D, kServerInfo},
    {"keys", D, kAllKeys},
    {"lastsave", D, kAdmin},
    {"latency|doctor", D, kServerInfo},
    {"latency|graph", D, kServerInfo},
    {"latency|help", D, kNotNeeded},
    {"latency|histogram", D, kServerInfo},
    {"latency|history", D, kServerInfo},
    {"latency|latest", D, kServerInfo},
    {"latency|reset", D, kServerInfo},
    {"lcs", K, ""}, {"lindex", K, ""}, {"linsert", K, ""}, {"llen", K, ""},
    {"lmove", K, ""}, {"lmpop", K, ""},
    {"lolwut", D, kNotNeeded},
    {"lpop", K, ""}, {"lpos", K, ""}, {"lpush", K, ""}, {"lpushx", K, ""},
    {"lrange", K, ""}, {"lrem", K, ""}, {"lset", K, ""}, {"ltrim", K, ""},
    {"memory|doctor", D, kServerInfo},
    {"memory|help", A, kHelp},
    {"memory|malloc-stats", D, kServerInfo},
    {"memory|purge", D, kAdmin},
    {"memory|stats", D, kServerInfo},
    {"memory|usage", K, ""}, {"mget", K, ""},
    {"migrate", D, kOtherServer},
    {"module|help", D, kNotNeeded},
    {"module|list", D, kAdmin},
    {"module|load", D, kAdmin},
    {"module|loadex", D, kAdmin},
    {"module|unload", D, kAdmin},
    {"monitor", D, kOtherClients},
    {"move", D, kOtherDb},
    {"mset", K, ""}, {"msetnx", K, ""},
    {"multi", A, kTransaction},
    {"object|encoding", K, ""}, {"object|freq", K, ""},
    {"object|help", A, kHelp},
    {"object|idletime", K, ""}, {"object|refcount", K, ""}, {"persist", K, ""}, {"pexpire", K, ""},
    {"pexpireat", K, ""}, {"pexpiretime", K, ""}, {"pfadd", K, ""}, {"pfcount", K, ""},
    {"pfdebug", D, kDebug},
    {"pfmerge", D, kPfmergeBypass},
    {"pfselftest", D, kDebug},
    {"ping", A, "connection check; carries no data"},
    {"psetex", K, ""},
    {"psubscribe", C, kChannel},
    {"psync", D, kAdmin},
    {"pttl", K, ""},
    {"publish", C, kChannel},
    {"pubsub|channels", D, kChannelInfo},
    {"pubsub|help", D, kNotNeeded},
    {"pubsub|numpat", D, kChannelInfo},
    {"pubsub|numsub", D, kChannelInfo},
    {"pubsub|shardchannels", D, kChannelInfo},
    {"pubsub|shardnumsub", D, kChannelInfo},
    {"punsubscribe", A, kOwnSubscriptions},
    {"quit", A, kAlwaysAllowed},
    {"randomkey", D, kAllKeys},
    {"readonly", D, kCluster},
    {"readwrite", D, kCluster},
    {"rename", K, ""}, {"renamenx", K, ""},
    {"replconf", D, kAdmin},
    {"replicaof", D, kAdmin},
    {"reset", A, kAlwaysAllowed},
    {"restore", D, kUnsafePayload},
    {"restore-asking", D, kUnsafePayload},
    {"role", D, kAdmin},
    {"rpop", K, ""}, {"rpoplpush", K, ""}, {"rpush", K, ""}, {"rpushx", K, ""},
    {"sadd", K, ""},
    {"save", D, kAdmin},
    {"scan", D, kAllKeys},
    {"scard", K, ""},
    {"script|debug", D, kDebug},
    {"script|exists", A, "tells whether scripts with SHA1 digests the caller already knows are cached"},
    {"script|flush", D, kSharedScripts},
    {"script|help", A, kHelp},
    {"script|kill", D, kSharedScripts},
    {"script|load", A, "caches a script for EVALSHA; scripts run with the caller's permissions"},
    {"sdiff", K, ""}, {"sdiffstore", K, ""},
    {"select", D, kOtherDb},
    {"set", K, ""}, {"setbit", K, ""}, {"setex", K, ""}, {"setnx", K, ""},
    {"setrange", K, ""},
    {"shutdown", D, kAdmin},
    {"sinter", K, ""}, {"sintercard", K, ""}, {"sinterstore", K, ""}, {"sismember", K, ""},
    {"slaveof", D, kAdmin},
    {"slowlog|get", D, kServerInfo},
    {"slowlog|help", D, kNotNeeded},
    {"slowlog|len", D, kServerInfo},
    {"slowlog|reset", D, kServerInfo},
    {"smembers", K, ""}, {"smismember", K, ""}, {"smove", K, ""},
    {"sort", K, kSortNote},
    {"sort_ro", K, kSortNote},
    {"spop", K, ""},
    {"spublish", C, kChannel},
    {"srandmember", K, ""}, {"srem", K, ""}, {"sscan", K, ""},
    {"ssubscribe", C, kChannel},
    {"strlen", K, ""},
    {"subscribe", C, kChannel},
    {"substr", K, ""}, {"sunion", K, ""}, {"sunionstore", K, ""},
    {"sunsubscribe", A, kOwnSubscriptions},
    {"swapdb", D, kAllKeys},
    {"sync", D, kAdmin},
    {"time", A, "the server clock, the same for every tenant"},
    {"touch", K, ""}, {"ttl", K, ""}, {"type", K, ""}, {"unlink", K, ""},
    {"unsubscribe", A, kOwnSubscriptions},
    {"unwatch", A, kTransaction},
    {"wait", A, "waits until replicas acknowledge this connection's writes; reveals only a replica count"},
    {"watch", K, ""}, {"xack", K, ""}, {"xadd", K, ""}, {"xautoclaim", K, ""},
    {"xclaim", K, ""}, {"xdel", K, ""}, {"xgroup|create", K, ""}, {"xgroup|createconsumer", K, ""},
    {"xgroup|delconsumer", K, ""}, {"xgroup|destroy", K, ""},
    {"xgroup|help", A, kHelp},
    {"xgroup|setid", K, ""}, {"xinfo|consumers", K, ""}, {"xinfo|groups", K, ""},
    {"xinfo|help", A, kHelp},
    {"xinfo|stream", K, ""}, {"xlen", K, ""}, {"xpending", K, ""}, {"xrange", K, ""},
    {"xread", K, ""}, {"xreadgroup", K, ""}, {"xrevrange", K, ""}, {"xsetid", K, ""},
    {"xtrim", K, ""}, {"zadd", K, ""}, {"zcard", K, ""}, {"zcount", K, ""},
    {"zdiff", K, ""}, {"zdiffstore", K, ""}, {"zincrby", K, ""}, {"zinter", K, ""},
    {"zintercard", K, ""}, {"zinterstore", K, ""}, {"zlexcount", K, ""}, {"zmpop", K, ""},
    {"zmscore", K, ""}, {"zpopmax", K, ""}, {"zpopmin", K, ""}, {"zrandmember", K, ""},
    {"zrange", K, ""}, {"zrangebylex", K, ""}, {"zrangebyscore", K, ""}, {"zrangestore", K, ""},
    {"zrank", K, ""}, {"zrem", K, ""}, {"zremrangebylex", K, ""}, {"zremrangebyrank", K, ""},
    {"zremrangebyscore", K, ""}, {"zrevrange", K, ""}, {"zrevrangebylex", K, ""}, {"zrevrangebyscore", K, ""},
    {"zrevrank", K, ""}, {"zscan", K, ""}, {"zscore", K, ""}, {"zunion", K, ""},
    {"zunionstore", K, ""},
};

}  // namespace

std::span<const CommandRule> commandTable() { return kTable; }

const CommandRule* findCommand(std::string_view name) {
  for (const auto& r : kTable)
    if (r.name == name) return &r;
  return nullptr;
}

bool allows(Verdict v) { return v != Verdict::kDenied; }

std::vector<std::string> serviceUserCommandRules() {
  std::set<std::string_view> allowedContainers;
  for (const auto& r : kTable)
    if (r.name.find('|') == std::string_view::npos && allows(r.verdict)) allowedContainers.insert(r.name);
  std::vector<std::string> out = {"-@all"};
  for (const auto& r : kTable) {
    if (!allows(r.verdict)) continue;
    auto bar = r.name.find('|');
    if (bar != std::string_view::npos && allowedContainers.count(r.name.substr(0, bar))) continue;  // "+command" covers it
    out.push_back("+" + std::string(r.name));
  }
  return out;
}

std::vector<std::string> reviewCommandTable(const std::vector<ServerCommand>& server) {
  std::vector<std::string> problems;
  std::set<std::string> onServer;
  std::map<std::string, bool> containerNeedsSub;
  for (const auto& c : server) {
    onServer.insert(c.name);
    if (c.hasSubcommands) containerNeedsSub[c.name] = c.arity <= -2 || c.arity >= 2;
  }
  for (const auto& c : server) {
    if (c.hasSubcommands && containerNeedsSub[c.name]) continue;  // runs only with a subcommand
    const CommandRule* r = findCommand(c.name);
    if (r == nullptr) {
      problems.push_back("unreviewed command \"" + c.name +
                         "\": the server has it but operator/engines/redis/command_policy.cpp does not classify it "
                         "(a Redis upgrade added it; review it and add it to the table)");
      continue;
    }
    if (r->verdict == Verdict::kKeyed && c.keySpecs == 0)
      problems.push_back("\"" + c.name + "\" is allowed as keyed, but the server declares no key specs for it");
    if (r->verdict == Verdict::kAllowed && r->reason.empty())
      problems.push_back("\"" + c.name + "\" is allowed without keys but the table gives no reason");
    if (r->verdict == Verdict::kDenied && r->reason.empty())
      problems.push_back("\"" + c.name + "\" is denied without a reason");
  }
  for (const auto& r : kTable) {
    const std::string name(r.name);
    if (!onServer.count(name))
      problems.push_back("\"" + name + "\" is in the table but not on the server (ACL SETUSER would refuse it)");
    auto bar = name.find('|');
    if (bar == std::string::npos && allows(r.verdict)) {
      for (const auto& s : kTable)
        if (s.name.substr(0, name.size() + 1) == name + "|" && !allows(s.verdict))
          problems.push_back("\"" + name + "\" is allowed as a whole, which also allows its denied subcommand \"" +
                             std::string(s.name) + "\"");
    }
  }
  return problems;
}

}  // namespace sdb::engines::redis
