#include "operator/main/cmd_backup_mongo.h"

#include <cstdlib>
#include <iostream>

#include "operator/backup/mongo_tools.h"
#include "operator/engines/mongo/connection.h"
#include "operator/engines/mongo/names.h"

namespace sdb::cli {
namespace {

namespace mongo = engines::mongo;

struct Env {
  std::string uri, caFile;
  bool tls = true;
};

Result<Env> readEnv() {
  Env e;
  const char* uri = std::getenv("MONGODB_URI");
  if (uri == nullptr || *uri == '\0') return invalidArgument("MONGODB_URI is not set (mount the credentials Secret's uri)");
  e.uri = uri;
  if (const char* ca = std::getenv("MONGODB_TLS_CA_FILE")) e.caFile = ca;
  if (const char* tls = std::getenv("MONGODB_TLS")) e.tls = std::string(tls) != "false";
  return e;
}

mongo::ConnectionOptions options(const Env& e) {
  mongo::ConnectionOptions o;
  o.uri = e.uri;
  o.caFile = e.caFile;
  o.tls = e.tls;
  return o;
}

int fail(const std::string& command, const Error& e) {
  std::cerr << "servicedb-operator " << command << ": " << e.message << "\n";
  return e.code == ErrorCode::kInvalidArgument ? 2 : 1;
}

}  // namespace

int runMongoBackup(backup::BackupRequest request, std::string database, backup::Destination& destination) {
  auto env = readEnv();
  if (!env.ok()) return fail("backup", env.error());
  auto summary = mongo::inspectAdminUri(options(*env));
  if (!summary.ok()) return fail("backup", summary.error().wrap("MONGODB_URI"));
  if (database.empty()) database = summary->database;
  if (auto v = mongo::validateDatabaseName(database, "--database (or the database of MONGODB_URI)"); !v.ok())
    return fail("backup", v.error());
  auto channel = mongo::connect(options(*env));
  if (!channel.ok()) return fail("backup", channel.error());
  auto info = (*channel)->run(mongo::buildInfoCommand(), "asking MongoDB for its version");
  if (!info.ok()) return fail("backup", info.error());
  request.engineVersion = info->value("version", std::string("unknown"));
  auto manifest = backup::backupWithMongodump(std::move(request), {env->uri, env->caFile}, database, destination);
  if (!manifest.ok()) return fail("backup", manifest.error());
  std::cout << manifest->dump() << "\n";
  return 0;
}

int runMongoRestore(backup::RestoreRequest request, std::string sourceDatabase, const std::string& into,
                    backup::Destination& destination) {
  auto env = readEnv();
  if (!env.ok()) return fail("restore", env.error());
  if (auto v = mongo::validateDatabaseName(into, "--into"); !v.ok()) return fail("restore", v.error());
  if (sourceDatabase.empty()) {
    // The name the engine derives for the target; set --source-database for a spec.databaseName.
    const size_t slash = request.target.find('/');
    sourceDatabase = mongo::derivedNames(request.target.substr(0, slash), request.target.substr(slash + 1)).database;
  }
  if (auto v = mongo::validateDatabaseName(sourceDatabase, "--source-database"); !v.ok()) return fail("restore", v.error());
  auto channel = mongo::connect(options(*env));
  if (!channel.ok()) return fail("restore", channel.error());
  auto listed = (*channel)->run(mongo::listDatabasesCommand(), "listing databases");
  if (!listed.ok()) return fail("restore", listed.error());
  for (const auto& d : listed->value("databases", Json::array()))
    if (mongo::foldCase(d.value("name", std::string())) == mongo::foldCase(into))
      return fail("restore", invalidArgument("--into: database \"" + d.value("name", std::string()) +
                                             "\" already exists; restore only into a fresh database"));
  auto result = backup::restoreWithMongorestore(std::move(request), {env->uri, env->caFile}, sourceDatabase, into, destination);
  if (!result.ok()) {
    // mongorestore has no single transaction: the partial database goes, the live one was never touched.
    mongo::Command drop{into, mongo::Bson().int32("dropDatabase", 1)};
    auto dropped = (*channel)->run(drop, "dropping the partial restore \"" + into + "\"");
    if (!dropped.ok()) std::cerr << "servicedb-operator restore: " << dropped.error().message << "\n";
    return fail("restore", result.error());
  }
  std::cout << Json{{"backupId", result->backupId}, {"bytes", result->bytes}, {"chunks", result->chunks},
                    {"verifiedOnly", false}, {"into", into}, {"from", sourceDatabase}}.dump()
            << "\n";
  return 0;
}

}  // namespace sdb::cli
