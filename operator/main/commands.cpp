#include "operator/main/commands.h"

namespace sdb::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"run", "run the controller manager", runManager},
      {"backup", "stream an encrypted backup of a database to a destination (for backup Jobs)", runBackupCommand},
      {"restore", "authenticate a backup and restore it into a fresh database (for restore Jobs)", runRestoreCommand},
      {"migrate", "apply built-in SQL migrations from a directory to PostgreSQL (for migration Jobs)", runMigrateCommand},
  };
  return table;
}

}  // namespace sdb::cli
