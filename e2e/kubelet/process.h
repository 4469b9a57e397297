// Processes for the local node: running a helper command (ip, nft) to completion with its output
// captured, optionally inside a network namespace; signalling process groups; finding every process
// that lives in a network namespace (to leave none behind).
//
// fork() in a multi-threaded program: everything the child needs (argv, envp, paths) is prepared
// before fork, and the child only makes async-signal-safe calls (dup2, setns, sigprocmask, signal,
// close_range, execve) before it execs.
//
// Contract: functions are thread-safe; runCommand() blocks its caller until the command ends or its
// timeout passes (then the command's process group is killed).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "operator/core/result.h"

namespace sdb::kubelet {

struct CommandOptions {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH
  std::string stdinData;
  std::string netnsPath;          // setns(2) into this network namespace before exec ("" = stay)
  std::vector<std::string> env;   // "K=V"; empty = a minimal PATH-only environment
  std::chrono::milliseconds timeout{30000};
};

struct CommandResult {
  int exitCode = -1;  // 128 + signal when killed
  std::string out, err;
};

Result<CommandResult> runCommand(const CommandOptions& options);
// As runCommand, but a non-zero exit is an error that quotes the command and its stderr.
Result<std::string> runChecked(const CommandOptions& options);

// Absolute path of an executable found in PATH (or the default system directories), "" if none.
std::string findExecutable(const std::string& name);

// The child side of a fork: resets what a multi-threaded parent may have changed (blocked signals,
// ignored signals) so the program that follows starts clean. Async-signal-safe.
void resetSignalsInChild();

// Sends `sig` to process group `pgid`; true if any process got it.
bool signalGroup(pid_t pgid, int sig);
// Processes whose network namespace is the one bound at `netnsPath` (inode match, as `ip netns pids`).
std::vector<pid_t> pidsInNetns(const std::string& netnsPath);
// SIGKILLs every process in the namespace, repeating until none is left or `timeout` passes.
Status killAllInNetns(const std::string& netnsPath, std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace sdb::kubelet
