// How the MongoDB engine talks to a server: an interface, so observe/execute can be unit-tested
// against scripted replies, and one implementation over mongo-c-driver (connection.h).
//
// Contract: `run` sends one command document to one database and returns the reply as JSON when
// the server says ok: 1; otherwise an Error whose code says what happened (PermissionDenied for
// Unauthorized/AuthenticationFailed, NotFound for UserNotFound/NamespaceNotFound, AlreadyExists for
// UserAlreadyExists/DuplicateKey, Unavailable when no server could be reached) and whose message
// starts with `what`. `tryLogin` performs a SCRAM-SHA-256 authentication as `user` against
// `authDatabase`: true accepted, false rejected, an Error when the server cannot be reached.
// Passwords never appear in errors. One channel serves one caller at a time.
#pragma once

#include <memory>
#include <string>

#include "operator/core/json.h"
#include "operator/core/result.h"
#include "operator/engines/mongo/commands.h"

namespace sdb::engines::mongo {

class AdminChannel {
 public:
  virtual ~AdminChannel() = default;
  virtual Result<Json> run(const Command& command, const std::string& what) = 0;
  virtual Result<bool> tryLogin(const std::string& authDatabase, const std::string& user,
                                const std::string& password) = 0;
};

// Maps a server error code (the `code` field of a reply with ok: 0) to our ErrorCode.
ErrorCode errorCodeForServerCode(int serverCode);

}  // namespace sdb::engines::mongo
