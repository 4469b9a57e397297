// The access log entry format (access_log.h): one JSON line per entry with fixed fields, names that
// sort in time order, one object per entry in a directory destination, nothing ever rewritten.
#include "operator/backup/access_log.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "operator/core/clock.h"

namespace sdb::backup {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::chrono::system_clock::time_point at(const std::string& s) {
  std::chrono::system_clock::time_point t;
  EXPECT_TRUE(parseRfc3339(s, &t));
  return t;
}

AccessLogEntry sample() {
  AccessLogEntry e;
  e.time = at("2026-11-25T03:15:02Z") + 123456us;
  e.action = access::kWritten;
  e.backupId = "20261125T031500Z-0a1b2c3d";
  e.target = "shop/orders";
  e.actor = "system:serviceaccount:shop:orders-backup";
  e.result = access::kSucceeded;
  e.details = {{"size", 1234}};
  return e;
}

TEST(AccessLog, OneJsonLineWithTheFixedFields) {
  EXPECT_EQ(accessLogLine(sample()),
            R"({"action":"written","actor":"system:serviceaccount:shop:orders-backup","backupId":"20261125T031500Z-0a1b2c3d",)"
            R"("result":"succeeded","size":1234,"target":"shop/orders","time":"2026-11-25T03:15:02.123456Z"})"
            "\n");
  AccessLogEntry withRequester = sample();
  withRequester.requester = "ServiceDatabase shop/orders-copy";
  EXPECT_EQ(accessLogJson(withRequester)["requester"], "ServiceDatabase shop/orders-copy");
  // Details cannot forge a fixed field.
  AccessLogEntry forged = sample();
  forged.details["actor"] = "someone else";
  forged.details["requester"] = "someone else";
  EXPECT_EQ(accessLogJson(forged)["actor"], "system:serviceaccount:shop:orders-backup");
  EXPECT_FALSE(accessLogJson(forged).contains("requester"));
}

TEST(AccessLog, ParsesBackWhatItWrites) {
  AccessLogEntry e = sample();
  e.requester = "ci-pipeline";
  auto back = parseAccessLogLine(accessLogLine(e));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->time, e.time);
  EXPECT_EQ(back->action, "written");
  EXPECT_EQ(back->requester, "ci-pipeline");
  EXPECT_EQ(back->details, (Json{{"size", 1234}}));
  auto missing = parseAccessLogLine(R"({"time":"2026-11-25T03:15:02Z","action":"read","backupId":"x","target":"a/b","result":"failed"})");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("\"actor\""), std::string::npos) << missing.error().message;
  auto badTime = parseAccessLogLine(R"({"time":"yesterday","action":"read","backupId":"x","target":"a/b","actor":"me","result":"failed"})");
  ASSERT_FALSE(badTime.ok());
  EXPECT_NE(badTime.error().message.find("time"), std::string::npos);
}

TEST(AccessLog, ObjectNamesSortInTimeOrder) {
  AccessLogEntry a = sample(), b = sample(), c = sample();
  b.time = a.time + 1us;
  c.time = a.time + 10s;
  c.action = access::kListed;
  c.backupId = access::kAllBackups;
  EXPECT_EQ(accessLogObjectName(a, "ffffffff"),
            "shop/orders/access-log/20261125T031502.123456Z-ffffffff-written-20261125T031500Z-0a1b2c3d.json");
  EXPECT_LT(accessLogObjectName(a, "ffffffff"), accessLogObjectName(b, "00000000"));
  EXPECT_LT(accessLogObjectName(b, "ffffffff"), accessLogObjectName(c, "00000000"));
  EXPECT_EQ(accessLogObjectName(c, "00000000"), "shop/orders/access-log/20261125T031512.123456Z-00000000-listed-all.json");
  AccessLogEntry odd = sample();
  odd.backupId = "../../etc/x y";
  const std::string oddName = accessLogObjectName(odd, "00000000");
  EXPECT_EQ(oddName.substr(std::string("shop/orders/access-log/").size()).find_first_of("/ "), std::string::npos) << oddName;
}

TEST(AccessLog, RefusesEntriesOutsideTheVocabulary) {
  AccessLogEntry e = sample();
  e.action = "write";
  auto s = validateAccessLogEntry(e);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("action \"write\""), std::string::npos);
  e = sample();
  e.result = "ok";
  EXPECT_FALSE(validateAccessLogEntry(e).ok());
  e = sample();
  e.target = "orders";
  EXPECT_FALSE(validateAccessLogEntry(e).ok());
  e = sample();
  e.actor = "";
  EXPECT_FALSE(validateAccessLogEntry(e).ok());
}

TEST(AccessLog, OneObjectPerEntryInADirectoryNeverRewritten) {
  const fs::path dir = fs::temp_directory_path() / ("sdb-access-log-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto dest = Destination::parse("dir:" + dir.string());
  ASSERT_TRUE(dest.ok());
  SeededRandom random(1);
  AccessLogEntry first = sample(), second = sample();
  second.time = first.time + 1s;
  second.action = access::kDeleted;
  second.details = {{"reason", "retention"}};
  ASSERT_TRUE(writeAccessLogEntry(**dest, first, &random).ok());
  const auto firstFile = *fs::directory_iterator(dir / "shop/orders/access-log");
  const auto firstWritten = fs::last_write_time(firstFile.path());
  ASSERT_TRUE(writeAccessLogEntry(**dest, second, &random).ok());
  auto log = readAccessLog(**dest, "shop/orders");
  ASSERT_TRUE(log.ok()) << log.error().message;
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ((*log)[0].action, "written");
  EXPECT_EQ((*log)[1].action, "deleted");
  EXPECT_EQ((*log)[1].details["reason"], "retention");
  EXPECT_EQ(fs::last_write_time(firstFile.path()), firstWritten);
  // An invalid entry writes nothing.
  AccessLogEntry bad = sample();
  bad.action = "peeked";
  EXPECT_FALSE(writeAccessLogEntry(**dest, bad, &random).ok());
  EXPECT_EQ(readAccessLog(**dest, "shop/orders")->size(), 2u);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sdb::backup
