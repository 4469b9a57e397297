#include "e2e/kubelet/probes.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

namespace sdb::kubelet {

namespace {

int secondsAt(const Json& j, const std::string& key, int fallback) {
  return j.is_object() && j.contains(key) && j[key].is_number_integer() ? j[key].get<int>() : fallback;
}

// Runs fn on a thread that has entered netnsPath (setns affects only the calling thread).
template <class Fn>
ProbeResult inNetns(const std::string& netnsPath, Fn fn) {
  ProbeResult result;
  std::thread t([&] {
    const int fd = ::open(netnsPath.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
      result.message = "cannot enter the pod's network namespace: " + std::string(std::strerror(errno));
      if (fd >= 0) ::close(fd);
      return;
    }
    ::close(fd);
    result = fn();
  });
  t.join();
  return result;
}

// A connected socket to ip:port, or -1 with `error` set.
int connectWithTimeout(const std::string& ip, int port, std::chrono::milliseconds timeout, std::string& error) {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) {
    error = std::strerror(errno);
    return -1;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
  const std::string target = "dial tcp " + ip + ":" + std::to_string(port) + ": ";
  if (::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
    error = target + "connect: " + std::strerror(errno);
    ::close(s);
    return -1;
  }
  pollfd p{s, POLLOUT, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
    error = target + "i/o timeout";
    ::close(s);
    return -1;
  }
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    error = target + "connect: " + std::strerror(err);
    ::close(s);
    return -1;
  }
  return s;
}

}  // namespace

int resolvePort(const Json& port, const Json& container) {
  if (port.is_number_integer()) return port.get<int>();
  if (!port.is_string()) return 0;
  const std::string name = port.get<std::string>();
  if (!name.empty() && std::all_of(name.begin(), name.end(), ::isdigit)) return std::stoi(name);
  if (const Json* ports = jsonAt(container, {"ports"}); ports && ports->is_array()) {
    for (const auto& p : *ports) {
      if (jsonString(p, {"name"}) == name && p.contains("containerPort") && p["containerPort"].is_number_integer()) {
        return p["containerPort"].get<int>();
      }
    }
  }
  return 0;
}

ProbeResult tcpConnect(const std::string& netnsPath, const std::string& ip, int port, std::chrono::milliseconds timeout) {
  return inNetns(netnsPath, [&] {
    ProbeResult r;
    std::string error;
    const int s = connectWithTimeout(ip, port, timeout, error);
    if (s < 0) {
      r.message = error;
      return r;
    }
    ::close(s);
    r.success = true;
    return r;
  });
}

ProbeResult runProbe(const Json& probe, const ProbeTarget& t) {
  const auto timeout = std::chrono::seconds(std::max(1, secondsAt(probe, "timeoutSeconds", 1)));
  if (const Json* tcp = jsonAt(probe, {"tcpSocket"})) {
    const int port = resolvePort(tcp->value("port", Json()), t.container);
    if (port <= 0) return {false, "unknown port " + tcp->value("port", Json()).dump()};
    const std::string host = jsonString(*tcp, {"host"}, t.podIP);
    return tcpConnect(t.netnsPath, host.empty() ? t.podIP : host, port, timeout);
  }
  if (const Json* http = jsonAt(probe, {"httpGet"})) {
    const int port = resolvePort(http->value("port", Json()), t.container);
    if (port <= 0) return {false, "unknown port " + http->value("port", Json()).dump()};
    if (jsonString(*http, {"scheme"}) == "HTTPS") return {false, "HTTPS probes are not supported by the local node"};
    std::string host = jsonString(*http, {"host"});
    if (host.empty()) host = t.podIP;
    std::string path = jsonString(*http, {"path"}, "/");
    if (path.empty() || path[0] != '/') path = "/" + path;
    std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) +
                          "\r\nUser-Agent: kube-probe/1.32\r\nAccept: */*\r\nConnection: close\r\n";
    if (const Json* headers = jsonAt(*http, {"httpHeaders"}); headers && headers->is_array()) {
      for (const auto& h : *headers) request += jsonString(h, {"name"}) + ": " + jsonString(h, {"value"}) + "\r\n";
    }
    request += "\r\n";
    const std::string url = "http://" + host + ":" + std::to_string(port) + path;
    return inNetns(t.netnsPath, [&] {
      ProbeResult r;
      std::string error;
      const int s = connectWithTimeout(host, port, timeout, error);
      if (s < 0) {
        r.message = "Get \"" + url + "\": " + error;
        return r;
      }
      (void)!::send(s, request.data(), request.size(), MSG_NOSIGNAL);
      std::string got;
      char buf[512];
      const auto deadline = std::chrono::steady_clock::now() + timeout;
      while (got.find("\r\n") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
        pollfd p{s, POLLIN, 0};
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(1, left.count()))) <= 0) break;
        const ssize_t n = ::recv(s, buf, sizeof buf, 0);
        if (n <= 0) break;
        got.append(buf, static_cast<size_t>(n));
      }
      ::close(s);
      int code = 0;
      if (got.rfind("HTTP/", 0) == 0 && got.size() > 12) code = std::atoi(got.c_str() + 9);
      if (code >= 200 && code < 400) {
        r.success = true;
      } else {
        r.message = code ? "HTTP probe failed with statuscode: " + std::to_string(code)
                         : "Get \"" + url + "\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)";
      }
      return r;
    });
  }
  if (const Json* ex = jsonAt(probe, {"exec"})) {
    std::vector<std::string> argv;
    for (const auto& a : ex->value("command", Json::array())) argv.push_back(a.is_string() ? a.get<std::string>() : a.dump());
    if (argv.empty() || !t.exec) return {false, "exec probe without a command"};
    auto r = t.exec(argv, timeout);
    if (!r.ok()) {
      return {false, r.error().code == ErrorCode::kTimeout
                         ? "command timed out after " + std::to_string(timeout.count()) + "s" : r.error().message};
    }
    if (r->exitCode == 0) return {true, ""};
    std::string out = r->out + r->err;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return {false, out.empty() ? "command exited with " + std::to_string(r->exitCode) : out};
  }
  return {false, "the local node supports tcpSocket, httpGet and exec probes only"};
}

}  // namespace sdb::kubelet
