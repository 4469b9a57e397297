#include "operator/core/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <nlohmann/json.hpp>

namespace sdb {
namespace {

// Messages from logStructured() start with this byte and carry pre-rendered JSON fields.
constexpr char kStructuredMarker = '\x1f';

std::string quote(std::string_view s) {
  return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// %J: the message as JSON fields ("msg":"..." for plain messages).
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string_view payload(msg.payload.data(), msg.payload.size());
    std::string out;
    if (!payload.empty() && payload.front() == kStructuredMarker) {
      out.assign(payload.substr(1));
    } else {
      out = "\"msg\":" + quote(payload);
    }
    dest.append(out.data(), out.data() + out.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JsonMessageFlag>(); }
};

// %T for text format: structured fields shown as key=value.
class TextMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string_view payload(msg.payload.data(), msg.payload.size());
    std::string out;
    if (!payload.empty() && payload.front() == kStructuredMarker) {
      auto j = nlohmann::json::parse("{" + std::string(payload.substr(1)) + "}", nullptr, false);
      if (j.is_object()) {
        out = j.value("msg", "");
        for (auto& [k, v] : j.items()) {
          if (k != "msg") out += " " + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
        }
      }
    } else {
      out.assign(payload);
    }
    dest.append(out.data(), out.data() + out.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<TextMessageFlag>(); }
};

}  // namespace

std::string renderLogFields(const std::string& msg, const LogFields& fields) {
  std::string out = "\"msg\":" + quote(msg);
  for (const auto& [k, v] : fields) out += "," + quote(k) + ":" + quote(v);
  return out;
}

void logStructured(spdlog::level::level_enum level, const std::string& msg, const LogFields& fields) {
  std::string payload(1, kStructuredMarker);
  payload += renderLogFields(msg, fields);
  spdlog::log(level, "{}", payload);
}

Status setupLogging(const LogOptions& options) {
  auto level = spdlog::level::from_str(options.level);
  if (level == spdlog::level::off && options.level != "off") {
    return invalidArgument("--log-level: unsupported value \"" + options.level +
                           "\": supported values: trace, debug, info, warn, error, off");
  }
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  if (options.format == "json") {
    formatter->add_flag<JsonMessageFlag>('J').set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%J})");
  } else if (options.format == "text") {
    formatter->add_flag<TextMessageFlag>('T').set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %T");
  } else {
    return invalidArgument("--log-format: unsupported value \"" + options.format +
                           "\": supported values: json, text");
  }
  auto logger = spdlog::get("servicedb");
  if (!logger) logger = spdlog::stderr_logger_mt("servicedb");
  logger->set_formatter(std::move(formatter));
  logger->set_level(level);
  spdlog::set_default_logger(logger);
  return okStatus();
}

}  // namespace sdb
