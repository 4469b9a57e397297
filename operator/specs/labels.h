// The label contract (docs/api.md, "The label contract"): every object the operator creates for a
// ServiceDatabase carries these labels; NetworkPolicies, Jobs and the Secret cache rely on them.
//
// Contract: pure functions, thread-safe.
#pragma once

#include <map>
#include <string>

#include "operator/specs/servicedatabase.h"

namespace sdb::specs {

using Labels = std::map<std::string, std::string>;

inline constexpr const char* kLabelName = "app.kubernetes.io/name";
inline constexpr const char* kLabelInstance = "app.kubernetes.io/instance";
inline constexpr const char* kLabelComponent = "app.kubernetes.io/component";
inline constexpr const char* kLabelPartOf = "app.kubernetes.io/part-of";
inline constexpr const char* kLabelManagedBy = "app.kubernetes.io/managed-by";
inline constexpr const char* kManagedByOperator = "servicedb-operator";
inline constexpr const char* kLabelDatabase = "servicedb.io/database";
inline constexpr const char* kLabelServicedbComponent = "servicedb.io/component";

// What a child is, in both vocabularies of the contract.
enum class Component { kInstance, kBackup, kRestore, kMigrate, kReplica };

// app.kubernetes.io/name: the engine's image name ("postgres", "redis", "mongodb").
std::string engineImageName(const std::string& engine);

Labels standardLabels(const ServiceDatabase& sdb, Component component);

// The subset that selects everything of one ServiceDatabase (for selectors and the Secret cache).
Labels selectorLabels(const ServiceDatabase& sdb);

}  // namespace sdb::specs
