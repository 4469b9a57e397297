#include "e2e/localcluster/audit_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "operator/core/clock.h"

namespace sdb::localcluster {

Result<std::unique_ptr<AuditLog>> AuditLog::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Error{ErrorCode::kIO, "open " + path + ": " + std::strerror(errno)};
  std::FILE* f = ::fdopen(fd, "a");
  if (!f) {
    ::close(fd);
    return Error{ErrorCode::kIO, "fdopen " + path + ": " + std::strerror(errno)};
  }
  return std::unique_ptr<AuditLog>(new AuditLog(f));
}

AuditLog::~AuditLog() { std::fclose(file_); }

Json auditEvent(const HttpRequest& req, const apimachinery::AuthUser& user, const apimachinery::RequestAttributes& attrs,
                const apimachinery::AuthorizationDecision* decision, const HttpResponse& resp,
                std::chrono::system_clock::time_point received) {
  std::string uri = req.path;
  char sep = '?';
  for (const auto& [k, v] : req.query) {
    uri += sep + k + "=" + v;
    sep = '&';
  }
  Json event = {{"kind", "Event"}, {"apiVersion", "audit.k8s.io/v1"}, {"level", "Metadata"},
                {"stage", resp.stream ? "ResponseStarted" : "ResponseComplete"},
                {"requestURI", uri}, {"verb", attrs.verb},
                {"user", {{"username", user.name}, {"groups", user.groups}}},
                {"userAgent", req.header("user-agent")},
                {"requestReceivedTimestamp", formatRfc3339(received)},
                {"stageTimestamp", formatRfc3339(std::chrono::system_clock::now())}};
  if (attrs.resourceRequest) {
    Json ref = {{"resource", attrs.resource}, {"apiVersion", attrs.apiVersion}};
    ref["apiGroup"] = attrs.apiGroup;
    if (!attrs.ns.empty()) ref["namespace"] = attrs.ns;
    if (!attrs.name.empty()) ref["name"] = attrs.name;
    if (!attrs.subresource.empty()) ref["subresource"] = attrs.subresource;
    event["objectRef"] = ref;
  }
  Json status = {{"code", resp.status}};
  if (resp.status >= 400 && !resp.stream) {
    auto body = parseJson(resp.body, "status");
    if (body.ok() && body->is_object()) {
      if (body->contains("reason")) status["reason"] = (*body)["reason"];
      if (body->contains("message")) status["message"] = (*body)["message"];
    }
  }
  event["responseStatus"] = status;
  if (decision) {
    event["annotations"] = {{"authorization.k8s.io/decision", decision->allowed ? "allow" : "forbid"},
                            {"authorization.k8s.io/reason", decision->reason}};
  }
  return event;
}

void AuditLog::record(const Json& event) {
  std::string line = dumpJson(event);
  line.push_back('\n');
  std::lock_guard<std::mutex> lock(mu_);
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

}  // namespace sdb::localcluster
