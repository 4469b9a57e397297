// The exact command documents the MongoDB engine sends, built from plan actions. Pure.
//
// Contract: every command runs on the database returned with it (`$db`), which for user and
// marker commands is always the service's own database. Values go in as typed BSON strings, never
// through text. Canonical extended JSON of every command is pinned by
// tests/unit/engines/mongo/commands_test.cpp. Thread-safe (no shared state).
#pragma once

#include <string>
#include <vector>

#include "operator/engines/mongo/bson.h"
#include "operator/engines/mongo/model.h"

namespace sdb::engines::mongo {

inline constexpr int32_t kWriteConcernTimeoutMs = 30000;

struct Command {
  std::string database;  // where it runs ($db)
  Bson body;
};

// Reads (observe).
Command helloCommand();                                    // admin: {hello: 1}
Command listDatabasesCommand();                            // admin: {listDatabases: 1, nameOnly: true}
Command findMarkerCommand(const std::string& database);    // find {_id: "owner"} in _servicedb
Command usersInfoCommand(const std::string& database, const std::vector<std::string>& users);
Command buildInfoCommand();                                // admin: {buildInfo: 1}
Command pingCommand(const std::string& database);

// Dedicated instances: admin: {rotateCertificates: 1}. mongod (5.0 and later) reloads its
// --tlsCertificateKeyFile and --tlsCAFile; new connections get the new certificate, open ones keep
// theirs. Needs the cluster action rotateCertificates (root has it).
Command rotateCertificatesCommand();

// Writes (execute): one command per action.
Command commandFor(const Action& action);

}  // namespace sdb::engines::mongo
