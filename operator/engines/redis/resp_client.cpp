#include "operator/engines/redis/resp_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <hiredis/read.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sdb::engines::redis {
namespace {

std::string sslErrors() {
  std::string out;
  char buf[256];
  while (unsigned long e = ERR_get_error()) {
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no OpenSSL error recorded" : out;
}

bool isIpLiteral(const std::string& s) {
  in6_addr a6{};
  in_addr a4{};
  return inet_pton(AF_INET, s.c_str(), &a4) == 1 || inet_pton(AF_INET6, s.c_str(), &a6) == 1;
}

// OpenSSL writes to the socket with write(2), which raises SIGPIPE when the server has gone. As libpq
// does, block SIGPIPE in this thread around TLS calls and swallow one raised meanwhile, so a closed
// connection is an error value and never kills the process.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &s, &old_);
    sigset_t pending;
    sigpending(&pending);
    pendingBefore_ = sigismember(&pending, SIGPIPE) == 1;
  }
  ~SigpipeGuard() {
    if (!pendingBefore_) {
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGPIPE);
        timespec zero{};
        sigtimedwait(&s, nullptr, &zero);
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t old_;
  bool pendingBefore_ = false;
};

bool wouldBlock(int sslError) {
  return sslError == SSL_ERROR_WANT_READ || sslError == SSL_ERROR_WANT_WRITE ||
         (sslError == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK));
}

Reply convert(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING: out.type = Reply::Type::kString; out.str.assign(r->str, r->len); break;
    case REDIS_REPLY_STATUS: out.type = Reply::Type::kStatus; out.str.assign(r->str, r->len); break;
    case REDIS_REPLY_ERROR: out.type = Reply::Type::kError; out.str.assign(r->str, r->len); break;
    case REDIS_REPLY_INTEGER: out.type = Reply::Type::kInteger; out.integer = r->integer; break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::kArray;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
      break;
    default: out.type = Reply::Type::kNil; break;
  }
  return out;
}

// Connects with a deadline, then switches to blocking mode with per-call I/O timeouts.
Result<int> dial(const ConnectOptions& o) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(o.port);
  if (int rc = getaddrinfo(o.host.c_str(), port.c_str(), &hints, &res); rc != 0)
    return Error(ErrorCode::kUnavailable, "resolving " + o.host + ": " + gai_strerror(rc));
  std::string lastError = "no address";
  int fd = -1;
  for (addrinfo* ai = res; ai != nullptr && fd < 0; ai = ai->ai_next) {
    int s = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (s < 0) continue;
    int rc = ::connect(s, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{s, POLLOUT, 0};
      rc = ::poll(&p, 1, static_cast<int>(o.connectTimeout.count()));
      if (rc == 0) {
        lastError = "connect timed out";
        ::close(s);
        continue;
      }
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
      rc = err == 0 ? 0 : -1;
      errno = err;
    }
    if (rc != 0) {
      lastError = std::strerror(errno);
      ::close(s);
      continue;
    }
    fd = s;
  }
  freeaddrinfo(res);
  if (fd < 0) return Error(ErrorCode::kUnavailable, "connecting to " + o.host + ":" + port + ": " + lastError);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  timeval tv{};
  tv.tv_sec = o.ioTimeout.count() / 1000;
  tv.tv_usec = (o.ioTimeout.count() % 1000) * 1000;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

}  // namespace

std::string ConnectOptions::describe() const {
  std::string s = (transport == Transport::kTls ? "tls://" : "tcp://") + host + ":" + std::to_string(port);
  if (!user.empty()) s += " as " + user;
  return s;
}

const Reply* Reply::field(const std::string& key) const {
  if (type != Type::kArray) return nullptr;
  for (size_t i = 0; i + 1 < elements.size(); i += 2)
    if (elements[i].str == key) return &elements[i + 1];
  return nullptr;
}

Error errorFromReply(const std::string& what, const Reply& r) {
  auto starts = [&](const char* p) { return r.str.rfind(p, 0) == 0; };
  ErrorCode code = ErrorCode::kFailedPrecondition;
  if (starts("NOPERM") || starts("WRONGPASS") || starts("NOAUTH")) code = ErrorCode::kPermissionDenied;
  else if (starts("LOADING") || starts("BUSY") || starts("MASTERDOWN") || starts("TRYAGAIN")) code = ErrorCode::kUnavailable;
  return Error(code, what + ": " + r.str);
}

struct RespClient::Impl {
  int fd = -1;
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  redisReader* reader = nullptr;
  bool broken = false;
  std::string peer;

  ~Impl() {
    if (ssl) {
      SigpipeGuard guard;
      if (!broken) SSL_shutdown(ssl);  // best effort close_notify; the peer may be gone
      SSL_free(ssl);
    }
    if (ctx) SSL_CTX_free(ctx);
    if (fd >= 0) ::close(fd);
    if (reader) redisReaderFree(reader);
  }

  Error fail(ErrorCode code, const std::string& m) {
    broken = true;
    return Error(code, peer + ": " + m);
  }

  Status writeAll(const char* data, size_t size) {
    while (size > 0) {
      ssize_t n;
      if (ssl) {
        ERR_clear_error();
        SigpipeGuard guard;
        int w = SSL_write(ssl, data, static_cast<int>(std::min<size_t>(size, 1 << 30)));
        if (w <= 0) {
          int e = SSL_get_error(ssl, w);
          if (wouldBlock(e)) return fail(ErrorCode::kTimeout, "write timed out");
          return fail(ErrorCode::kUnavailable, "TLS write failed: " + sslErrors());
        }
        n = w;
      } else {
        n = ::send(fd, data, size, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return fail(ErrorCode::kTimeout, "write timed out");
        if (n < 0) return fail(ErrorCode::kUnavailable, std::string("write failed: ") + std::strerror(errno));
      }
      data += n;
      size -= static_cast<size_t>(n);
    }
    return okStatus();
  }

  Result<size_t> readSome(char* buf, size_t size) {
    while (true) {
      if (ssl) {
        ERR_clear_error();
        SigpipeGuard guard;  // a read may write too (TLS 1.3 key updates)
        int r = SSL_read(ssl, buf, static_cast<int>(size));
        if (r > 0) return static_cast<size_t>(r);
        int e = SSL_get_error(ssl, r);
        if (e == SSL_ERROR_ZERO_RETURN) return fail(ErrorCode::kUnavailable, "server closed the TLS session");
        if (wouldBlock(e)) return fail(ErrorCode::kTimeout, "read timed out");
        if (e == SSL_ERROR_SYSCALL && r == 0) return fail(ErrorCode::kUnavailable, "server closed the connection");
        return fail(ErrorCode::kUnavailable, "TLS read failed: " + sslErrors());
      }
      ssize_t n = ::recv(fd, buf, size, 0);
      if (n > 0) return static_cast<size_t>(n);
      if (n == 0) return fail(ErrorCode::kUnavailable, "server closed the connection");
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return fail(ErrorCode::kTimeout, "read timed out");
      return fail(ErrorCode::kUnavailable, std::string("read failed: ") + std::strerror(errno));
    }
  }

  Result<Reply> readReply() {
    char buf[16384];
    while (true) {
      void* raw = nullptr;
      if (redisReaderGetReply(reader, &raw) != REDIS_OK)
        return fail(ErrorCode::kInternal, std::string("protocol error: ") + reader->errstr);
      if (raw != nullptr) {
        Reply r = convert(static_cast<redisReply*>(raw));
        freeReplyObject(raw);
        return r;
      }
      auto n = readSome(buf, sizeof buf);
      if (!n.ok()) return n.error();
      if (redisReaderFeed(reader, buf, *n) != REDIS_OK)
        return fail(ErrorCode::kInternal, std::string("protocol error: ") + reader->errstr);
    }
  }

  Status send(const std::vector<std::string>& argv, bool wipe) {
    if (argv.empty()) return invalidArgument("empty command");
    std::vector<const char*> ptrs;
    std::vector<size_t> lens;
    for (const auto& a : argv) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
    char* cmd = nullptr;
    int len = redisFormatCommandArgv(&cmd, static_cast<int>(argv.size()), ptrs.data(), lens.data());
    if (len < 0) return fail(ErrorCode::kInternal, "cannot encode command (out of memory)");
    Status s = writeAll(cmd, static_cast<size_t>(len));
    if (wipe) OPENSSL_cleanse(cmd, static_cast<size_t>(len));
    redisFreeCommand(cmd);
    return s;
  }

  Status handshake(const ConnectOptions& o) {
    ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) return fail(ErrorCode::kInternal, "SSL_CTX_new: " + sslErrors());
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (o.tls.caFile.empty()) return fail(ErrorCode::kInvalidArgument, "TLS needs a CA file (tls.caFile) to verify the server");
    if (SSL_CTX_load_verify_locations(ctx, o.tls.caFile.c_str(), nullptr) != 1)
      return fail(ErrorCode::kInvalidArgument, "loading CA file " + o.tls.caFile + ": " + sslErrors());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (!o.tls.certFile.empty() || !o.tls.keyFile.empty()) {
      if (SSL_CTX_use_certificate_chain_file(ctx, o.tls.certFile.c_str()) != 1 ||
          SSL_CTX_use_PrivateKey_file(ctx, o.tls.keyFile.c_str(), SSL_FILETYPE_PEM) != 1 ||
          SSL_CTX_check_private_key(ctx) != 1)
        return fail(ErrorCode::kInvalidArgument, "loading client certificate " + o.tls.certFile + ": " + sslErrors());
    }
    ssl = SSL_new(ctx);
    if (!ssl) return fail(ErrorCode::kInternal, "SSL_new: " + sslErrors());
    SSL_set_fd(ssl, fd);
    const std::string name = o.tls.serverName.empty() ? o.host : o.tls.serverName;
    if (isIpLiteral(name)) {
      if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) != 1)
        return fail(ErrorCode::kInvalidArgument, "bad IP address " + name);
    } else {
      SSL_set_tlsext_host_name(ssl, name.c_str());  // SNI
      if (SSL_set1_host(ssl, name.c_str()) != 1) return fail(ErrorCode::kInvalidArgument, "bad server name " + name);
      SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    }
    ERR_clear_error();
    SigpipeGuard guard;
    if (SSL_connect(ssl) != 1) {
      long v = SSL_get_verify_result(ssl);
      std::string why = v != X509_V_OK ? std::string("certificate verification failed: ") + X509_verify_cert_error_string(v)
                                       : sslErrors();
      return fail(ErrorCode::kUnavailable, "TLS handshake (verifying " + name + "): " + why);
    }
    return okStatus();
  }
};

RespClient::RespClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RespClient::RespClient(RespClient&&) noexcept = default;
RespClient& RespClient::operator=(RespClient&&) noexcept = default;
RespClient::~RespClient() = default;

Result<RespClient> RespClient::connect(const ConnectOptions& o) {
  if (o.transport == Transport::kTls && o.tls.caFile.empty())
    return invalidArgument("redis connection to " + o.describe() + ": TLS needs tls.caFile");
  auto impl = std::make_unique<Impl>();
  impl->peer = o.describe();
  impl->reader = redisReaderCreate();
  if (!impl->reader) return internalError("redisReaderCreate failed");
  auto fd = dial(o);
  if (!fd.ok()) return fd.error();
  impl->fd = *fd;
  if (o.transport == Transport::kTls) SDB_TRY(impl->handshake(o));
  RespClient c(std::move(impl));
  if (!o.user.empty() || !o.password.empty()) {
    std::vector<std::string> argv = {"AUTH"};
    if (!o.user.empty()) argv.push_back(o.user);
    argv.push_back(o.password);
    SDB_TRY(c.impl_->send(argv, /*wipe=*/true));
    OPENSSL_cleanse(argv.back().data(), argv.back().size());
    auto r = c.impl_->readReply();
    if (!r.ok()) return r.error();
    if (r->isError()) return errorFromReply("authenticating to " + o.describe(), *r);
  }
  return c;
}

Result<Reply> RespClient::command(const std::vector<std::string>& argv) {
  if (impl_->broken) return Error(ErrorCode::kUnavailable, impl_->peer + ": connection is broken");
  SDB_TRY(impl_->send(argv, false));
  return impl_->readReply();
}

Result<std::vector<Reply>> RespClient::pipeline(const std::vector<std::vector<std::string>>& commands) {
  if (impl_->broken) return Error(ErrorCode::kUnavailable, impl_->peer + ": connection is broken");
  for (const auto& c : commands) SDB_TRY(impl_->send(c, false));
  std::vector<Reply> out;
  out.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    auto r = impl_->readReply();
    if (!r.ok()) return r.error();
    out.push_back(std::move(*r));
  }
  return out;
}

Result<Reply> RespClient::call(const std::vector<std::string>& argv, const std::string& what) {
  auto r = command(argv);
  if (!r.ok()) return r.error().wrap(what);
  if (r->isError()) return errorFromReply(what, *r);
  return r;
}

Status RespClient::send(const std::vector<std::string>& argv) {
  if (impl_->broken) return Error(ErrorCode::kUnavailable, impl_->peer + ": connection is broken");
  return impl_->send(argv, false);
}

Result<size_t> RespClient::readRaw(uint8_t* buf, size_t size) {
  if (impl_->broken) return Error(ErrorCode::kUnavailable, impl_->peer + ": connection is broken");
  redisReader* r = impl_->reader;
  if (r->buf != nullptr && r->len > r->pos) {
    const size_t n = std::min(size, r->len - r->pos);
    std::memcpy(buf, r->buf + r->pos, n);
    r->pos += n;
    return n;
  }
  return impl_->readSome(reinterpret_cast<char*>(buf), size);
}

bool RespClient::broken() const { return impl_->broken; }
bool RespClient::usesTls() const { return impl_->ssl != nullptr; }

std::string RespClient::peerCertificatePem() const {
  if (impl_->ssl == nullptr) return "";
  X509* cert = SSL_get1_peer_certificate(impl_->ssl);
  if (cert == nullptr) return "";
  std::string out;
  if (BIO* bio = BIO_new(BIO_s_mem())) {
    if (PEM_write_bio_X509(bio, cert) == 1) {
      char* data = nullptr;
      const long n = BIO_get_mem_data(bio, &data);
      if (n > 0) out.assign(data, static_cast<size_t>(n));
    }
    BIO_free(bio);
  }
  X509_free(cert);
  return out;
}

}  // namespace sdb::engines::redis
