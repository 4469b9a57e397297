#include "operator/migrate/migration_file.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "operator/core/hash.h"
#include "operator/migrate/sql_text.h"

namespace sdb::migrate {
namespace {

constexpr size_t kMaxPartDigits = 18;  // fits uint64_t
constexpr std::string_view kDirectivePrefix = "servicedb:";

bool isDigit(char c) { return c >= '0' && c <= '9'; }

bool isKeyChar(char c) {
  return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '.' || c == '_';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// "-- servicedb:transaction=false" -> "transaction=false"; empty when the line is no directive.
std::optional<std::string_view> directiveOf(std::string_view line) {
  line = trim(line);
  if (line.substr(0, 2) != "--") return std::nullopt;
  line = trim(line.substr(2));
  if (line.substr(0, kDirectivePrefix.size()) != kDirectivePrefix) return std::nullopt;
  return trim(line.substr(kDirectivePrefix.size()));
}

}  // namespace

std::string Version::text() const {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? "." : "") + std::to_string(parts[i]);
  return out;
}

Result<Version> parseVersion(std::string_view text) {
  Version v;
  size_t i = 0;
  while (true) {
    size_t start = i;
    while (i < text.size() && isDigit(text[i])) ++i;
    if (i == start) return invalidArgument("version \"" + std::string(text) + "\": want digits separated by . or _");
    if (i - start > kMaxPartDigits)
      return invalidArgument("version \"" + std::string(text) + "\": a part has more than 18 digits");
    v.parts.push_back(std::stoull(std::string(text.substr(start, i - start))));
    if (i == text.size()) break;
    if (text[i] != '.' && text[i] != '_')
      return invalidArgument("version \"" + std::string(text) + "\": want digits separated by . or _");
    ++i;
  }
  while (v.parts.size() > 1 && v.parts.back() == 0) v.parts.pop_back();
  return v;
}

bool looksLikeSqlFile(std::string_view name) {
  if (name.size() < 4) return false;
  std::string ext(name.substr(name.size() - 4));
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".sql";
}

Result<FileName> parseFileName(std::string_view name) {
  const std::string quoted = "\"" + std::string(name) + "\"";
  const std::string rule = ": a migration file is named V<version>__<description>.sql, e.g. V1__init.sql or V1_1__add_index.sql";
  if (name.size() < 4 || name.substr(name.size() - 4) != ".sql")
    return invalidArgument(quoted + ": the extension must be .sql (lowercase)" + rule);
  if (name.front() != 'V') return invalidArgument(quoted + ": the name must start with an uppercase V" + rule);
  std::string_view stem = name.substr(1, name.size() - 5);
  size_t sep = stem.find("__");
  if (sep == std::string_view::npos) return invalidArgument(quoted + ": no \"__\" between version and description" + rule);
  auto version = parseVersion(stem.substr(0, sep));
  if (!version.ok()) return invalidArgument(quoted + ": " + version.error().message + rule);
  std::string_view description = stem.substr(sep + 2);
  if (description.empty()) return invalidArgument(quoted + ": the description is empty" + rule);
  if (!std::all_of(description.begin(), description.end(), isKeyChar))
    return invalidArgument(quoted + ": the description may use only letters, digits, '-', '.' and '_'" + rule);
  return FileName{*version, std::string(description)};
}

Result<bool> parseTransactionDirective(std::string_view sql) {
  if (sql.substr(0, 3) == "\xEF\xBB\xBF") sql.remove_prefix(3);  // a UTF-8 byte order mark
  bool transactional = true;
  size_t lineNo = 0;
  while (!sql.empty()) {
    ++lineNo;
    size_t nl = sql.find('\n');
    std::string_view line = sql.substr(0, nl);
    sql = nl == std::string_view::npos ? std::string_view() : sql.substr(nl + 1);
    auto d = directiveOf(line);
    if (!d) continue;
    if (lineNo != 1)
      return invalidArgument("line " + std::to_string(lineNo) + ": the directive \"" + std::string(trim(line)) +
                             "\" must be the first line of the file");
    if (*d == "transaction=false") transactional = false;
    else if (*d != "transaction=true")
      return invalidArgument("line 1: unknown directive \"" + std::string(trim(line)) +
                             "\": the only one is \"-- servicedb:transaction=false\" (or =true)");
  }
  return transactional;
}

Result<MigrationFile> makeMigrationFile(const std::string& fileName, std::string sql) {
  auto name = parseFileName(fileName);
  if (!name.ok()) return name.error();
  auto transactional = parseTransactionDirective(sql);
  if (!transactional.ok()) return transactional.error().wrap(fileName);
  if (!*transactional) {
    // Split now, so a file the runner could not split is refused before anything runs.
    auto statements = splitStatements(sql.substr(sql.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0));
    if (!statements.ok()) return statements.error().wrap(fileName);
  }
  MigrationFile f;
  f.fileName = fileName;
  f.version = name->version;
  f.description = name->description;
  std::replace(f.description.begin(), f.description.end(), '_', ' ');
  f.checksum = sha256Hex(sql);
  f.transactional = *transactional;
  f.sql = std::move(sql);
  return f;
}

Result<std::vector<MigrationFile>> orderMigrations(std::vector<MigrationFile> files) {
  std::stable_sort(files.begin(), files.end(), [](const MigrationFile& a, const MigrationFile& b) {
    return a.version < b.version || (a.version == b.version && a.fileName < b.fileName);
  });
  for (size_t i = 1; i < files.size(); ++i) {
    if (files[i].version == files[i - 1].version)
      return invalidArgument(files[i - 1].fileName + " and " + files[i].fileName + " have the same version " +
                             files[i].version.text() + " (leading zeros and trailing .0 parts do not count)");
  }
  return files;
}

}  // namespace sdb::migrate
