// Builds the operator's KubeClient from `run` flags: --kubeconfig/--context, or the in-cluster
// config. The one place the binary names the HTTP client implementation.
//
// Contract: returns an owned client or an error naming what is missing.
#pragma once

#include <memory>

#include "operator/core/result.h"
#include "operator/kube/client.h"
#include "operator/main/manager_wiring.h"

namespace sdb::cli {

Result<std::unique_ptr<kube::KubeClient>> makeKubeClient(const RunOptions& options);

}  // namespace sdb::cli
