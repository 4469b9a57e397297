#include "operator/backup/toc.h"

#include <algorithm>
#include <sstream>

namespace sdb::backup {
namespace {

// Every database has schema public. pg_dump lists it only when its owner or privileges differ from a
// fresh database's (the engine gives it to the owner role); a restore with --no-owner and
// --no-privileges does not carry those, so the restored copy's dump never lists it.
constexpr const char* kPublicSchemaEntry = "SCHEMA - public";

}  // namespace

std::vector<std::string> tocEntries(const std::string& listing) {
  std::vector<std::string> entries;
  std::istringstream in(listing);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == ';') continue;
    std::istringstream words(line);
    std::vector<std::string> w;
    std::string word;
    while (words >> word) w.push_back(word);
    // "<id>;" "<catalog oid>" "<object oid>", at least one word of type, schema, name, owner.
    if (w.size() < 6 || w[0].back() != ';') continue;
    std::string entry;
    for (size_t i = 3; i + 1 < w.size(); ++i) entry += (entry.empty() ? "" : " ") + w[i];
    if (entry == kPublicSchemaEntry) continue;
    entries.push_back(std::move(entry));
  }
  std::sort(entries.begin(), entries.end());
  return entries;
}

std::vector<std::string> tocDifferences(const std::vector<std::string>& backup, const std::vector<std::string>& restored,
                                        size_t limit) {
  std::vector<std::string> missing, extra;
  std::set_difference(backup.begin(), backup.end(), restored.begin(), restored.end(), std::back_inserter(missing));
  std::set_difference(restored.begin(), restored.end(), backup.begin(), backup.end(), std::back_inserter(extra));
  std::vector<std::string> out;
  size_t total = missing.size() + extra.size();
  for (const auto& m : missing) {
    if (out.size() == limit) break;
    out.push_back("missing after the restore: " + m);
  }
  for (const auto& e : extra) {
    if (out.size() == limit) break;
    out.push_back("not in the backup: " + e);
  }
  if (total > out.size()) out.push_back("... and " + std::to_string(total - out.size()) + " more");
  return out;
}

}  // namespace sdb::backup
