#include "operator/backup/mongo_tools.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace sdb::backup {
namespace {

std::string percentEncode(const std::string& value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 0xf]};
    }
  }
  return out;
}

// A 0600 file in a fresh 0700 directory, removed with the directory on destruction.
class PrivateConfig {
 public:
  static Result<PrivateConfig> create(const std::string& contents) {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/sdb-mongotools.XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) return ioError("creating a private directory for the tools' config");
    PrivateConfig c(tmpl);
    const std::string path = c.path();
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return ioError("creating " + path);
    size_t done = 0;
    while (done < contents.size()) {
      ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        ::close(fd);
        return ioError("writing " + path);
      }
      done += static_cast<size_t>(n);
    }
    ::close(fd);
    return c;
  }
  PrivateConfig(PrivateConfig&& o) noexcept : dir_(std::exchange(o.dir_, "")) {}
  PrivateConfig& operator=(PrivateConfig&&) = delete;
  ~PrivateConfig() {
    if (dir_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string path() const { return dir_ + "/config.yaml"; }

 private:
  explicit PrivateConfig(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

}  // namespace

std::string mongoUriWithCa(const MongoToolsConnection& c) {
  if (c.caFile.empty()) return c.uri;
  const char sep = c.uri.find('?') == std::string::npos ? '?' : '&';
  std::string uri = c.uri;
  // "mongodb://host" needs a "/" before its options.
  if (sep == '?' && uri.find('/', uri.find("://") + 3) == std::string::npos) uri += "/";
  return uri + sep + "tlsCAFile=" + percentEncode(c.caFile);
}

std::string mongoToolsConfigYaml(const MongoToolsConnection& c) {
  // A JSON string is a valid YAML double-quoted scalar.
  return "uri: " + Json(mongoUriWithCa(c)).dump() + "\n";
}

std::vector<std::string> mongodumpArgv(const std::string& configPath, const std::string& database) {
  return {"mongodump", "--config=" + configPath, "--archive", "--db=" + database,
          std::string("--excludeCollection=") + kMongoMarkerCollection};
}

std::vector<std::string> mongorestoreArgv(const std::string& configPath, const std::string& sourceDatabase,
                                          const std::string& into) {
  return {"mongorestore", "--config=" + configPath, "--archive", "--nsInclude=" + sourceDatabase + ".*",
          "--nsFrom=" + sourceDatabase + ".*", "--nsTo=" + into + ".*", "--stopOnError"};
}

Result<Json> backupWithMongodump(BackupRequest request, const MongoToolsConnection& connection,
                                 const std::string& database, Destination& destination) {
  auto config = PrivateConfig::create(mongoToolsConfigYaml(connection));
  if (!config.ok()) return config.error();
  request.engine = "mongodb";
  request.dumpCommand = mongodumpArgv(config->path(), database);
  return runBackup(request, destination);
}

Result<RestoreSummary> restoreWithMongorestore(RestoreRequest request, const MongoToolsConnection& connection,
                                               const std::string& sourceDatabase, const std::string& into,
                                               Destination& destination) {
  auto config = PrivateConfig::create(mongoToolsConfigYaml(connection));
  if (!config.ok()) return config.error();
  request.restoreCommand = mongorestoreArgv(config->path(), sourceDatabase, into);
  return runRestore(request, destination);
}

}  // namespace sdb::backup
