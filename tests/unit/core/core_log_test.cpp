#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "operator/core/log.h"

namespace sdb {
namespace {

TEST(Log, JsonFormatEmitsOneParsableObjectPerLine) {
  ASSERT_TRUE(setupLogging({"debug", "json"}).ok());
  // Add a string sink; setting up again applies the formatter to every sink of the logger.
  std::ostringstream out;
  auto logger = spdlog::default_logger();
  logger->sinks().push_back(std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  ASSERT_TRUE(setupLogging({"debug", "json"}).ok());
  spdlog::info("plain \"quoted\" message");
  logStructured(spdlog::level::warn, "reconciled", {{"controller", "servicedatabase"}, {"name", "orders"}});
  logger->flush();
  logger->sinks().pop_back();

  std::istringstream lines(out.str());
  std::string line;
  std::vector<nlohmann::json> parsed;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << line;
    parsed.push_back(j);
  }
  ASSERT_EQ(parsed.size(), 2u);
  EXPECT_EQ(parsed[0]["msg"], "plain \"quoted\" message");
  EXPECT_EQ(parsed[0]["level"], "info");
  EXPECT_TRUE(parsed[0].contains("ts"));
  EXPECT_EQ(parsed[1]["msg"], "reconciled");
  EXPECT_EQ(parsed[1]["level"], "warning");
  EXPECT_EQ(parsed[1]["controller"], "servicedatabase");
  EXPECT_EQ(parsed[1]["name"], "orders");
}

TEST(Log, RejectsUnknownLevelNamingTheFlag) {
  auto s = setupLogging({"loud", "json"});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("--log-level"), std::string::npos);
}

}  // namespace
}  // namespace sdb
