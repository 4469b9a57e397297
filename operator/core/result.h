// Errors as values, in the manner of LevelDB's Status and std::expected.
//
// Contract: `Error` carries a machine-readable code and a human message naming what failed.
// `Result<T>` holds either a value or an Error; reading the wrong side is a programming error and
// aborts. `Status` is `Result<void>`. All types are plain values: copyable, movable, not
// thread-safe to mutate concurrently (like any value type).
#pragma once

#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace sdb {

enum class ErrorCode {
  kInvalidArgument,  // bad input from a user or caller; retrying does not help
  kNotFound,
  kAlreadyExists,
  kConflict,         // optimistic-concurrency clash; re-read and retry
  kFailedPrecondition,
  kPermissionDenied,
  kUnavailable,      // a server could not be reached; retry with backoff
  kTimeout,
  kCancelled,
  kIO,
  kNotImplemented,
  kInternal,
};

const char* errorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  Error() = default;
  Error(ErrorCode c, std::string m) : code(c), message(std::move(m)) {}

  // Prefixes context, e.g. err.wrap("loading crds/x.yaml") -> "loading crds/x.yaml: <message>".
  Error wrap(const std::string& context) const { return Error(code, context + ": " + message); }
  std::string toString() const { return std::string(errorCodeName(code)) + ": " + message; }
};

inline Error invalidArgument(std::string m) { return Error(ErrorCode::kInvalidArgument, std::move(m)); }
inline Error notFound(std::string m) { return Error(ErrorCode::kNotFound, std::move(m)); }
inline Error internalError(std::string m) { return Error(ErrorCode::kInternal, std::move(m)); }
inline Error ioError(std::string m) { return Error(ErrorCode::kIO, std::move(m)); }

template <class T, class E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { check(true); return std::get<0>(v_); }
  const T& value() const& { check(true); return std::get<0>(v_); }
  T&& value() && { check(true); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const& { check(false); return std::get<1>(v_); }
  E&& error() && { check(false); return std::get<1>(std::move(v_)); }

  T valueOr(T fallback) const& { return ok() ? std::get<0>(v_) : std::move(fallback); }

 private:
  void check(bool wantValue) const {
    if (ok() != wantValue) std::abort();
  }
  std::variant<T, E> v_;
};

// Result<void>: success or an Error.
template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  Result(E error) : e_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return !e_.has_value(); }
  explicit operator bool() const { return ok(); }
  const E& error() const& {
    if (ok()) std::abort();
    return *e_;
  }

 private:
  std::optional<E> e_;
};

using Status = Result<void>;
inline Status okStatus() { return Status(); }

}  // namespace sdb

// Propagates an error from an expression yielding Result<...>: SDB_TRY(doThing());
#define SDB_TRY(expr)                               \
  do {                                              \
    auto sdb_try_result_ = (expr);                  \
    if (!sdb_try_result_.ok()) return sdb_try_result_.error(); \
  } while (0)
