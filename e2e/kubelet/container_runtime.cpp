#include "e2e/kubelet/container_runtime.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <future>

namespace sdb::kubelet {

std::string defaultContainerInitPath() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "servicedb-container-init";
  return (self.parent_path() / "servicedb-container-init").string();
}

ContainerRuntime::ContainerRuntime(std::string initPath) : initPath_(std::move(initPath)) {
  spawner_ = std::thread([this] { spawnerLoop(); });
}

ContainerRuntime::~ContainerRuntime() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (spawner_.joinable()) spawner_.join();
}

void ContainerRuntime::spawnerLoop() {
  while (true) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !work_.empty(); });
      if (work_.empty()) return;
      job = std::move(work_.front());
      work_.pop_front();
    }
    job();
  }
}

Result<pid_t> ContainerRuntime::start(ContainerLaunch spec, const std::string& logPath) {
  spec.mode = "launch";
  spec.parentPid = ::getpid();
  auto promise = std::make_shared<std::promise<Result<pid_t>>>();
  auto future = promise->get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Error(ErrorCode::kCancelled, "the node is stopping");
    work_.push_back([this, promise, spec = std::move(spec), logPath] { promise->set_value(spawn(spec, logPath)); });
  }
  cv_.notify_one();
  return future.get();
}

Result<pid_t> ContainerRuntime::spawn(const ContainerLaunch& spec, const std::string& logPath) {
  const std::string json = toJson(spec).dump();
  const int log = ::open(logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (log < 0) return ioError("cannot open log " + logPath + ": " + std::strerror(errno));
  const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int specPipe[2], reportPipe[2];
  if (::pipe2(specPipe, O_CLOEXEC) != 0 || ::pipe2(reportPipe, O_CLOEXEC) != 0) {
    ::close(log);
    ::close(null);
    return ioError(std::string("pipe: ") + std::strerror(errno));
  }
  const std::string init = initPath_;
  char* argv[] = {const_cast<char*>("servicedb-container-init"), nullptr};
  char* envp[] = {const_cast<char*>("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"), nullptr};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(null, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    ::dup2(specPipe[0], 3);
    ::dup2(reportPipe[1], 4);
    ::close_range(5, ~0U, 0);
    resetSignalsInChild();
    ::execve(init.c_str(), argv, envp);
    const char msg[] = "cannot exec servicedb-container-init\n";
    (void)!::write(4, msg, sizeof msg - 1);
    ::_exit(127);
  }
  ::close(log);
  ::close(null);
  ::close(specPipe[0]);
  ::close(reportPipe[1]);
  if (pid < 0) {
    ::close(specPipe[1]);
    ::close(reportPipe[0]);
    return ioError(std::string("fork: ") + std::strerror(errno));
  }
  size_t off = 0;
  while (off < json.size()) {
    const ssize_t w = ::write(specPipe[1], json.data() + off, json.size() - off);
    if (w <= 0) break;
    off += static_cast<size_t>(w);
  }
  ::close(specPipe[1]);
  std::string report;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(reportPipe[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) report.append(buf, static_cast<size_t>(n));
  }
  ::close(reportPipe[0]);
  if (report.empty()) return pid;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  while (!report.empty() && report.back() == '\n') report.pop_back();
  if (report.empty()) report = "the container failed to start";
  return Error(ErrorCode::kFailedPrecondition, report);
}

Result<CommandResult> ContainerRuntime::exec(ContainerLaunch spec, std::chrono::milliseconds timeout) {
  spec.mode = "exec";
  CommandOptions o;
  o.argv = {initPath_, "--exec"};
  o.stdinData = toJson(spec).dump();
  o.timeout = timeout;
  return runCommand(o);
}

}  // namespace sdb::kubelet
