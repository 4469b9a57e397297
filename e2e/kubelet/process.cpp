#include "e2e/kubelet/process.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace sdb::kubelet {

namespace {

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

std::string quoteArgv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += " ";
    out += a.find_first_of(" \t'\"") == std::string::npos ? a : "'" + a + "'";
  }
  return out;
}

}  // namespace

void resetSignalsInChild() {
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  for (int s = 1; s < NSIG; ++s) {
    if (s == SIGKILL || s == SIGSTOP) continue;
    signal(s, SIG_DFL);
  }
}

std::string findExecutable(const std::string& name) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : "";
  std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  if (const char* p = std::getenv("PATH")) path = std::string(p) + ":" + path;
  size_t start = 0;
  while (start <= path.size()) {
    size_t colon = path.find(':', start);
    std::string dir = path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (!dir.empty()) {
      std::string candidate = dir + "/" + name;
      struct stat st {};
      if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return "";
}

Result<CommandResult> runCommand(const CommandOptions& options) {
  if (options.argv.empty()) return invalidArgument("runCommand: empty argv");
  const std::string path = findExecutable(options.argv[0]);
  if (path.empty()) return notFound(options.argv[0] + ": executable file not found in $PATH");
  std::vector<char*> argv;
  for (const auto& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> envStrings = options.env;
  if (envStrings.empty()) envStrings = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"};
  std::vector<char*> envp;
  for (const auto& e : envStrings) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  Fd netns;
  if (!options.netnsPath.empty()) {
    netns.fd = ::open(options.netnsPath.c_str(), O_RDONLY | O_CLOEXEC);
    if (netns.fd < 0) return ioError("cannot open network namespace " + options.netnsPath + ": " + std::strerror(errno));
  }
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return ioError("pipe: " + std::string(std::strerror(errno)));
  Fd inR(in[0]), inW(in[1]);
  if (::pipe2(out, O_CLOEXEC) != 0) return ioError("pipe: " + std::string(std::strerror(errno)));
  Fd outR(out[0]), outW(out[1]);
  if (::pipe2(err, O_CLOEXEC) != 0) return ioError("pipe: " + std::string(std::strerror(errno)));
  Fd errR(err[0]), errW(err[1]);

  const pid_t pid = ::fork();
  if (pid < 0) return ioError("fork: " + std::string(std::strerror(errno)));
  if (pid == 0) {
    ::setpgid(0, 0);
    ::dup2(inR.fd, 0);
    ::dup2(outW.fd, 1);
    ::dup2(errW.fd, 2);
    if (netns.fd >= 0 && ::setns(netns.fd, CLONE_NEWNET) != 0) {
      const char msg[] = "setns failed\n";
      (void)!::write(2, msg, sizeof msg - 1);
      ::_exit(126);
    }
    resetSignalsInChild();
    ::close_range(3, ~0U, 0);
    ::execve(path.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  inR.reset();
  outW.reset();
  errW.reset();
  ::fcntl(inW.fd, F_SETFL, O_NONBLOCK);
  CommandResult result;
  size_t written = 0;
  if (options.stdinData.empty()) inW.reset();
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  bool timedOut = false;
  while (outR.fd >= 0 || errR.fd >= 0) {
    pollfd fds[3];
    int n = 0;
    if (outR.fd >= 0) fds[n++] = {outR.fd, POLLIN, 0};
    if (errR.fd >= 0) fds[n++] = {errR.fd, POLLIN, 0};
    if (inW.fd >= 0) fds[n++] = {inW.fd, POLLOUT, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timedOut = true;
      break;
    }
    int r = ::poll(fds, static_cast<nfds_t>(n), static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (r < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      if (!fds[i].revents) continue;
      if (fds[i].fd == inW.fd) {
        ssize_t w = ::write(inW.fd, options.stdinData.data() + written, options.stdinData.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN) written = options.stdinData.size();
        if (written >= options.stdinData.size()) inW.reset();
        continue;
      }
      char buf[8192];
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        (fds[i].fd == outR.fd ? result.out : result.err).append(buf, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        if (fds[i].fd == outR.fd) outR.reset();
        else errR.reset();
      }
    }
  }
  inW.reset();
  if (timedOut) ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timedOut) return Error(ErrorCode::kTimeout, quoteArgv(options.argv) + ": timed out after " + std::to_string(options.timeout.count()) + " ms");
  result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

Result<std::string> runChecked(const CommandOptions& options) {
  auto r = runCommand(options);
  if (!r.ok()) return r.error();
  if (r->exitCode != 0) {
    std::string err = r->err.empty() ? r->out : r->err;
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    return Error(ErrorCode::kInternal, quoteArgv(options.argv) + (options.netnsPath.empty() ? "" : " (in " + options.netnsPath + ")") +
                                           ": exit " + std::to_string(r->exitCode) + ": " + err);
  }
  return r->out;
}

bool signalGroup(pid_t pgid, int sig) { return pgid > 0 && ::kill(-pgid, sig) == 0; }

std::vector<pid_t> pidsInNetns(const std::string& netnsPath) {
  std::vector<pid_t> out;
  struct stat want {};
  if (::stat(netnsPath.c_str(), &want) != 0) return out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    char* end = nullptr;
    const long pid = std::strtol(e->d_name, &end, 10);
    if (!end || *end != '\0' || pid <= 0) continue;
    struct stat st {};
    const std::string p = std::string("/proc/") + e->d_name + "/ns/net";
    if (::stat(p.c_str(), &st) == 0 && st.st_ino == want.st_ino && st.st_dev == want.st_dev) out.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(d);
  return out;
}

Status killAllInNetns(const std::string& netnsPath, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto pids = pidsInNetns(netnsPath);
    if (pids.empty()) return okStatus();
    if (std::chrono::steady_clock::now() > deadline) {
      return Error(ErrorCode::kTimeout, std::to_string(pids.size()) + " process(es) in " + netnsPath + " survived SIGKILL");
    }
    for (pid_t p : pids) ::kill(p, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace sdb::kubelet
