#include "controllers/servicedatabase/tls_probe.h"

#include <fcntl.h>
#include <netdb.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace sdb::controllers::servicedatabase {

namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// OpenSSL writes with write(2): a server that closes mid-handshake would raise SIGPIPE. Block it in
// this thread meanwhile and swallow one raised during the call (as libpq does).
class SigpipeBlocked {
 public:
  SigpipeBlocked() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
    sigset_t pending;
    sigpending(&pending);
    pendingBefore_ = sigismember(&pending, SIGPIPE) == 1;
  }
  ~SigpipeBlocked() {
    sigset_t pending;
    sigpending(&pending);
    if (!pendingBefore_ && sigismember(&pending, SIGPIPE) == 1) {
      timespec zero{};
      sigtimedwait(&pipe_, nullptr, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlocked(const SigpipeBlocked&) = delete;
  SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;

 private:
  sigset_t pipe_, old_;
  bool pendingBefore_ = false;
};

std::string opensslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out.empty() ? "no detail" : out;
}

// A connected, blocking socket with send/receive timeouts, or an error.
Result<int> dial(const std::string& host, int port, int timeoutSeconds, const std::string& where) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0) {
    return Error(ErrorCode::kUnavailable, where + ": resolving: " + gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addrs(found, freeaddrinfo);
  std::string last = "no address";
  for (addrinfo* a = addrs.get(); a != nullptr; a = a->ai_next) {
    Fd s{::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol)};
    if (s.fd < 0) {
      last = std::strerror(errno);
      continue;
    }
    if (::connect(s.fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last = std::strerror(errno);
      continue;
    }
    pollfd p{s.fd, POLLOUT, 0};
    const int ready = ::poll(&p, 1, timeoutSeconds * 1000);
    int err = 0;
    socklen_t len = sizeof err;
    if (ready <= 0) {
      last = ready == 0 ? "connect timed out after " + std::to_string(timeoutSeconds) + " s" : std::strerror(errno);
      continue;
    }
    if (getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      last = std::strerror(err != 0 ? err : errno);
      continue;
    }
    ::fcntl(s.fd, F_SETFL, ::fcntl(s.fd, F_GETFL) & ~O_NONBLOCK);
    timeval tv{timeoutSeconds, 0};
    setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(s.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    const int fd = s.fd;
    s.fd = -1;
    return fd;
  }
  return Error(ErrorCode::kUnavailable, where + ": " + last);
}

}  // namespace

Result<std::string> presentedTlsSerial(const std::string& host, int port, const std::string& serverName, int timeoutSeconds) {
  const std::string where = "reading the certificate served at " + host + ":" + std::to_string(port);
  auto fd = dial(host, port, timeoutSeconds, where);
  if (!fd.ok()) return fd.error();
  Fd sock{*fd};
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (!ctx) return internalError(where + ": SSL_CTX_new: " + opensslErrors());
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);  // the serial is a hint (see the header)
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  if (!ssl) return internalError(where + ": SSL_new: " + opensslErrors());
  SSL_set_fd(ssl.get(), sock.fd);
  if (!serverName.empty()) SSL_set_tlsext_host_name(ssl.get(), serverName.c_str());
  ERR_clear_error();
  SigpipeBlocked blocked;
  if (SSL_connect(ssl.get()) != 1) {
    std::string why = opensslErrors();
    if (why == "no detail") why = "no TLS answer within " + std::to_string(timeoutSeconds) + " s, or the connection was closed";
    return Error(ErrorCode::kUnavailable, where + ": TLS handshake: " + why);
  }
  std::unique_ptr<X509, decltype(&X509_free)> cert(SSL_get1_peer_certificate(ssl.get()), X509_free);
  SSL_shutdown(ssl.get());
  if (!cert) return Error(ErrorCode::kUnavailable, where + ": the server presented no certificate");
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(ASN1_INTEGER_to_BN(X509_get_serialNumber(cert.get()), nullptr), BN_free);
  if (!bn) return internalError(where + ": unreadable serial");
  char* hex = BN_bn2hex(bn.get());
  std::string out(hex);
  OPENSSL_free(hex);
  return out;
}

}  // namespace sdb::controllers::servicedatabase
