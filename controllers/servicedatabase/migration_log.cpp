#include "controllers/servicedatabase/migration_log.h"

#include <algorithm>
#include <cctype>

#include "operator/core/json.h"

namespace sdb::controllers::servicedatabase {

namespace {

constexpr size_t kWindowBytes = 64 * 1024;
constexpr const char* kRedacted = "<redacted>";

// Length of the valid UTF-8 sequence at s[i], or 0.
size_t utf8Length(const std::string& s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  if (n == 2 && c < 0xC2) return 0;  // overlong
  return n;
}

bool authorityEnd(char c) {
  return c == '/' || c == '?' || c == '#' || c == '"' || c == '\'' || c == '`' ||
         std::isspace(static_cast<unsigned char>(c));
}

// scheme://user:password@host -> scheme://user:<redacted>@host
std::string redactUriPasswords(const std::string& text) {
  std::string out;
  size_t pos = 0;
  while (true) {
    const size_t sep = text.find("://", pos);
    if (sep == std::string::npos) break;
    const size_t start = sep + 3;
    size_t end = start;
    while (end < text.size() && !authorityEnd(text[end])) ++end;
    const size_t at = text.rfind('@', end == 0 ? 0 : end - 1);
    const size_t colon = text.find(':', start);
    out.append(text, pos, start - pos);
    if (at != std::string::npos && at >= start && at < end && colon != std::string::npos && colon < at) {
      out.append(text, start, colon + 1 - start);
      out += kRedacted;
      out.append(text, at, end - at);
    } else {
      out.append(text, start, end - start);
    }
    pos = end;
  }
  out.append(text, pos, std::string::npos);
  return out;
}

// The summary line comes from a pod's log: untrusted, so every field is read by type.
std::string str(const Json& o, const std::string& key) { return jsonString(o, {key}); }

std::string fmtFailure(const Json& f) {
  std::string s = jsonString(f, {"file"}, "a migration") + " failed";
  if (!str(f, "sqlstate").empty()) s += ": SQLSTATE " + str(f, "sqlstate");
  s += ": " + str(f, "message");
  std::string where;
  if (f.contains("statement") && f["statement"].is_number_integer()) {
    where = "statement " + std::to_string(f["statement"].get<int64_t>());
  }
  if (f.contains("line") && f["line"].is_number_integer()) {
    where += (where.empty() ? "" : ", ") + std::string("line ") + std::to_string(f["line"].get<int64_t>());
    if (f.contains("column") && f["column"].is_number_integer()) {
      where += ", column " + std::to_string(f["column"].get<int64_t>());
    }
  }
  if (!where.empty()) s += " (" + where + ")";
  if (!str(f, "detail").empty()) s += "; detail: " + str(f, "detail");
  if (!str(f, "hint").empty()) s += "; hint: " + str(f, "hint");
  const Json* partial = jsonAt(f, {"partialEffects"});
  if (partial && partial->is_boolean() && partial->get<bool>()) s += "; the file's earlier statements took effect";
  return s;
}

}  // namespace

std::string redactSecrets(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    if (secret.size() < 4) continue;  // nothing we generate is that short; avoid redacting "a"
    for (size_t p = text.find(secret); p != std::string::npos; p = text.find(secret, p + std::char_traits<char>::length(kRedacted))) {
      text.replace(p, secret.size(), kRedacted);
    }
  }
  return redactUriPasswords(text);
}

std::string sanitizeText(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8Length(text, i);
    if (n == 0) {
      out.push_back('?');
      ++i;
      continue;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (n == 1 && c < 0x20 && c != '\n' && c != '\t') {
      out.push_back(c == '\r' ? '\n' : '?');
    } else if (n == 1 && c == 0x7F) {
      out.push_back('?');
    } else {
      out.append(text, i, n);
    }
    i += n;
  }
  return out;
}

std::string describeMigrationSummary(const std::string& log) {
  const std::string window = log.size() > kWindowBytes ? log.substr(log.size() - kWindowBytes) : log;
  size_t end = window.size();
  while (end > 0) {
    size_t start = window.rfind('\n', end - 1);
    start = start == std::string::npos ? 0 : start + 1;
    const std::string line = window.substr(start, end - start);
    if (line.find(kMigrationSummaryType) != std::string::npos) {
      auto j = parseJson(line);
      if (j.ok() && j->is_object() && str(*j, "type") == kMigrationSummaryType) {
        const std::string result = str(*j, "result");
        if (j->contains("failure") && (*j)["failure"].is_object()) return fmtFailure((*j)["failure"]);
        if (j->contains("error") && (*j)["error"].is_string()) {
          return std::string(result == "refused" ? "refused" : "failed") + ": " + (*j)["error"].get<std::string>();
        }
        return "the runner reported " + (result.empty() ? std::string("no result") : result);
      }
    }
    if (start == 0) break;
    end = start - 1;
  }
  return "";
}

std::string migrationLogReport(const std::string& log, const std::vector<std::string>& secrets, size_t maxTailBytes) {
  std::string window = log.size() > kWindowBytes ? log.substr(log.size() - kWindowBytes) : log;
  window = sanitizeText(redactSecrets(std::move(window), secrets));
  while (!window.empty() && (window.back() == '\n' || window.back() == ' ')) window.pop_back();
  std::string tail = window;
  if (tail.size() > maxTailBytes) {
    size_t cut = tail.size() - maxTailBytes;
    const size_t nextLine = tail.find('\n', cut);
    if (nextLine != std::string::npos && nextLine - cut < maxTailBytes / 2) cut = nextLine + 1;
    // Never start inside a UTF-8 sequence.
    while (cut < tail.size() && (static_cast<unsigned char>(tail[cut]) & 0xC0) == 0x80) ++cut;
    tail = "..." + tail.substr(cut);
  }
  std::string out;
  std::string summary = sanitizeText(redactSecrets(describeMigrationSummary(log), secrets));
  if (summary.size() > maxTailBytes / 2) {
    size_t keep = maxTailBytes / 2;
    while (keep > 0 && (static_cast<unsigned char>(summary[keep]) & 0xC0) == 0x80) --keep;
    summary = summary.substr(0, keep) + "...";
  }
  if (!summary.empty()) out = summary + "\n";
  out += tail.empty() ? "the pod's log is empty" : "log tail:\n" + tail;
  return out;
}

}  // namespace sdb::controllers::servicedatabase
