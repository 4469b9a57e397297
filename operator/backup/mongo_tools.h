// MongoDB dumps for the backup runners: `mongodump --archive` streamed through the encryption, and
// `mongorestore --archive` fed only authenticated plaintext, into a fresh database.
//
// Contract:
//  - The connection string (it holds a password) never appears in argv (visible in /proc to other
//    processes) nor in logs: it goes into a YAML file read by the tools' --config, created mode 0600
//    in a private mkdtemp directory and removed when the tool has exited, whatever happened.
//  - Backups are scoped to one database (--db) and leave out servicedb's marker collection
//    `_servicedb`, so a restore never carries another database's ownership marker.
//  - Restores take the source database's namespaces and rename them into `into` (--nsInclude
//    'src.*' --nsFrom 'src.*' --nsTo 'into.*'; both names are validated database names, so they hold
//    no '.', '*' or '$'), stop on the first error, and are meant for a database that does not exist
//    yet; the caller drops `into` when the restore fails (see operator/main/cmd_backup_mongo.cpp).
// The dump stays a stream: nothing is held in memory or written to disk but the config file.
// Single-threaded, like the runner.
#pragma once

#include <string>
#include <vector>

#include "operator/backup/runner.h"

namespace sdb::backup {

struct MongoToolsConnection {
  std::string uri;     // mongodb:// with credentials
  std::string caFile;  // appended as tlsCAFile when set
};

inline constexpr const char* kMongoMarkerCollection = "_servicedb";

// The URI with tlsCAFile added (percent-encoded) when caFile is set.
std::string mongoUriWithCa(const MongoToolsConnection& connection);
// The tools' --config file: `uri: "<uri>"` as a YAML double-quoted scalar.
std::string mongoToolsConfigYaml(const MongoToolsConnection& connection);

std::vector<std::string> mongodumpArgv(const std::string& configPath, const std::string& database);
std::vector<std::string> mongorestoreArgv(const std::string& configPath, const std::string& sourceDatabase,
                                          const std::string& into);

// Runs `request` with mongodump as its dump command (request.dumpCommand is replaced).
Result<Json> backupWithMongodump(BackupRequest request, const MongoToolsConnection& connection,
                                 const std::string& database, Destination& destination);
// Runs `request` with mongorestore from `sourceDatabase` (the name the backup was taken of) into `into`.
Result<RestoreSummary> restoreWithMongorestore(RestoreRequest request, const MongoToolsConnection& connection,
                                               const std::string& sourceDatabase, const std::string& into,
                                               Destination& destination);

}  // namespace sdb::backup
