#include "operator/backup/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace sdb::backup {
namespace {

// The CLI ignores SIGPIPE, and ignored signals stay ignored across exec: the tools get the default
// back, so a pg_dump whose reader stopped ends quietly instead of printing write errors.
[[noreturn]] void execOrDie(const std::vector<std::string>& argv) {
  signal(SIGPIPE, SIG_DFL);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execvp(args[0], args.data());
  std::fprintf(stderr, "cannot run %s: %s\n", args[0], std::strerror(errno));
  _exit(127);
}

}  // namespace

Result<Child> spawnPiped(const std::vector<std::string>& argv, bool toChild) {
  if (argv.empty()) return invalidArgument("no command to run");
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return ioError("pipe failed");
  pid_t pid = fork();
  if (pid < 0) {
    close(p[0]);
    close(p[1]);
    return ioError("fork failed");
  }
  if (pid == 0) {
    dup2(toChild ? p[0] : p[1], toChild ? 0 : 1);
    execOrDie(argv);
  }
  close(toChild ? p[0] : p[1]);
  return Child{pid, toChild ? p[1] : p[0]};
}

Result<pid_t> spawnReading(const std::vector<std::string>& argv, int stdinFd) {
  if (argv.empty()) return invalidArgument("no command to run");
  pid_t pid = fork();
  if (pid < 0) return ioError("fork failed");
  if (pid == 0) {
    dup2(stdinFd, 0);
    execOrDie(argv);
  }
  return pid;
}

int reapChild(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

CommandsTarget::~CommandsTarget() { abort(); }

Status CommandsTarget::start() {
  for (const auto& c : commands_) {
    auto child = spawnPiped(c.argv, /*toChild=*/true);
    if (!child.ok()) {
      abort();
      return child.error();
    }
    running_.push_back({*child, true});
  }
  return okStatus();
}

std::string CommandsTarget::name() const {
  std::string n;
  for (const auto& c : commands_) n += (n.empty() ? "" : " and ") + (c.argv.empty() ? std::string("?") : c.argv[0]);
  return n;
}

Status CommandsTarget::write(const uint8_t* data, size_t size) {
  for (size_t i = 0; i < running_.size(); ++i) {
    Running& r = running_[i];
    if (!r.open) continue;
    const uint8_t* d = data;
    size_t n = size;
    while (n > 0) {
      ssize_t w = ::write(r.child.fd, d, n);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && errno == EPIPE && commands_[i].mayStopEarly) {
        close(r.child.fd);
        r.open = false;
        break;
      }
      if (w < 0) return ioError(commands_[i].argv[0] + " stopped reading: " + std::strerror(errno));
      d += w;
      n -= static_cast<size_t>(w);
    }
  }
  return okStatus();
}

Status CommandsTarget::commit() {
  Status result = okStatus();
  for (size_t i = 0; i < running_.size(); ++i) {
    Running& r = running_[i];
    if (r.open) close(r.child.fd);
    r.open = false;
    const int code = reapChild(r.child.pid);
    r.child.pid = -1;
    if (code != 0 && result.ok()) result = ioError(commands_[i].argv[0] + " exited with " + std::to_string(code));
  }
  running_.clear();
  return result;
}

void CommandsTarget::abort() {
  for (auto& r : running_) {
    if (r.child.pid <= 0) continue;
    kill(r.child.pid, SIGKILL);  // before EOF
    if (r.open) close(r.child.fd);
    reapChild(r.child.pid);
  }
  running_.clear();
}

}  // namespace sdb::backup
