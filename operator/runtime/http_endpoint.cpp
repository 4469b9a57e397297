#include "operator/runtime/http_endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sdb::runtime {

namespace {
const char* statusText(int code) {
  switch (code) {
    case 200: return "OK";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

void writeAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;
    }
    off += static_cast<size_t>(n);
  }
}
}  // namespace

HttpEndpoint::~HttpEndpoint() { stop(); }

Status HttpEndpoint::start(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) return invalidArgument("bind address \"" + address + "\": expected [host]:port");
  std::string host = address.substr(0, colon);
  int port = 0;
  try {
    port = std::stoi(address.substr(colon + 1));
  } catch (...) {
    return invalidArgument("bind address \"" + address + "\": port is not a number");
  }
  if (host.empty() || host == "0.0.0.0" || host == "*") host = "0.0.0.0";
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  if (host == "localhost") host = "127.0.0.1";
  if (::inet_pton(AF_INET, host.c_str(), &sa.sin_addr) != 1) {
    return invalidArgument("bind address \"" + address + "\": host must be an IPv4 address");
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ioError(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd, 64) != 0) {
    std::string err = std::strerror(errno);
    ::close(fd);
    return ioError("listen on " + address + ": " + err);
  }
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  port_ = ntohs(sa.sin_port);
  listenFd_ = fd;
  running_ = true;
  thread_ = std::thread([this] { serve(); });
  return okStatus();
}

void HttpEndpoint::stop() {
  if (!running_.exchange(false)) return;
  if (thread_.joinable()) thread_.join();
  ::close(listenFd_);
  listenFd_ = -1;
}

void HttpEndpoint::serve() {
  while (running_.load()) {
    pollfd p{listenFd_, POLLIN, 0};
    int r = ::poll(&p, 1, 100);
    if (r <= 0) continue;
    int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    timeval tv{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    answer(fd);
    ::close(fd);
  }
}

void HttpEndpoint::answer(int fd) {
  std::string req;
  char buf[2048];
  while (req.find("\r\n\r\n") == std::string::npos && req.size() < 16384) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      break;
    }
    req.append(buf, static_cast<size_t>(n));
  }
  auto lineEnd = req.find("\r\n");
  if (lineEnd == std::string::npos) return;
  std::string line = req.substr(0, lineEnd);
  auto sp1 = line.find(' ');
  auto sp2 = line.find(' ', sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos) return;
  std::string method = line.substr(0, sp1);
  std::string path = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (auto q = path.find('?'); q != std::string::npos) path.resize(q);
  HttpReply reply;
  auto it = handlers_.find(path);
  if (method != "GET" && method != "HEAD") {
    reply = {405, "text/plain; charset=utf-8", "method not allowed\n"};
  } else if (it == handlers_.end()) {
    reply = {404, "text/plain; charset=utf-8", "404 page not found\n"};
  } else {
    try {
      reply = it->second();
    } catch (const std::exception& e) {
      reply = {500, "text/plain; charset=utf-8", std::string("internal error: ") + e.what() + "\n"};
    }
  }
  std::string head = "HTTP/1.1 " + std::to_string(reply.status) + " " + statusText(reply.status) +
                     "\r\nContent-Type: " + reply.contentType + "\r\nContent-Length: " +
                     std::to_string(reply.body.size()) + "\r\nConnection: close\r\n\r\n";
  writeAll(fd, method == "HEAD" ? head : head + reply.body);
}

}  // namespace sdb::runtime
