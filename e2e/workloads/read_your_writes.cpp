#include "e2e/workloads/read_your_writes.h"

#include <thread>

namespace sdb::workloads {

namespace {
int64_t toRv(const std::string& s) {
  try {
    return s.empty() ? 0 : std::stoll(s);
  } catch (...) {
    return 0;
  }
}
}  // namespace

void ReadYourWrites::wrote(const runtime::Informer& informer, const Json& written) {
  const int64_t rv = toRv(jsonString(written, {"metadata", "resourceVersion"}));
  if (rv == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  int64_t& want = pending_[&informer];
  want = std::max(want, rv);
}

bool ReadYourWrites::await(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto it = pending_.begin(); it != pending_.end();) {
        it = toRv(it->first->lastResourceVersion()) >= it->second ? pending_.erase(it) : std::next(it);
      }
      if (pending_.empty()) return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace sdb::workloads
