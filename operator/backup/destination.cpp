#include "operator/backup/destination.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "operator/core/clock.h"

namespace sdb::backup {
namespace fs = std::filesystem;
namespace {

// ---------------------------------------------------------------- directory

class FileWriter final : public ObjectWriter {
 public:
  FileWriter(fs::path final, fs::path partial, int fd) : final_(std::move(final)), partial_(std::move(partial)), fd_(fd) {}
  ~FileWriter() override { abort(); }
  Status write(const uint8_t* data, size_t size) override {
    while (size > 0) {
      ssize_t n = ::write(fd_, data, size);
      if (n < 0) return ioError("writing " + partial_.string() + ": " + std::strerror(errno));
      data += n;
      size -= static_cast<size_t>(n);
    }
    return okStatus();
  }
  Status commit() override {
    if (::fsync(fd_) != 0 || ::close(fd_) != 0) return ioError("closing " + partial_.string());
    fd_ = -1;
    std::error_code ec;
    fs::rename(partial_, final_, ec);
    if (ec) return ioError("renaming " + partial_.string() + ": " + ec.message());
    return okStatus();
  }
  void abort() override {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
      std::error_code ec;
      fs::remove(partial_, ec);
    }
  }

 private:
  fs::path final_, partial_;
  int fd_;
};

class FileReader final : public ObjectReader {
 public:
  explicit FileReader(int fd) : fd_(fd) {}
  ~FileReader() override { ::close(fd_); }
  Result<size_t> read(uint8_t* buf, size_t size) override {
    ssize_t n = ::read(fd_, buf, size);
    if (n < 0) return ioError(std::string("read: ") + std::strerror(errno));
    return static_cast<size_t>(n);
  }

 private:
  int fd_;
};

class DirectoryDestination final : public Destination {
 public:
  explicit DirectoryDestination(fs::path root) : root_(std::move(root)) {}
  Result<std::unique_ptr<ObjectWriter>> create(const std::string& path) override {
    fs::path final = root_ / path, partial = final.string() + ".partial";
    std::error_code ec;
    fs::create_directories(final.parent_path(), ec);
    if (fs::exists(final)) return Error(ErrorCode::kAlreadyExists, final.string() + " already exists");
    int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return ioError("creating " + partial.string() + ": " + std::strerror(errno));
    return std::unique_ptr<ObjectWriter>(std::make_unique<FileWriter>(final, partial, fd));
  }
  Result<std::unique_ptr<ObjectReader>> open(const std::string& path) override {
    int fd = ::open((root_ / path).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return notFound((root_ / path).string() + ": " + std::strerror(errno));
    return std::unique_ptr<ObjectReader>(std::make_unique<FileReader>(fd));
  }
  Result<std::vector<std::string>> list(const std::string& prefix) override {
    std::vector<std::string> out;
    fs::path dir = root_ / prefix;
    std::error_code ec;
    if (!fs::exists(dir, ec)) return out;
    for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
      if (!e.is_regular_file()) continue;
      std::string rel = fs::relative(e.path(), root_).string();
      if (rel.size() > 8 && rel.compare(rel.size() - 8, 8, ".partial") == 0) continue;
      out.push_back(rel);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  Status remove(const std::string& path) override {
    std::error_code ec;
    if (!fs::remove(root_ / path, ec)) return ioError("removing " + (root_ / path).string() + ": " + ec.message());
    return okStatus();
  }
  std::string describe() const override { return "dir:" + root_.string(); }

 private:
  fs::path root_;
};

// ---------------------------------------------------------------- S3 through rclone

// Runs rclone with the S3 remote configured by environment variables, as Debian's rclone reads them.
struct Rclone {
  S3Options o;
  std::vector<std::string> env() const {
    std::vector<std::string> e = {"RCLONE_CONFIG_S3_TYPE=s3", "RCLONE_CONFIG_S3_PROVIDER=Other",
                                  "RCLONE_CONFIG_S3_ENV_AUTH=true"};
    if (!o.endpoint.empty()) e.push_back("RCLONE_CONFIG_S3_ENDPOINT=" + o.endpoint);
    if (!o.region.empty()) e.push_back("RCLONE_CONFIG_S3_REGION=" + o.region);
    if (o.forcePathStyle) e.push_back("RCLONE_CONFIG_S3_FORCE_PATH_STYLE=true");
    return e;
  }
  std::string remote(const std::string& path) const {
    std::string p = o.prefix;
    if (!p.empty() && p.back() != '/') p += '/';
    return "s3:" + o.bucket + "/" + p + path;
  }
  // The CA file for rclone's --ca-cert, or "" for the system roots. AWS_CA_BUNDLE is always removed
  // from rclone's environment: the AWS SDK inside rclone cannot apply it to rclone's HTTP transport
  // and fails every request with LoadCustomCABundleError, over https as well as http (measured with
  // Debian's rclone 1.60). Its value is honoured through --ca-cert instead, for https endpoints.
  std::string caCert() const {
    if (!o.caCert.empty()) return o.caCert;
    if (o.endpoint.rfind("http://", 0) == 0) return "";
    const char* bundle = std::getenv("AWS_CA_BUNDLE");
    return bundle != nullptr ? bundle : "";
  }
  // Spawns rclone; `stdinFd`/`stdoutFd` receive pipe ends when requested.
  pid_t spawn(const std::vector<std::string>& args, int* stdinFd, int* stdoutFd) const {
    std::vector<std::string> full = {"rclone"};
    if (const std::string ca = caCert(); !ca.empty()) {
      full.push_back("--ca-cert");
      full.push_back(ca);
    }
    full.insert(full.end(), args.begin(), args.end());
    const std::vector<std::string> environment = env();
    int in[2] = {-1, -1}, out[2] = {-1, -1};
    if (stdinFd && pipe2(in, O_CLOEXEC) != 0) return -1;
    if (stdoutFd && pipe2(out, O_CLOEXEC) != 0) return -1;
    pid_t pid = fork();
    if (pid == 0) {
      if (stdinFd) dup2(in[0], 0);
      if (stdoutFd) dup2(out[1], 1);
      for (const auto& kv : environment) putenv(const_cast<char*>(kv.c_str()));
      unsetenv("AWS_CA_BUNDLE");
      std::vector<char*> argv;
      for (const auto& a : full) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execvp("rclone", argv.data());
      _exit(127);
    }
    if (stdinFd) {
      close(in[0]);
      *stdinFd = in[1];
    }
    if (stdoutFd) {
      close(out[1]);
      *stdoutFd = out[0];
    }
    return pid;
  }
};

int waitExit(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class S3Writer final : public ObjectWriter {
 public:
  S3Writer(pid_t pid, int fd, std::string remote) : pid_(pid), fd_(fd), remote_(std::move(remote)) {}
  ~S3Writer() override { abort(); }
  Status write(const uint8_t* data, size_t size) override {
    while (size > 0) {
      ssize_t n = ::write(fd_, data, size);
      if (n < 0) return ioError("streaming to " + remote_ + " through rclone: " + std::strerror(errno));
      data += n;
      size -= static_cast<size_t>(n);
    }
    return okStatus();
  }
  Status commit() override {
    ::close(fd_);
    fd_ = -1;
    int code = waitExit(pid_);
    pid_ = -1;
    if (code != 0) return ioError("rclone rcat " + remote_ + " exited with " + std::to_string(code));
    return okStatus();
  }
  void abort() override {
    if (pid_ > 0) {
      // Killing rclone before EOF abandons the multipart upload: nothing becomes visible.
      ::kill(pid_, SIGKILL);
      if (fd_ >= 0) ::close(fd_);
      waitExit(pid_);
      pid_ = -1;
      fd_ = -1;
    }
  }

 private:
  pid_t pid_;
  int fd_;
  std::string remote_;
};

class S3Reader final : public ObjectReader {
 public:
  S3Reader(pid_t pid, int fd, std::string remote) : pid_(pid), fd_(fd), remote_(std::move(remote)) {}
  ~S3Reader() override {
    ::close(fd_);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      waitExit(pid_);
    }
  }
  Result<size_t> read(uint8_t* buf, size_t size) override {
    ssize_t n = ::read(fd_, buf, size);
    if (n < 0) return ioError("reading " + remote_ + ": " + std::strerror(errno));
    if (n == 0 && pid_ > 0) {
      int code = waitExit(pid_);
      pid_ = -1;
      if (code != 0) return ioError("rclone cat " + remote_ + " exited with " + std::to_string(code));
    }
    return static_cast<size_t>(n);
  }

 private:
  pid_t pid_;
  int fd_;
  std::string remote_;
};

class S3Destination final : public Destination {
 public:
  explicit S3Destination(S3Options o) : rc_{std::move(o)} {}
  Result<std::unique_ptr<ObjectWriter>> create(const std::string& path) override {
    int fd = -1;
    const std::string remote = rc_.remote(path);
    pid_t pid = rc_.spawn({"rcat", "--streaming-upload-cutoff", "1M", remote}, &fd, nullptr);
    if (pid < 0) return ioError("cannot start rclone");
    return std::unique_ptr<ObjectWriter>(std::make_unique<S3Writer>(pid, fd, remote));
  }
  Result<std::unique_ptr<ObjectReader>> open(const std::string& path) override {
    int fd = -1;
    const std::string remote = rc_.remote(path);
    pid_t pid = rc_.spawn({"cat", remote}, nullptr, &fd);
    if (pid < 0) return ioError("cannot start rclone");
    return std::unique_ptr<ObjectReader>(std::make_unique<S3Reader>(pid, fd, remote));
  }
  Result<std::vector<std::string>> list(const std::string& prefix) override {
    int fd = -1;
    pid_t pid = rc_.spawn({"lsf", "-R", "--files-only", rc_.remote(prefix)}, nullptr, &fd);
    if (pid < 0) return ioError("cannot start rclone");
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    waitExit(pid);  // a missing prefix is an empty list
    std::vector<std::string> files;
    size_t start = 0;
    std::string base = prefix;
    if (!base.empty() && base.back() != '/') base += '/';
    while (start < out.size()) {
      size_t nl = out.find('\n', start);
      std::string line = out.substr(start, nl - start);
      if (!line.empty()) files.push_back(base + line);
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
    std::sort(files.begin(), files.end());
    return files;
  }
  Status remove(const std::string& path) override {
    pid_t pid = rc_.spawn({"deletefile", rc_.remote(path)}, nullptr, nullptr);
    if (pid < 0 || waitExit(pid) != 0) return ioError("rclone deletefile " + rc_.remote(path) + " failed");
    return okStatus();
  }
  std::string describe() const override { return "s3://" + rc_.o.bucket + "/" + rc_.o.prefix; }

 private:
  Rclone rc_;
};

}  // namespace

Result<std::unique_ptr<Destination>> Destination::parse(const std::string& spec, const S3Options& s3) {
  if (spec.rfind("s3://", 0) == 0) {
    std::string rest = spec.substr(5);
    S3Options o = s3;
    auto slash = rest.find('/');
    o.bucket = rest.substr(0, slash);
    if (slash != std::string::npos && o.prefix.empty()) o.prefix = rest.substr(slash + 1);
    if (o.bucket.size() < 3 || o.bucket.size() > 63) return invalidArgument("--destination: S3 bucket names have 3 to 63 characters");
    if (!o.caCert.empty() && ::access(o.caCert.c_str(), R_OK) != 0)
      return invalidArgument("--s3-ca-cert: cannot read " + o.caCert + ": " + std::strerror(errno));
    return std::unique_ptr<Destination>(std::make_unique<S3Destination>(o));
  }
  std::string path = spec.rfind("dir:", 0) == 0 ? spec.substr(4) : spec;
  if (path.empty() || path[0] != '/') return invalidArgument("--destination: want dir:/absolute/path, /absolute/path or s3://bucket/prefix");
  return std::unique_ptr<Destination>(std::make_unique<DirectoryDestination>(path));
}

}  // namespace sdb::backup
