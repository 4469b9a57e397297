// Starts containers as processes through servicedb-container-init, and runs commands inside running
// ones (exec probes). A container's main process is a session and process-group leader (its pid is
// its pgid), a child of this process, and dies with it: container-init sets PR_SET_PDEATHSIG, which
// fires when the *thread* that forked exits, so every container is forked by one long-lived spawner
// thread owned by this object.
//
// Contract: thread-safe. The owner reaps container processes (waitpid on the returned pid).
// Destroying the runtime stops the spawner thread (containers it started then get SIGKILL from the
// kernel, so stop them first).
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "e2e/kubelet/container_spec.h"
#include "e2e/kubelet/process.h"

namespace sdb::kubelet {

class ContainerRuntime {
 public:
  explicit ContainerRuntime(std::string initPath);
  ~ContainerRuntime();
  ContainerRuntime(const ContainerRuntime&) = delete;
  ContainerRuntime& operator=(const ContainerRuntime&) = delete;

  // Starts a container whose stdout and stderr append to logPath. Returns its pid once the program
  // was exec'd; an error's message says why it could not start (e.g. `exec: "x": executable file
  // not found in $PATH`), with code kFailedPrecondition.
  Result<pid_t> start(ContainerLaunch spec, const std::string& logPath);

  // Runs spec.argv inside running container spec.execPid, with spec's identity, env and workingDir.
  Result<CommandResult> exec(ContainerLaunch spec, std::chrono::milliseconds timeout);

  const std::string& initPath() const { return initPath_; }

 private:
  void spawnerLoop();
  Result<pid_t> spawn(const ContainerLaunch& spec, const std::string& logPath);

  std::string initPath_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> work_;
  bool stopping_ = false;
  std::thread spawner_;
};

// Where servicedb-container-init is: next to the running executable.
std::string defaultContainerInitPath();

}  // namespace sdb::kubelet
