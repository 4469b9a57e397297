// The pods/log subresource's source: the HTTP face asks it for a container's log and streams what
// it returns (kubectl logs, -f, --previous, --tail, --limit-bytes). The local node implements it;
// without a node the HTTP face answers 404.
//
// Contract: implementations are thread-safe; a LogStream is used by one thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "operator/kube/api_error.h"

namespace sdb::apimachinery {

struct PodLogOptions {
  std::string container;  // "" = the pod's only container
  bool follow = false;
  bool previous = false;
  std::optional<int64_t> tailLines;
  std::optional<int64_t> limitBytes;
};

class LogStream {
 public:
  virtual ~LogStream() = default;
  // The next chunk: "" when nothing new arrived within `wait` (follow), nullopt at the end.
  virtual std::optional<std::string> next(std::chrono::milliseconds wait) = 0;
};

class PodLogSource {
 public:
  virtual ~PodLogSource() = default;
  // Errors as kube-apiserver words them: 404 for a missing pod, 400 for a missing or ambiguous
  // container, a container still waiting, or no previous run.
  virtual kube::KResult<std::unique_ptr<LogStream>> openLog(const std::string& ns, const std::string& pod,
                                                            const PodLogOptions& options) = 0;
};

}  // namespace sdb::apimachinery
