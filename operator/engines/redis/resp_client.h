// A blocking Redis client over TCP or TLS (OpenSSL), for the operator's admin connection and the
// backup runner. hiredis 0.14 has no TLS (FACTS.md), so this module owns the socket and the TLS
// session and lets hiredis do the protocol: `redisFormatCommandArgv` encodes every command and a
// `redisReader` parses every reply. Why not a plain admin port: docs/engines/redis.md.
//
// Contract:
// - TLS is the default and verifies the server fully: chain against `tls.caFile`, and the host name
//   (or IP address) in `tls.serverName` (default: `host`), which is also sent as SNI. TLS 1.2 or
//   newer. A client certificate is offered when given (servers with `tls-auth-clients yes`).
// - Plain TCP needs `transport = kPlainTcp`. It exists for tests, and for a shared server that
//   offers no TLS at all when the ServiceDatabase says so (spec.tls.enabled false and the admin
//   Secret's tls "false"); the operator never falls back to it on its own.
// - Arguments are binary-safe (one RESP bulk string each); nothing is ever spliced into a command
//   line, so no argument can become a second argument or command.
// - After an I/O error or a timeout the client is broken and refuses further commands (the reply
//   stream is no longer in step). Server error replies are values (`Reply::kError`), not breakage.
// - Passwords never appear in error messages; the AUTH command buffer is wiped after sending.
// - Move-only, one thread at a time. The connection closes on destruction.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "operator/core/result.h"

namespace sdb::engines::redis {

enum class Transport { kTls, kPlainTcp };

struct TlsOptions {
  std::string caFile;      // PEM bundle the server certificate must chain to (required)
  std::string serverName;  // verified against the certificate and sent as SNI; empty: the host
  std::string certFile;    // optional client certificate (PEM) ...
  std::string keyFile;     // ... and its key
};

struct ConnectOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  Transport transport = Transport::kTls;
  TlsOptions tls;
  std::string user;      // AUTH user password after connecting; empty: no AUTH
  std::string password;  // never logged
  std::chrono::milliseconds connectTimeout{5000};
  std::chrono::milliseconds ioTimeout{30000};  // per read or write
  std::string describe() const;  // "tls://host:port as user", for messages
};

struct Reply {
  enum class Type { kString, kArray, kInteger, kNil, kStatus, kError };
  Type type = Type::kNil;
  std::string str;  // kString, kStatus, kError (binary-safe)
  long long integer = 0;
  std::vector<Reply> elements;

  bool isError() const { return type == Type::kError; }
  bool isNil() const { return type == Type::kNil; }
  bool isOk() const { return type == Type::kStatus && str == "OK"; }
  // Flat [k1, v1, k2, v2, ...] arrays (RESP2 maps, e.g. ACL GETUSER): the value for `key`.
  const Reply* field(const std::string& key) const;
};

class RespClient {
 public:
  static Result<RespClient> connect(const ConnectOptions& options);
  RespClient(RespClient&&) noexcept;
  RespClient& operator=(RespClient&&) noexcept;
  ~RespClient();

  // Sends one command and reads its reply. Transport failures are errors; error replies are not.
  Result<Reply> command(const std::vector<std::string>& argv);
  // Sends all commands, then reads one reply per command (pipelining).
  Result<std::vector<Reply>> pipeline(const std::vector<std::vector<std::string>>& commands);
  // As command(), but an error reply becomes an Error "<what>: <server message>" too:
  // NOPERM/WRONGPASS -> kPermissionDenied, LOADING/BUSY/MASTERDOWN -> kUnavailable, others
  // kFailedPrecondition.
  Result<Reply> call(const std::vector<std::string>& argv, const std::string& what);

  // For replies that are not RESP (the RDB payload after SYNC): send() writes a command without
  // reading anything, and readRaw() returns raw bytes, first those the parser had buffered.
  Status send(const std::vector<std::string>& argv);
  Result<size_t> readRaw(uint8_t* buf, size_t size);

  bool broken() const;
  bool usesTls() const;
  // The certificate the server presented in the TLS handshake (PEM; "" over plain TCP), e.g. to
  // see which one a server serves after reloading its certificate files.
  std::string peerCertificatePem() const;

 private:
  struct Impl;
  explicit RespClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The Error for a server error reply, classified as call() does.
Error errorFromReply(const std::string& what, const Reply& reply);

}  // namespace sdb::engines::redis
