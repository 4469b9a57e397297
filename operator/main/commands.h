// The subcommand table of servicedb-operator. Each subcommand lives in its own file
// (cmd_<name>.cpp) and parses its own flags with cli::FlagSet.
//
// Contract: run() returns the process exit code (0 ok, 1 failure, 2 usage error).
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace sdb::cli {

struct Command {
  std::string name;
  std::string summary;
  std::function<int(const std::vector<std::string>&)> run;
};

const std::vector<Command>& commands();

int runManager(const std::vector<std::string>& args);         // cmd_run.cpp
int runBackupCommand(const std::vector<std::string>& args);   // cmd_backup.cpp
int runRestoreCommand(const std::vector<std::string>& args);  // cmd_backup.cpp
int runMigrateCommand(const std::vector<std::string>& args);  // cmd_migrate.cpp

}  // namespace sdb::cli
