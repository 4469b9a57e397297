// Table columns of a few built-in kinds (pods, nodes, services, endpoints), as kube-apiserver's
// printers define them. toTable() adds Name first and fills "date" cells from creationTimestamp.
//
// Contract: pure, thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "e2e/apimachinery/registry.h"
#include "operator/core/json.h"

namespace sdb::localcluster {

struct BuiltinColumns {
  std::vector<Json> columns;                           // column definitions after Name
  std::function<std::vector<Json>(const Json&)> cells;  // one per column; date columns are filled by toTable
};

std::optional<BuiltinColumns> builtinColumns(const apimachinery::ResourceInfo& info);

}  // namespace sdb::localcluster
