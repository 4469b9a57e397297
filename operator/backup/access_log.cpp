#include "operator/backup/access_log.h"

#include <cstdio>

#include "operator/core/clock.h"

namespace sdb::backup {
namespace {

using std::chrono::system_clock;

// "2026-11-25T03:15:02.123456Z" and its compact form "20261125T031502.123456Z".
std::string microsRfc3339(system_clock::time_point t, bool compact) {
  using namespace std::chrono;
  const auto micros = duration_cast<microseconds>(t.time_since_epoch()).count() % 1000000;
  std::string base = formatRfc3339(floor<seconds>(t));  // ...Z
  base.pop_back();
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%06lld", static_cast<long long>(micros < 0 ? micros + 1000000 : micros));
  std::string out = base + frac + "Z";
  if (!compact) return out;
  std::string c;
  for (char ch : out) {
    if (ch != '-' && ch != ':') c.push_back(ch);
  }
  return c;
}

// parseRfc3339 keeps whole seconds; entries carry microseconds.
std::chrono::microseconds fractionMicros(const std::string& rfc3339) {
  const auto dot = rfc3339.find('.');
  if (dot == std::string::npos) return {};
  long long micros = 0;
  int digits = 0;
  for (size_t i = dot + 1; i < rfc3339.size() && rfc3339[i] >= '0' && rfc3339[i] <= '9'; ++i) {
    if (digits < 6) micros = micros * 10 + (rfc3339[i] - '0'), ++digits;
  }
  while (digits++ < 6) micros *= 10;
  return std::chrono::microseconds(micros);
}

bool oneOf(const std::string& v, std::initializer_list<const char*> options) {
  for (const char* o : options) {
    if (v == o) return true;
  }
  return false;
}

// Keeps object names to a safe alphabet whatever a backup id holds.
std::string nameSafe(const std::string& s) {
  std::string out;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.';
    out.push_back(ok ? c : '_');
  }
  return out;
}

}  // namespace

Json accessLogJson(const AccessLogEntry& e) {
  Json j = e.details.is_object() ? e.details : Json::object();
  j["time"] = microsRfc3339(e.time, false);
  j["action"] = e.action;
  j["backupId"] = e.backupId;
  j["target"] = e.target;
  j["actor"] = e.actor;
  if (!e.requester.empty()) j["requester"] = e.requester;
  else j.erase("requester");
  j["result"] = e.result;
  return j;
}

std::string accessLogLine(const AccessLogEntry& entry) { return accessLogJson(entry).dump() + "\n"; }

Result<AccessLogEntry> parseAccessLogLine(const std::string& line) {
  auto j = parseJson(line, "access log entry");
  if (!j.ok()) return j.error();
  if (!j->is_object()) return invalidArgument("access log entry: not a JSON object");
  AccessLogEntry e;
  auto field = [&](const char* name, std::string* out, bool required) -> Status {
    auto it = j->find(name);
    if (it == j->end()) {
      return required ? Status(invalidArgument(std::string("access log entry: no \"") + name + "\"")) : okStatus();
    }
    if (!it->is_string()) return invalidArgument(std::string("access log entry: \"") + name + "\" is not a string");
    *out = it->get<std::string>();
    j->erase(it);
    return okStatus();
  };
  std::string time;
  SDB_TRY(field("time", &time, true));
  SDB_TRY(field("action", &e.action, true));
  SDB_TRY(field("backupId", &e.backupId, true));
  SDB_TRY(field("target", &e.target, true));
  SDB_TRY(field("actor", &e.actor, true));
  SDB_TRY(field("requester", &e.requester, false));
  SDB_TRY(field("result", &e.result, true));
  if (!parseRfc3339(time, &e.time)) return invalidArgument("access log entry: \"time\" is not RFC 3339: " + time);
  e.time += fractionMicros(time);
  e.details = std::move(*j);
  return e;
}

std::string accessLogPrefix(const std::string& target) { return target + "/access-log/"; }

std::string accessLogObjectName(const AccessLogEntry& e, const std::string& unique) {
  return accessLogPrefix(e.target) + microsRfc3339(e.time, true) + "-" + unique + "-" + nameSafe(e.action) + "-" +
         nameSafe(e.backupId == access::kAllBackups ? "all" : e.backupId) + ".json";
}

Status validateAccessLogEntry(const AccessLogEntry& e) {
  using namespace access;
  if (!oneOf(e.action, {kWritten, kListed, kRead, kRestored, kDeleted})) {
    return invalidArgument("access log entry: action \"" + e.action + "\" is not written, listed, read, restored or deleted");
  }
  if (!oneOf(e.result, {kSucceeded, kFailed})) {
    return invalidArgument("access log entry: result \"" + e.result + "\" is not succeeded or failed");
  }
  if (e.backupId.empty()) return invalidArgument("access log entry: no backupId");
  if (e.target.empty() || e.target.find('/') == std::string::npos) {
    return invalidArgument("access log entry: target \"" + e.target + "\" is not NAMESPACE/NAME");
  }
  if (e.actor.empty()) return invalidArgument("access log entry: no actor");
  return okStatus();
}

Status writeAccessLogEntry(Destination& dest, const AccessLogEntry& entry, Random* random) {
  SDB_TRY(validateAccessLogEntry(entry));
  Random& r = random ? *random : CryptoRandom::instance();
  auto unique = r.hex(4);
  if (!unique.ok()) return unique.error();
  auto w = dest.create(accessLogObjectName(entry, *unique));
  if (!w.ok()) return w.error().wrap("writing the access log");
  const std::string line = accessLogLine(entry);
  SDB_TRY((*w)->write(reinterpret_cast<const uint8_t*>(line.data()), line.size()));
  return (*w)->commit();
}

Status recordAccess(Destination& dest, const AccessLogContext& context, const std::string& action,
                    const std::string& backupId, const std::string& result, const Json& details) {
  AccessLogEntry e;
  e.time = system_clock::now();
  e.action = action;
  e.backupId = backupId;
  e.target = context.target;
  e.actor = context.actor.empty() ? "unknown" : context.actor;
  e.requester = context.requester;
  e.result = result;
  e.details = details;
  SDB_TRY(writeAccessLogEntry(dest, e));
  for (AccessLogSink* sink : context.sinks) {
    if (auto s = sink->record(e); !s.ok()) {
      std::fprintf(stderr, "servicedb-operator: warning: access log entry stored in the destination, but not sent on: %s\n",
                   s.error().message.c_str());
    }
  }
  return okStatus();
}

Result<std::vector<AccessLogEntry>> readAccessLog(Destination& dest, const std::string& target) {
  auto names = dest.list(accessLogPrefix(target));
  if (!names.ok()) return names.error();
  std::vector<AccessLogEntry> out;
  for (const auto& name : *names) {
    auto reader = dest.open(name);
    if (!reader.ok()) return reader.error();
    std::string text;
    uint8_t buf[4096];
    while (true) {
      auto n = (*reader)->read(buf, sizeof buf);
      if (!n.ok()) return n.error();
      if (*n == 0) break;
      text.append(reinterpret_cast<char*>(buf), *n);
    }
    auto e = parseAccessLogLine(text);
    if (!e.ok()) return e.error().wrap(name);
    out.push_back(std::move(*e));
  }
  return out;
}

}  // namespace sdb::backup
