// The MongoDB side of `servicedb-operator backup|restore --engine mongodb` (cmd_backup.cpp parses the
// common flags and hands over here).
//
// Connection settings come from the environment, as the Job's pod gets them from Secrets:
//   MONGODB_URI          mongodb:// with credentials: for backup the service's own `uri` (its
//                        database is the default --database); for restore a user that may create
//                        the new database (e.g. the shared server's admin);
//   MONGODB_TLS_CA_FILE  path of the mounted ca.crt (optional);
//   MONGODB_TLS          "false" only for a shared server without TLS (default: TLS required).
// The URI never becomes a flag, an argv entry of mongodump/mongorestore, or a log line.
// Returns process exit codes: 0 ok, 1 failure, 2 bad usage. Single-threaded.
#pragma once

#include <string>

#include "operator/backup/runner.h"

namespace sdb::cli {

int runMongoBackup(backup::BackupRequest request, std::string database, backup::Destination& destination);
int runMongoRestore(backup::RestoreRequest request, std::string sourceDatabase, const std::string& into,
                    backup::Destination& destination);

}  // namespace sdb::cli
