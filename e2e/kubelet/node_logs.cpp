// Node: pods/log, read from the containers' log files (the current run and the previous one).
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "e2e/kubelet/node.h"

namespace sdb::kubelet {

namespace res = kube::resources;

namespace {

class FileLogStream final : public apimachinery::LogStream {
 public:
  FileLogStream(int fd, apimachinery::PodLogOptions options, std::function<bool()> stillWriting)
      : fd_(fd), options_(std::move(options)), stillWriting_(std::move(stillWriting)) {
    if (options_.limitBytes) remaining_ = *options_.limitBytes;
    if (options_.tailLines) seekToTail(*options_.tailLines);
  }
  ~FileLogStream() override { ::close(fd_); }

  std::optional<std::string> next(std::chrono::milliseconds wait) override {
    if (remaining_ == 0) return std::nullopt;
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (true) {
      char buf[65536];
      size_t want = sizeof buf;
      if (remaining_ > 0) want = std::min<size_t>(want, static_cast<size_t>(remaining_));
      const ssize_t n = ::read(fd_, buf, want);
      if (n > 0) {
        if (remaining_ > 0) remaining_ -= n;
        return std::string(buf, static_cast<size_t>(n));
      }
      if (!options_.follow) return std::nullopt;
      if (!stillWriting_()) {
        // One last look: the container may have written just before it ended.
        const ssize_t last = ::read(fd_, buf, want);
        if (last > 0) {
          if (remaining_ > 0) remaining_ -= last;
          return std::string(buf, static_cast<size_t>(last));
        }
        return std::nullopt;
      }
      if (std::chrono::steady_clock::now() >= deadline) return std::string();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

 private:
  void seekToTail(int64_t lines) {
    const off_t size = ::lseek(fd_, 0, SEEK_END);
    if (lines <= 0) return;  // tail 0: nothing old, only what follows
    off_t pos = size;
    int64_t newlines = 0;
    char buf[4096];
    // A final newline ends the last line rather than starting an empty one.
    while (pos > 0) {
      const off_t chunk = std::min<off_t>(pos, sizeof buf);
      pos -= chunk;
      if (::pread(fd_, buf, static_cast<size_t>(chunk), pos) != chunk) break;
      for (off_t i = chunk - 1; i >= 0; --i) {
        if (buf[i] != '\n') continue;
        if (pos + i == size - 1) continue;
        if (++newlines == lines) {
          ::lseek(fd_, pos + i + 1, SEEK_SET);
          return;
        }
      }
    }
    ::lseek(fd_, 0, SEEK_SET);
  }

  int fd_;
  apimachinery::PodLogOptions options_;
  std::function<bool()> stillWriting_;
  int64_t remaining_ = -1;
};

std::vector<std::string> names(const Json& pod, const char* kind) {
  std::vector<std::string> out;
  const Json* cs = jsonAt(pod, {"spec", kind});
  for (const auto& c : cs && cs->is_array() ? *cs : Json::array()) out.push_back(jsonString(c, {"name"}));
  return out;
}

std::string bracket(const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + v[i];
  return s + "]";
}

}  // namespace

kube::KResult<std::unique_ptr<apimachinery::LogStream>> Node::openLog(const std::string& ns, const std::string& name,
                                                                     const apimachinery::PodLogOptions& options) {
  auto pod = store_->get(res::kPods, ns, name);
  if (!pod.ok()) return pod.error();
  std::string container = options.container;
  const auto containers = names(*pod, "containers"), inits = names(*pod, "initContainers");
  if (container.empty()) {
    if (containers.size() != 1) {
      std::string msg = "a container name must be specified for pod " + name + ", choose one of: " + bracket(containers);
      if (!inits.empty()) msg += " or one of the init containers: " + bracket(inits);
      return kube::badRequestError(msg);
    }
    container = containers[0];
  }
  if (std::find(containers.begin(), containers.end(), container) == containers.end() &&
      std::find(inits.begin(), inits.end(), container) == inits.end()) {
    return kube::badRequestError("container " + container + " is not valid for pod " + name);
  }
  auto worker = workerFor(jsonString(*pod, {"metadata", "uid"}));
  std::string file;
  if (worker) file = worker->logFile(container, options.previous);
  if (file.empty()) {
    if (options.previous) return kube::badRequestError("previous terminated container \"" + container + "\" in pod \"" + name + "\" not found");
    std::string reason = "ContainerCreating";
    for (const char* key : {"containerStatuses", "initContainerStatuses"}) {
      const Json* st = jsonAt(*pod, {"status", key});
      for (const auto& s : st && st->is_array() ? *st : Json::array()) {
        if (jsonString(s, {"name"}) == container) reason = jsonString(s, {"state", "waiting", "reason"}, reason);
      }
    }
    return kube::badRequestError("container \"" + container + "\" in pod \"" + name + "\" is waiting to start: " + reason);
  }
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return kube::badRequestError("container \"" + container + "\" in pod \"" + name + "\" has no log yet");
  const std::string uid = jsonString(*pod, {"metadata", "uid"});
  auto stillWriting = [this, uid, container, file, previous = options.previous] {
    if (previous) return false;
    auto w = workerFor(uid);
    return w && w->containerRunning(container) && w->logFile(container, false) == file;
  };
  return std::unique_ptr<apimachinery::LogStream>(std::make_unique<FileLogStream>(fd, options, stillWriting));
}

}  // namespace sdb::kubelet
