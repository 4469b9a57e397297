// servicedb-container-init: becomes one container of a pod, then execs its program (same pid).
//   launch: spec on fd 3, failures reported on fd 4 (close-on-exec, so a successful exec closes it
//           with nothing written); stdout/stderr are the container's log.
//   exec:   `servicedb-container-init --exec` with the spec on stdin: joins the namespaces of the
//           running container execPid (probes, `exec` hooks) and runs argv there.
// See container_spec.h for the filesystem it builds. Runs as root; single-threaded.
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "e2e/kubelet/container_spec.h"

using namespace sdb;
using namespace sdb::kubelet;

namespace {

int reportFd = -1;

[[noreturn]] void fail(const std::string& message, int code = 128) {
  const std::string line = message + "\n";
  if (reportFd >= 0) (void)!::write(reportFd, line.data(), line.size());
  (void)!::write(2, line.data(), line.size());
  ::_exit(code);
}

std::string errnoText() { return std::strerror(errno); }

void check(bool ok, const std::string& what) {
  if (!ok) fail(what + ": " + errnoText());
}

// `path` inside the container root `root`, as a host path: symlinks met on the way are followed
// within the root (an absolute link like /var/run -> /run means root/run, never the host's /run).
std::string inRoot(const std::string& root, const std::string& path) {
  std::vector<std::string> todo;
  auto push = [&](const std::string& p) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= p.size()) {
      const auto slash = p.find('/', start);
      const std::string part = p.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
      if (!part.empty() && part != ".") parts.push_back(part);
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    todo.insert(todo.begin(), parts.begin(), parts.end());
  };
  push(path);
  std::vector<std::string> done;
  int links = 0;
  while (!todo.empty()) {
    const std::string part = todo.front();
    todo.erase(todo.begin());
    if (part == "..") {
      if (!done.empty()) done.pop_back();
      continue;
    }
    std::string current = root;
    for (const auto& d : done) current += "/" + d;
    const std::string candidate = current + "/" + part;
    struct stat st {};
    if (::lstat(candidate.c_str(), &st) == 0 && S_ISLNK(st.st_mode) && links++ < 40) {
      char target[4096];
      const ssize_t n = ::readlink(candidate.c_str(), target, sizeof target - 1);
      if (n > 0) {
        target[n] = '\0';
        if (target[0] == '/') done.clear();
        push(target);
        continue;
      }
    }
    done.push_back(part);
  }
  std::string out = root;
  for (const auto& d : done) out += "/" + d;
  return out;
}

void mkdirs(const std::string& path, mode_t mode = 0755) {
  if (path.empty()) return;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) return;
  const auto slash = path.find_last_of('/');
  if (slash != std::string::npos && slash > 0) mkdirs(path.substr(0, slash));
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) fail("mkdir " + path + ": " + errnoText());
}

void mountOrFail(const char* source, const std::string& target, const char* type, unsigned long flags, const char* data) {
  if (::mount(source, target.c_str(), type, flags, data) != 0) {
    fail(std::string("mount ") + (source ? source : "") + " on " + target + (type ? std::string(" (") + type + ")" : "") + ": " + errnoText());
  }
}

void remountReadOnly(const std::string& target) {
  mountOrFail(nullptr, target, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr);
}

void touchFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) fail("create " + path + ": " + errnoText());
  ::close(fd);
}

void writeFile(const std::string& path, const std::string& content, mode_t mode) {
  const auto slash = path.find_last_of('/');
  if (slash != std::string::npos) mkdirs(path.substr(0, slash));
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) ::unlink(path.c_str());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) fail("write " + path + ": " + errnoText());
  size_t off = 0;
  while (off < content.size()) {
    const ssize_t w = ::write(fd, content.data() + off, content.size() - off);
    if (w <= 0) fail("write " + path + ": " + errnoText());
    off += static_cast<size_t>(w);
  }
  ::fchmod(fd, mode);
  ::close(fd);
}

// Creates the mount point for `source` at `target`: a directory, or an empty file for a file.
void makeMountPoint(const std::string& source, const std::string& target) {
  struct stat src {};
  if (::stat(source.c_str(), &src) != 0) fail("volume source " + source + ": " + errnoText());
  struct stat dst {};
  if (::stat(target.c_str(), &dst) == 0) return;
  if (S_ISDIR(src.st_mode)) {
    mkdirs(target);
  } else {
    const auto slash = target.find_last_of('/');
    if (slash != std::string::npos) mkdirs(target.substr(0, slash));
    touchFile(target);
  }
}

void setIdentity(const ContainerLaunch& l) {
  std::vector<gid_t> groups(l.supplementalGroups.begin(), l.supplementalGroups.end());
  check(::setgroups(groups.size(), groups.data()) == 0, "setgroups");
  check(::setresgid(l.gid, l.gid, l.gid) == 0, "setresgid " + std::to_string(l.gid));
  check(::setresuid(l.uid, l.uid, l.uid) == 0, "setresuid " + std::to_string(l.uid));
  if (l.noNewPrivileges) check(::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, "no_new_privs");
  ::umask(0022);
}

[[noreturn]] void execProgram(const ContainerLaunch& l) {
  ::clearenv();
  for (const auto& e : l.env) {
    const auto eq = e.find('=');
    if (eq == std::string::npos) continue;
    ::setenv(e.substr(0, eq).c_str(), e.substr(eq + 1).c_str(), 1);
  }
  std::vector<char*> argv;
  for (const auto& a : l.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  const int e = errno;
  if (e == ENOENT) fail("exec: \"" + l.argv[0] + "\": executable file not found in $PATH", 127);
  fail("exec: \"" + l.argv[0] + "\": " + std::strerror(e), 126);
}

void buildDev(const std::string& root) {
  const std::string dev = root + "/dev";
  mkdirs(dev);
  mountOrFail("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=65536k");
  for (const char* node : {"null", "zero", "full", "random", "urandom", "tty"}) {
    const std::string target = dev + "/" + node;
    touchFile(target);
    mountOrFail((std::string("/dev/") + node).c_str(), target, nullptr, MS_BIND, nullptr);
  }
  mkdirs(dev + "/shm");
  mountOrFail("shm", dev + "/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k");
  mkdirs(dev + "/pts");
  if (::mount("devpts", (dev + "/pts").c_str(), "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620") == 0) {
    (void)!::symlink("pts/ptmx", (dev + "/ptmx").c_str());
  }
  (void)!::symlink("/proc/self/fd", (dev + "/fd").c_str());
  (void)!::symlink("/proc/self/fd/0", (dev + "/stdin").c_str());
  (void)!::symlink("/proc/self/fd/1", (dev + "/stdout").c_str());
  (void)!::symlink("/proc/self/fd/2", (dev + "/stderr").c_str());
}

[[noreturn]] void launch(const ContainerLaunch& l) {
  const int netns = ::open(l.netnsPath.c_str(), O_RDONLY | O_CLOEXEC);
  check(netns >= 0, "open " + l.netnsPath);
  check(::setns(netns, CLONE_NEWNET) == 0, "setns " + l.netnsPath);
  ::close(netns);
  check(::unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC) == 0, "unshare");
  if (!l.hostname.empty()) check(::sethostname(l.hostname.c_str(), l.hostname.size()) == 0, "sethostname");
  mountOrFail(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr);

  // The writable layer: a tmpfs only this mount namespace sees, gone with the container.
  mkdirs(l.stagingDir);
  mountOrFail("tmpfs", l.stagingDir, "tmpfs", 0, "mode=0700,size=4g");
  const std::string upper = l.stagingDir + "/upper", work = l.stagingDir + "/work", root = l.stagingDir + "/root";
  mkdirs(upper);
  mkdirs(work);
  mkdirs(root);
  const std::string overlay = "lowerdir=/,upperdir=" + upper + ",workdir=" + work;
  mountOrFail("overlay", root, "overlay", 0, overlay.c_str());

  mountOrFail("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
  if (::mount("sysfs", (root + "/sys").c_str(), "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, nullptr) != 0) {
    mountOrFail("/sys", root + "/sys", nullptr, MS_BIND | MS_REC, nullptr);
    remountReadOnly(root + "/sys");
  }
  buildDev(root);
  mountOrFail("tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  mountOrFail("tmpfs", root + "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");

  for (const auto& d : l.dirs) {
    const std::string p = inRoot(root, d.path);
    mkdirs(p);
    check(::chmod(p.c_str(), d.mode) == 0, "chmod " + d.path);
    check(::chown(p.c_str(), d.uid, d.gid) == 0, "chown " + d.path);
  }
  for (const auto& f : l.files) writeFile(inRoot(root, f.path), f.content, f.mode);
  for (const auto& s : l.links) {
    const auto slashAt = s.path.find_last_of('/');
    const std::string p = inRoot(root, s.path.substr(0, slashAt)) + s.path.substr(slashAt);
    const auto slash = p.find_last_of('/');
    mkdirs(p.substr(0, slash));
    ::unlink(p.c_str());
    check(::symlink(s.target.c_str(), p.c_str()) == 0, "symlink " + s.path);
  }
  mkdirs(inRoot(root, l.workingDir));
  for (const auto& m : l.mounts) makeMountPoint(m.source, inRoot(root, m.target));
  if (l.readOnlyRootFilesystem) {
    remountReadOnly(root);
    remountReadOnly(root + "/tmp");
    remountReadOnly(root + "/run");
  }
  for (const auto& m : l.mounts) {
    const std::string target = inRoot(root, m.target);
    makeMountPoint(m.source, target);
    mountOrFail(m.source.c_str(), target, nullptr, MS_BIND | MS_REC, nullptr);
    if (m.readOnly) remountReadOnly(target);
  }

  check(::chdir(root.c_str()) == 0, "chdir " + root);
  check(::syscall(SYS_pivot_root, ".", ".") == 0, "pivot_root");
  check(::umount2(".", MNT_DETACH) == 0, "detach the host root");
  check(::chdir("/") == 0, "chdir /");
  if (::chdir(l.workingDir.c_str()) != 0) fail("chdir to working directory " + l.workingDir + ": " + errnoText());

  setIdentity(l);
  if (l.parentPid > 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != l.parentPid) ::_exit(137);
  }
  ::setsid();
  execProgram(l);
}

[[noreturn]] void execInto(const ContainerLaunch& l) {
  const std::string base = "/proc/" + std::to_string(l.execPid) + "/ns/";
  int fds[4];
  const char* names[4] = {"net", "uts", "ipc", "mnt"};
  const int types[4] = {CLONE_NEWNET, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWNS};
  for (int i = 0; i < 4; ++i) {
    fds[i] = ::open((base + names[i]).c_str(), O_RDONLY | O_CLOEXEC);
    check(fds[i] >= 0, "the container is not running (open " + base + names[i] + ")");
  }
  for (int i = 0; i < 4; ++i) check(::setns(fds[i], types[i]) == 0, std::string("setns ") + names[i]);
  if (::chdir(l.workingDir.c_str()) != 0) check(::chdir("/") == 0, "chdir /");
  setIdentity(l);
  execProgram(l);
}

}  // namespace

int main(int argc, char** argv) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int s = 1; s < NSIG; ++s) {
    if (s != SIGKILL && s != SIGSTOP) signal(s, SIG_DFL);
  }
  const bool execMode = argc > 1 && std::string(argv[1]) == "--exec";
  std::string text;
  if (execMode) {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    if (::fcntl(4, F_GETFD) >= 0) {
      reportFd = 4;
      ::fcntl(4, F_SETFD, FD_CLOEXEC);
    }
    if (::fcntl(3, F_GETFD) < 0) fail("servicedb-container-init: no spec on fd 3 (it is started by the local node)", 2);
    char buf[65536];
    ssize_t n;
    while ((n = ::read(3, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
    ::close(3);
  }
  auto json = parseJson(text, "container spec");
  if (!json.ok()) fail(json.error().message, 2);
  auto spec = launchFromJson(*json);
  if (!spec.ok()) fail(spec.error().message, 2);
  if (execMode || spec->mode == "exec") execInto(*spec);
  launch(*spec);
}
