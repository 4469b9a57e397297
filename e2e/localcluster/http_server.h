// A small HTTPS/1.1 server (Boost.Beast over OpenSSL), thread per connection, with chunked
// streaming responses for watches. Beast stays inside http_server.cpp (build time).
//
// Why Beast rather than cpprestsdk's listener: full control over chunk boundaries and connection
// cuts (faults.h cuts watches mid-line), and no shared pplx pool that long-lived watches could
// exhaust (FACTS.md).
//
// Contract: start() binds and returns once listening; stop() closes the listener and asks streaming
// responses to end; both are thread-safe. The handler runs on the connection's thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "operator/core/result.h"

namespace sdb::localcluster {

struct HttpRequest {
  std::string method;
  std::string path;                           // decoded, without the query
  std::map<std::string, std::string> query;   // decoded
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& lowerName) const {
    auto it = headers.find(lowerName);
    return it == headers.end() ? "" : it->second;
  }
  std::string param(const std::string& name) const {
    auto it = query.find(name);
    return it == query.end() ? "" : it->second;
  }
};

// write(chunk) sends one chunk and returns false once the client has gone or the server stops.
using ChunkWriter = std::function<bool(const std::string& chunk)>;

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set: chunked, body ignored. Returns true to end the body properly (the last chunk), false to
  // cut the connection there without it (fault injection: a watch cut mid-line).
  std::function<bool(const ChunkWriter&)> stream;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpsServerOptions {
  std::string address = "127.0.0.1";
  int port = 0;  // 0: any free port
  std::string certificatePem, privateKeyPem;
};

class HttpsServer {
 public:
  HttpsServer();
  ~HttpsServer();
  Status start(const HttpsServerOptions& options, HttpHandler handler);
  void stop();
  // Shuts down every open connection (idle keep-alives, requests in flight, streams) but the one
  // whose handler calls it, as a restarting server would; the listener stays open.
  void dropConnections();
  int port() const;
  bool stopping() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sdb::localcluster
