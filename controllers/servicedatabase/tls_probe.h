// Which certificate a server that speaks TLS from its first byte (mongod with --tlsMode
// requireTLS, redis-server's TLS port) presents: one TCP connection, one TLS handshake, the peer
// certificate's serial, then close. Nothing is sent after the handshake.
//
// The chain is NOT verified, on purpose: the serial only tells the dedicated backend whether to ask
// the server to reload its certificate, and every connection that carries a password verifies the
// chain and the name in full (the engine's own connection). A forged answer can cause at most one
// needless reload or one skipped reload; a verifying probe could never see a certificate from a CA
// the operator no longer trusts, which is exactly the one that needs replacing.
//
// Contract: blocking, bounded by `timeoutSeconds` for the connect and again for the handshake;
// thread-safe (no shared state). Errors name host and port.
#pragma once

#include <string>

#include "operator/core/result.h"

namespace sdb::controllers::servicedatabase {

// The serial in hex as pki::serialHex writes it. `serverName` (may be empty) goes out as SNI.
Result<std::string> presentedTlsSerial(const std::string& host, int port, const std::string& serverName,
                                       int timeoutSeconds);

}  // namespace sdb::controllers::servicedatabase
