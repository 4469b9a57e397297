#include "operator/specs/labels.h"

namespace sdb::specs {

std::string engineImageName(const std::string& engine) {
  if (engine == "mongodb") return "mongodb";
  if (engine == "redis") return "redis";
  return "postgres";
}

Labels standardLabels(const ServiceDatabase& sdb, Component component) {
  const char* appComponent = "database";
  const char* ownComponent = "instance";
  switch (component) {
    case Component::kInstance: break;
    case Component::kBackup: appComponent = ownComponent = "backup"; break;
    case Component::kRestore: appComponent = ownComponent = "restore"; break;
    case Component::kMigrate: appComponent = ownComponent = "migrate"; break;
    case Component::kReplica: appComponent = ownComponent = "replica"; break;
  }
  return {{kLabelName, engineImageName(sdb.engine)},
          {kLabelInstance, sdb.name},
          {kLabelComponent, appComponent},
          {kLabelPartOf, sdb.service},
          {kLabelManagedBy, kManagedByOperator},
          {kLabelDatabase, sdb.name},
          {kLabelServicedbComponent, ownComponent}};
}

Labels selectorLabels(const ServiceDatabase& sdb) {
  return {{kLabelManagedBy, kManagedByOperator}, {kLabelDatabase, sdb.name}};
}

}  // namespace sdb::specs
