// Transport: the narrow HTTP seam under HttpKubeClient. It sends one request and hands back the status,
// body and the headers the client cares about; it knows nothing of Kubernetes, retries or tokens.
// The only production implementation is over cpprestsdk (cpprest_transport.h), so cpprestsdk and Boost
// headers stay in one .cpp file; pure-logic unit tests of the client (retries, errors, watch
// decoding) script a fake one.
//
// Contract: implementations are thread-safe (concurrent send() and stream() calls). Every call has a
// deadline: send() gives up after request.timeout in total; a stream's read() gives up when no byte
// arrives for its idle timeout. A failure without an HTTP answer is a TransportFailure.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "operator/kube/api_error.h"

namespace sdb::kube {

struct TransportRequest {
  std::string method;       // GET, POST, PUT, PATCH, DELETE
  std::string target;       // path and query, percent-encoded: "/api/v1/namespaces/a/pods?limit=5"
  std::vector<std::pair<std::string, std::string>> headers;  // Authorization, Accept, User-Agent, ...
  std::string contentType;  // "" when there is no body
  std::string body;
  std::chrono::milliseconds timeout{30000};  // whole request: connect, send, headers and body
};

struct TransportResponse {
  int status = 0;
  std::string body;
  std::optional<int> retryAfterSeconds;  // Retry-After in seconds, when the server sent one
  std::vector<std::string> warnings;     // Warning headers
};

// A failure with no HTTP answer. `sent` is false only when the request provably never reached the
// server (connection refused or unreachable), so even a non-idempotent request may be sent again.
struct TransportFailure {
  ApiError error;  // kNetwork or kTimeout
  bool sent = true;
};

template <class T>
using TResult = Result<T, TransportFailure>;

// The body of a streaming response (a watch), read incrementally.
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  // Blocks until some bytes arrive (returned), the body ends cleanly ("" ), or it fails: a cut
  // connection (kNetwork), no byte within the idle timeout (kTimeout), or cancel() (kNetwork with
  // cancelled() true).
  virtual KResult<std::string> read() = 0;
  // From any thread: makes a blocked read() return promptly. Idempotent.
  virtual void cancel() = 0;
  virtual bool cancelled() const = 0;
};

struct StreamResponse {
  TransportResponse head;             // status and headers; body only when status is not 200
  std::unique_ptr<BodyStream> body;   // set when status is 200
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual TResult<TransportResponse> send(const TransportRequest& request) = 0;
  // Returns once the response headers arrived (request.timeout bounds that); the body then streams
  // with `idleTimeout` between bytes.
  virtual TResult<StreamResponse> stream(const TransportRequest& request, std::chrono::milliseconds idleTimeout) = 0;
};

}  // namespace sdb::kube
