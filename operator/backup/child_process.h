// Child processes for the backup and restore runners: a command with one end of a pipe as its stdin
// or stdout, and a restore target that feeds several commands the same authenticated stream.
//
// stderr is inherited, so the tools' own messages reach the Job's log. Every child is reaped before
// the owning object is gone.
//
// Contract: single-threaded; SIGPIPE must be ignored by the process (the CLI does), so a child that
// stops reading shows up as EPIPE on write.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "operator/backup/runner.h"
#include "operator/core/result.h"

namespace sdb::backup {

struct Child {
  pid_t pid = -1;
  int fd = -1;  // our end of its stdin (toChild) or stdout
};

// Spawns argv with one end of a pipe as stdin (toChild) or stdout (!toChild).
Result<Child> spawnPiped(const std::vector<std::string>& argv, bool toChild);
// Spawns argv reading `stdinFd` (which the caller keeps and closes) and writing stdout to our stdout.
Result<pid_t> spawnReading(const std::vector<std::string>& argv, int stdinFd);
// Waits for pid; its exit code, or 128 + the signal.
int reapChild(pid_t pid);

// A RestoreTarget feeding each command the same plaintext on its stdin. A command marked
// `mayStopEarly` (e.g. `pg_restore -l`, which reads only an archive's table of contents) may close
// its stdin before the end: it gets no more data and must still exit 0. commit() closes every stdin
// and requires exit 0 from each; abort() kills them all (a single-transaction restore rolls back).
class CommandsTarget final : public RestoreTarget {
 public:
  struct Command {
    std::vector<std::string> argv;
    bool mayStopEarly = false;
  };
  explicit CommandsTarget(std::vector<Command> commands) : commands_(std::move(commands)) {}
  ~CommandsTarget() override;
  CommandsTarget(const CommandsTarget&) = delete;
  CommandsTarget& operator=(const CommandsTarget&) = delete;

  Status start();  // spawns them all; call once before the restore
  std::string name() const override;
  Status write(const uint8_t* data, size_t size) override;
  Status commit() override;
  void abort() override;

 private:
  struct Running {
    Child child;
    bool open = true;  // still reading
  };
  std::vector<Command> commands_;
  std::vector<Running> running_;
};

}  // namespace sdb::backup
