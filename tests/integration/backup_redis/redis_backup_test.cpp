// `servicedb-operator backup|restore --engine redis` against a real redis-server 7 over TLS:
//  - shared: only the tenant's keys are in the backup (decoded with the independent Python decoders
//    and checked key by key), they restore into a new prefix with equal values and expiry, the app
//    login of the new ServiceDatabase reads and writes them, --replace swaps atomically, and a
//    tampered stream leaves the whole server untouched (DEBUG DIGEST);
//  - dedicated: `redis-cli --rdb -` through the encryption, restored as dump.rdb and as an AOF base,
//    and a server started on the result has the same DEBUG DIGEST; a tampered stream leaves the
//    existing file byte for byte and no temporary file behind.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "operator/backup/redis/redis_dump.h"
#include "operator/core/json.h"
#include "operator/core/random.h"
#include "operator/engines/redis/redis_engine.h"
#include "tests/integration/redis/redis_test_support.h"

namespace sdb::engines::redis {
namespace {

namespace fs = std::filesystem;

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct CliRun {
  int code = -1;
  std::string out, err;
};

class RedisBackupTest : public RedisServerTest {
 protected:
  static void SetUpTestSuite() {
    RedisServerTest::SetUpTestSuite();
    char tmpl[] = "/tmp/sdb-redisbk.XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    fs::create_directories(dir_ + "/keys");
    std::ofstream(dir_ + "/keys/key-1") << "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n";
    const char* bin = std::getenv("SERVICEDB_BINARY_DIR");
    const char* src = std::getenv("SERVICEDB_SOURCE_DIR");
    binary_ = std::string(bin ? bin : "build") + "/bin/servicedb-operator";
    source_ = src ? src : ".";
  }
  static void TearDownTestSuite() {
    if (!dir_.empty()) fs::remove_all(dir_);
    RedisServerTest::TearDownTestSuite();
  }

  // Runs the operator binary with the admin connection in REDIS_* (never on its command line).
  static CliRun cli(std::vector<std::string> args) {
    static int n = 0;
    const std::string out = dir_ + "/out" + std::to_string(n), err = dir_ + "/err" + std::to_string(n++);
    pid_t pid = fork();
    if (pid == 0) {
      int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600), e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(o, 1);
      dup2(e, 2);
      setenv("REDIS_HOST", "127.0.0.1", 1);
      setenv("REDIS_PORT", std::to_string(server_->tlsPort()).c_str(), 1);
      setenv("REDIS_USER", server_->adminUser().c_str(), 1);
      setenv("REDIS_PASSWORD", server_->adminPassword().c_str(), 1);
      setenv("REDIS_CA_FILE", server_->caFile().c_str(), 1);
      setenv("REDIS_SERVER_NAME", "redis.test", 1);
      std::vector<char*> argv = {const_cast<char*>(binary_.c_str())};
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(binary_.c_str(), argv.data());
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return CliRun{WIFEXITED(status) ? WEXITSTATUS(status) : -1, readFile(out), readFile(err)};
  }
  static std::vector<std::string> common(const std::string& command, const std::string& target) {
    return {command, "--engine", "redis", "--target", target, "--destination", "dir:" + dir_ + "/dest", "--keys-dir",
            dir_ + "/keys", "--actor", "test"};
  }
  static std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& more) {
    a.insert(a.end(), more.begin(), more.end());
    return a;
  }
  // The plaintext of a backup, through the independent decoder written from docs/backup-format.md.
  static std::string decode(const std::string& target, const std::string& id) {
    const std::string base = dir_ + "/dest/" + target + "/" + id, out = dir_ + "/" + id + ".plain";
    const std::string cmd = "/usr/bin/python3 " + source_ + "/tests/tool/backup_decoder/decode.py --key-id key-1 --key-hex " +
                            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef --manifest " + base +
                            ".manifest.json --out " + out + " " + base + ".sdbk >/dev/null";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    return out;
  }
  static std::string digest() { return admin({"DEBUG", "DIGEST"}).str; }
  static long long restoreCalls() {
    const std::string stats = admin({"INFO", "commandstats"}).str, key = "cmdstat_restore:calls=";
    auto at = stats.find(key);
    return at == std::string::npos ? 0 : std::stoll(stats.substr(at + key.size()));
  }
  static std::set<std::string> keysUnder(const std::string& prefix) {
    std::set<std::string> out;
    std::string cursor = "0";
    do {
      Reply r = admin({"SCAN", cursor, "MATCH", globEscape(prefix) + "*", "COUNT", "1000"});
      cursor = r.elements.at(0).str;
      for (const auto& k : r.elements.at(1).elements) out.insert(k.str);
    } while (cursor != "0");
    return out;
  }
  static void tamperLastChunk(const std::string& from, const std::string& to) {
    fs::remove_all(dir_ + "/dest/" + to);
    fs::create_directories(dir_ + "/dest/" + to);
    for (const auto& e : fs::directory_iterator(dir_ + "/dest/" + from))
      if (e.is_regular_file()) fs::copy_file(e.path(), dir_ + "/dest/" + to + "/" + e.path().filename().string());
    for (const auto& e : fs::directory_iterator(dir_ + "/dest/" + to)) {
      if (e.path().extension() != ".sdbk") continue;
      std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(static_cast<std::streamoff>(fs::file_size(e.path())) - 20);
      f.put('\x5a');
    }
  }

  // Tenants bk/a (filled with every type) and bk/b, plus look-alike keys that are nobody's.
  static void fill() {
    if (filled_) return;
    filled_ = true;
    EngineOptions o;
    o.admin = server_->admin();
    RedisEngine e(o);
    for (const char* name : {"a", "b", "c"}) {
      Engine::ReconcileInput in;
      in.id = {"bk", name, std::string("uid-") + name};
      in.credentials = {{"app", std::string("pw-") + name}};
      ASSERT_TRUE(e.reconcile(in).ok());
    }
    auto a = RespClient::connect(server_->as("bk.a", "pw-a"));
    ASSERT_TRUE(a.ok());
    std::vector<std::vector<std::string>> w = {
        {"SET", "bk:a:string", "hello"},
        {"HSET", "bk:a:hash", "f1", "v1", "f2", "v2"},
        {"RPUSH", "bk:a:list", "1", "2", "3"},
        {"SADD", "bk:a:set", "x", "y"},
        {"ZADD", "bk:a:zset", "1", "one", "2", "two"},
        {"XADD", "bk:a:stream", "1-1", "k", "v"},
        {"SET", "bk:a:ttl", "soon", "PX", "3600000"},
        {"SET", std::string("bk:a:bin\0*?[x]\r\n", 16), std::string("\0\1\2", 3)},
        {"SET", "bk:a:big", std::string(1 << 20, 'B')},  // compresses to little in DUMP
    };
    SeededRandom random(11);
    w.push_back({"SET", "bk:a:random", *random.hex(1 << 19)});
    for (int i = 0; i < 3000; ++i) w.push_back({"SET", "bk:a:k" + std::to_string(i), *random.hex(100)});
    auto r = a->pipeline(w);
    ASSERT_TRUE(r.ok());
    for (const auto& x : *r) ASSERT_FALSE(x.isError()) << x.str;
    auto b = RespClient::connect(server_->as("bk.b", "pw-b"));
    ASSERT_TRUE(b.ok());
    ASSERT_TRUE(b->call({"SET", "bk:b:secret", "of-b"}, "set").ok());
    for (const char* other : {"bk:a", "bk:ab:x", "bk:a-b:x", "bka:x"}) admin({"SET", other, "not-a's"});
  }

  static inline std::string dir_, binary_, source_;
  static inline bool filled_ = false;
};

TEST_F(RedisBackupTest, SharedBackupHoldsOnlyTheTenantsKeysAndRestoresIntoANewPrefix) {
  fill();
  const std::set<std::string> aKeys = keysUnder("bk:a:");
  ASSERT_EQ(aKeys.size(), 3010u);
  CliRun b = cli(with(common("backup", "bk/a"), {"--redis-mode", "shared", "--backup-id", "s1", "--chunk-kib", "64"}));
  ASSERT_EQ(b.code, 0) << b.err;
  auto manifest = sdb::parseJson(b.out, "manifest");
  ASSERT_TRUE(manifest.ok()) << b.out;
  EXPECT_EQ(manifest->value("engine", ""), "redis");
  EXPECT_EQ(manifest->value("dumpKind", ""), "redis-keys");
  EXPECT_EQ(manifest->value("engineVersion", "").rfind("7.", 0), 0u);
  EXPECT_GT(manifest->value("chunks", 0), 20);

  // Decode with the independent decoders and check every key.
  const std::string plain = decode("bk/a", "s1");
  const std::string listing = dir_ + "/s1.keys";
  ASSERT_EQ(std::system(("/usr/bin/python3 " + source_ + "/tests/tool/backup_decoder/redis_keys.py --check-prefix bk:a: " +
                         plain + " >" + listing).c_str()),
            0);
  std::ifstream in(listing);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(sdb::parseJson(line, "header")->value("prefix", ""), "bk:a:");
  size_t records = 0;
  while (std::getline(in, line)) {
    auto rec = sdb::parseJson(line, "record");
    ASSERT_TRUE(rec.ok());
    EXPECT_EQ(rec->value("key", std::string()).rfind("bk:a:", 0), 0u);
    ++records;
  }
  EXPECT_EQ(records, aKeys.size());
  const std::string raw = readFile(plain);
  for (const char* foreign : {"bk:b:secret", "of-b", "not-a's", "bk:ab:x", "bk:a-b:x", "bka:x"})
    EXPECT_EQ(raw.find(foreign), std::string::npos) << foreign << " is in A's backup";

  // Restore into the new ServiceDatabase bk/c: equal values and expiry, and its own login works.
  CliRun r = cli(with(common("restore", "bk/a"), {"--backup-id", "s1", "--into-prefix", "bk:c:"}));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(sdb::parseJson(r.out, "out")->value("keys", 0), 3010);
  EXPECT_EQ(keysUnder("bk:c:").size(), aKeys.size());
  for (const auto& k : aKeys) {
    const std::string c = "bk:c:" + k.substr(5);
    EXPECT_EQ(admin({"TYPE", c}).str, admin({"TYPE", k}).str) << k;
    // DIGEST-VALUE does not depend on the order a set or hash happens to iterate in (DUMP does).
    EXPECT_EQ(admin({"DEBUG", "DIGEST-VALUE", c}).elements.at(0).str, admin({"DEBUG", "DIGEST-VALUE", k}).elements.at(0).str) << k;
    EXPECT_EQ(admin({"PEXPIRETIME", c}).integer, admin({"PEXPIRETIME", k}).integer) << k;
  }
  EXPECT_GT(admin({"PEXPIRETIME", "bk:c:ttl"}).integer, 0);
  EXPECT_TRUE(keysUnder("servicedb.io").empty()) << "the staging keys and sets are gone again";
  auto c = RespClient::connect(server_->as("bk.c", "pw-c"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->call({"HGET", "bk:c:hash", "f2"}, "hget")->str, "v2");
  EXPECT_TRUE(c->call({"SET", "bk:c:new", "x"}, "set").ok());
  EXPECT_EQ(admin({"GET", "bk:b:secret"}).str, "of-b");

  // A prefix that holds keys is refused without --replace.
  CliRun busy = cli(with(common("restore", "bk/a"), {"--backup-id", "s1", "--into-prefix", "bk:b:"}));
  EXPECT_NE(busy.code, 0);
  EXPECT_NE(busy.err.find("holds keys"), std::string::npos) << busy.err;
  EXPECT_EQ(admin({"GET", "bk:b:secret"}).str, "of-b");
}

TEST_F(RedisBackupTest, ReplaceSwapsTheTenantsKeysBackAtomically) {
  fill();
  CliRun b = cli(with(common("backup", "bk/a"), {"--redis-mode", "shared", "--backup-id", "s2"}));
  ASSERT_EQ(b.code, 0) << b.err;
  const std::string want = admin({"DEBUG", "DIGEST-VALUE", "bk:a:hash"}).elements.at(0).str;
  admin({"DEL", "bk:a:hash", "bk:a:k1"});
  admin({"SET", "bk:a:junk", "x"});
  CliRun r = cli(with(common("restore", "bk/a"), {"--backup-id", "s2", "--replace"}));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(admin({"DEBUG", "DIGEST-VALUE", "bk:a:hash"}).elements.at(0).str, want);
  EXPECT_EQ(admin({"EXISTS", "bk:a:k1"}).integer, 1);
  EXPECT_EQ(admin({"EXISTS", "bk:a:junk"}).integer, 0);
  EXPECT_EQ(keysUnder("bk:a:").size(), 3010u);
}

TEST_F(RedisBackupTest, ATamperedSharedStreamLeavesTheServerUntouched) {
  fill();
  CliRun b = cli(with(common("backup", "bk/a"), {"--redis-mode", "shared", "--backup-id", "s3", "--chunk-kib", "64"}));
  ASSERT_EQ(b.code, 0) << b.err;
  tamperLastChunk("bk/a", "bk/tampered");
  const std::string before = digest();
  // Into an empty prefix, and with --replace into A itself: the chunks before the bad one were
  // already restored into the staging area, which the abort removed again.
  for (const std::vector<std::string>& into : {std::vector<std::string>{"--into-prefix", "bk:d:"},
                                              std::vector<std::string>{"--into-prefix", "bk:a:", "--replace"}}) {
    const long long restoresBefore = restoreCalls();
    CliRun r = cli(with(with(common("restore", "bk/tampered"), {"--backup-id", "s3"}), into));
    EXPECT_EQ(r.code, 1);
    EXPECT_GT(restoreCalls(), restoresBefore + 1000) << "the chunks before the bad one did reach the staging area";
    EXPECT_NE(r.err.find("authentication failed"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("chunk "), std::string::npos) << r.err;
    EXPECT_EQ(digest(), before) << "the dataset changed";
  }
  CliRun v = cli(with(common("restore", "bk/tampered"), {"--backup-id", "s3", "--verify-only"}));
  EXPECT_EQ(v.code, 1);
  EXPECT_NE(v.err.find("chunk "), std::string::npos) << v.err;
}

TEST_F(RedisBackupTest, DedicatedRdbRestoresToTheSameDataset) {
  fill();
  const std::string want = digest();
  // Diskless (the payload ends at an EOF mark) and disk-based ("$<length>") transfers.
  CliRun b = cli(with(common("backup", "bk/dedicated"), {"--redis-mode", "dedicated", "--backup-id", "d1", "--chunk-kib", "256"}));
  ASSERT_EQ(b.code, 0) << b.err;
  ASSERT_TRUE(admin({"CONFIG", "SET", "repl-diskless-sync", "no"}).isOk());
  CliRun b2 = cli(with(common("backup", "bk/dedicated"), {"--redis-mode", "dedicated", "--backup-id", "d2"}));
  ASSERT_TRUE(admin({"CONFIG", "SET", "repl-diskless-sync", "yes"}).isOk());
  ASSERT_EQ(b2.code, 0) << b2.err;
  auto manifest = sdb::parseJson(b.out, "manifest");
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(manifest->value("dumpKind", ""), "redis-rdb");
  const std::string rdb1 = readFile(decode("bk/dedicated", "d1")), rdb2 = readFile(decode("bk/dedicated", "d2"));
  for (const std::string* rdb : {&rdb1, &rdb2}) {
    EXPECT_EQ(rdb->rfind("REDIS", 0), 0u) << "the plaintext is an RDB file";
    ASSERT_GT(rdb->size(), 9u);
    EXPECT_EQ(static_cast<uint8_t>((*rdb)[rdb->size() - 9]), 0xff) << "it ends with the EOF opcode and checksum, no mark";
  }
  EXPECT_EQ(readFile(dir_ + "/dest/bk/dedicated/d1.sdbk").find("bk:a:string"), std::string::npos);

  for (const auto& [id, layout] : std::vector<std::pair<std::string, std::string>>{{"d1", "rdb"}, {"d1", "aof"}, {"d2", "aof"}}) {
    const std::string into = dir_ + "/restored-" + id + "-" + layout;
    fs::create_directories(into);
    CliRun r = cli(with(common("restore", "bk/dedicated"), {"--backup-id", id, "--into-dir", into, "--layout", layout}));
    ASSERT_EQ(r.code, 0) << r.err;
    sdb::testing::RedisServerOptions o;
    o.seedDataFrom = into;
    o.appendOnly = layout == "aof";
    o.plainPort = false;
    auto restored = sdb::testing::RedisServer::start(o);
    ASSERT_TRUE(restored.ok()) << restored.error().toString();
    auto d = (*restored)->adminCommand({"DEBUG", "DIGEST"});
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->str, want) << id << " as " << layout;
    EXPECT_GE((*restored)->adminCommand({"DBSIZE"})->integer, 3015) << id << " as " << layout;
  }
}

TEST_F(RedisBackupTest, ATamperedDedicatedStreamLeavesTheTargetFileAlone) {
  fill();
  CliRun b = cli(with(common("backup", "bk/ded2"), {"--redis-mode", "dedicated", "--backup-id", "d2", "--chunk-kib", "64"}));
  ASSERT_EQ(b.code, 0) << b.err;
  tamperLastChunk("bk/ded2", "bk/ded2-tampered");
  const std::string into = dir_ + "/existing";
  fs::create_directories(into);
  std::ofstream(into + "/dump.rdb") << "the instance's current RDB";
  CliRun r = cli(with(common("restore", "bk/ded2-tampered"), {"--backup-id", "d2", "--into-dir", into, "--layout", "rdb", "--replace"}));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("authentication failed"), std::string::npos) << r.err;
  EXPECT_EQ(readFile(into + "/dump.rdb"), "the instance's current RDB");
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(into)) left.push_back(e.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>{"dump.rdb"}) << "no temporary file may remain";
  // Without --replace an existing file is refused before anything is read.
  CliRun refused = cli(with(common("restore", "bk/ded2"), {"--backup-id", "d2", "--into-dir", into, "--layout", "rdb"}));
  EXPECT_NE(refused.code, 0);
  EXPECT_NE(refused.err.find("exists"), std::string::npos) << refused.err;
}

TEST_F(RedisBackupTest, EachDumpKindRefusesTheOtherTarget) {
  fill();
  ASSERT_EQ(cli(with(common("backup", "bk/a"), {"--redis-mode", "shared", "--backup-id", "k1"})).code, 0);
  ASSERT_EQ(cli(with(common("backup", "bk/ded3"), {"--redis-mode", "dedicated", "--backup-id", "r1"})).code, 0);
  const std::string into = dir_ + "/kinds";
  fs::create_directories(into);
  CliRun keysIntoDir = cli(with(common("restore", "bk/a"), {"--backup-id", "k1", "--into-dir", into}));
  EXPECT_NE(keysIntoDir.code, 0);
  EXPECT_NE(keysIntoDir.err.find("restore it with --into-prefix"), std::string::npos) << keysIntoDir.err;
  EXPECT_TRUE(fs::is_empty(into));
  const std::string before = digest();
  CliRun rdbIntoPrefix = cli(with(common("restore", "bk/ded3"), {"--backup-id", "r1", "--into-prefix", "bk:e:"}));
  EXPECT_NE(rdbIntoPrefix.code, 0);
  EXPECT_NE(rdbIntoPrefix.err.find("not a redis keys dump"), std::string::npos) << rdbIntoPrefix.err;
  EXPECT_EQ(digest(), before);
  CliRun bad = cli(with(common("backup", "bk/a"), {"--redis-mode", "sharded", "--backup-id", "x"}));
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("--redis-mode"), std::string::npos) << bad.err;
}

// A name under the target prefix taken while the restore ran: the commit script undoes the keys it
// had already moved, fails, and abort() removes the staging keys and sets.
TEST_F(RedisBackupTest, ACommitThatFindsANameTakenUndoesItself) {
  std::string dump;
  backup::redis::KeysWriter writer([&](const uint8_t* d, size_t n) {
    dump.append(reinterpret_cast<const char*>(d), n);
    return okStatus();
  });
  ASSERT_TRUE(writer.start({"cx:a:", "7.0.15", "now"}).ok());
  for (int i = 1; i <= 50; ++i) {
    const std::string k = "cx:a:" + std::to_string(i);
    admin({"SET", k, "v" + std::to_string(i)});
    ASSERT_TRUE(writer.add({k, -1, admin({"DUMP", k}).str}).ok());
  }
  ASSERT_TRUE(writer.finish().ok());
  backup::redis::KeysTargetOptions o;
  o.server = server_->admin();
  o.targetPrefix = "cx:b:";
  auto target = backup::redis::RedisKeysTarget::open(o);
  ASSERT_TRUE(target.ok()) << target.error().toString();
  ASSERT_TRUE((*target)->write(reinterpret_cast<const uint8_t*>(dump.data()), dump.size()).ok());
  admin({"SET", "cx:b:25", "written meanwhile"});
  auto committed = (*target)->commit();
  ASSERT_FALSE(committed.ok());
  EXPECT_NE(committed.error().message.find("no longer empty"), std::string::npos) << committed.error().message;
  EXPECT_EQ(keysUnder("cx:b:"), std::set<std::string>{"cx:b:25"});
  EXPECT_EQ(admin({"GET", "cx:b:25"}).str, "written meanwhile");
  (*target)->abort();
  EXPECT_TRUE(keysUnder("servicedb.io").empty());
  // The same dump into an empty prefix commits all 50.
  o.targetPrefix = "cx:c:";
  auto again = backup::redis::RedisKeysTarget::open(o);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE((*again)->write(reinterpret_cast<const uint8_t*>(dump.data()), dump.size()).ok());
  ASSERT_TRUE((*again)->commit().ok());
  EXPECT_EQ((*again)->restored(), 50u);
  EXPECT_EQ(admin({"GET", "cx:c:7"}).str, "v7");
}

}  // namespace
}  // namespace sdb::engines::redis
