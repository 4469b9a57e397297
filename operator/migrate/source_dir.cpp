#include "operator/migrate/source_dir.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace sdb::migrate {

namespace fs = std::filesystem;

Result<LoadedMigrations> loadMigrations(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return ioError("--dir " + dir + ": not a directory");
  std::vector<fs::path> entries;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) entries.push_back(it->path());
  if (ec) return ioError("--dir " + dir + ": cannot list: " + ec.message());
  std::sort(entries.begin(), entries.end());

  LoadedMigrations out;
  std::vector<MigrationFile> files;
  for (const fs::path& p : entries) {
    const std::string name = p.filename().string();
    if (name.empty() || name[0] == '.') continue;  // the kubelet's ..data link and ..<timestamp> dir
    if (!looksLikeSqlFile(name)) {
      out.warnings.push_back("ignoring " + name + ": not a .sql file");
      continue;
    }
    auto parsed = parseFileName(name);
    if (!parsed.ok()) return parsed.error();
    if (!fs::is_regular_file(p, ec)) return invalidArgument(name + ": not a regular file");
    std::ifstream in(p, std::ios::binary);
    if (!in) return ioError(name + ": cannot open");
    std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (in.bad()) return ioError(name + ": cannot read");
    auto file = makeMigrationFile(name, std::move(bytes));
    if (!file.ok()) return file.error();
    files.push_back(std::move(file).value());
  }
  auto ordered = orderMigrations(std::move(files));
  if (!ordered.ok()) return ordered.error();
  out.files = std::move(ordered).value();
  return out;
}

}  // namespace sdb::migrate
