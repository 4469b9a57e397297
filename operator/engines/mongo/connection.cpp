#include "operator/engines/mongo/connection.h"

#include <mongoc/mongoc.h>

#include <mutex>

namespace sdb::engines::mongo {
namespace {

void initOnce() {
  static std::once_flag once;
  std::call_once(once, [] { mongoc_init(); });
}

struct UriDeleter {
  void operator()(mongoc_uri_t* u) const { mongoc_uri_destroy(u); }
};
struct ClientDeleter {
  void operator()(mongoc_client_t* c) const { mongoc_client_destroy(c); }
};
using UriPtr = std::unique_ptr<mongoc_uri_t, UriDeleter>;
using ClientPtr = std::unique_ptr<mongoc_client_t, ClientDeleter>;

constexpr const char* kWeakeningOptions[] = {
    MONGOC_URI_TLSINSECURE, MONGOC_URI_TLSALLOWINVALIDCERTIFICATES, MONGOC_URI_TLSALLOWINVALIDHOSTNAMES,
    MONGOC_URI_TLSDISABLEOCSPENDPOINTCHECK, MONGOC_URI_TLSDISABLECERTIFICATEREVOCATIONCHECK};

// Parses and checks the URI and applies our overrides. Never echoes the URI (it holds a password).
Result<UriPtr> buildUri(const ConnectionOptions& o) {
  initOnce();
  bson_error_t error;
  UriPtr uri(mongoc_uri_new_with_error(o.uri.c_str(), &error));
  if (!uri) return invalidArgument(std::string("admin URI: ") + error.message);
  for (const char* option : kWeakeningOptions)
    if (mongoc_uri_get_option_as_bool(uri.get(), option, false))
      return invalidArgument(std::string("admin URI: option ") + option +
                             " weakens certificate or hostname verification; servicedb refuses it");
  if (o.tls) {
    mongoc_uri_set_option_as_bool(uri.get(), MONGOC_URI_TLS, true);
    if (!o.caFile.empty()) mongoc_uri_set_option_as_utf8(uri.get(), MONGOC_URI_TLSCAFILE, o.caFile.c_str());
  } else {
    mongoc_uri_set_option_as_bool(uri.get(), MONGOC_URI_TLS, false);
  }
  mongoc_uri_set_option_as_int32(uri.get(), MONGOC_URI_SERVERSELECTIONTIMEOUTMS, o.serverSelectionTimeoutMs);
  mongoc_uri_set_option_as_int32(uri.get(), MONGOC_URI_CONNECTTIMEOUTMS, o.connectTimeoutMs);
  if (!o.appName.empty()) mongoc_uri_set_appname(uri.get(), o.appName.c_str());
  return uri;
}

Result<ClientPtr> newClient(const mongoc_uri_t* uri) {
  bson_error_t error;
  ClientPtr c(mongoc_client_new_from_uri_with_error(uri, &error));
  if (!c) return invalidArgument(std::string("admin URI: ") + error.message);
  mongoc_client_set_error_api(c.get(), MONGOC_ERROR_API_VERSION_2);
  return c;
}

ErrorCode codeFor(const bson_error_t& e) {
  if (e.domain == MONGOC_ERROR_SERVER || e.domain == MONGOC_ERROR_WRITE_CONCERN)
    return errorCodeForServerCode(static_cast<int>(e.code));
  if (e.domain == MONGOC_ERROR_CLIENT && e.code == MONGOC_ERROR_CLIENT_AUTHENTICATE) return ErrorCode::kPermissionDenied;
  if (e.domain == MONGOC_ERROR_SERVER_SELECTION || e.domain == MONGOC_ERROR_STREAM) return ErrorCode::kUnavailable;
  return ErrorCode::kInternal;
}

bool isAuthFailure(const bson_error_t& e) {
  return (e.domain == MONGOC_ERROR_CLIENT && e.code == MONGOC_ERROR_CLIENT_AUTHENTICATE) ||
         (e.domain == MONGOC_ERROR_SERVER && e.code == 18);  // AuthenticationFailed
}

// Runs one command; the reply as JSON, or an error naming `what`.
Result<Json> runOn(mongoc_client_t* client, const Command& c, const std::string& what) {
  if (c.database.find('\0') != std::string::npos) return invalidArgument(what + ": database name contains NUL");
  bson_t reply;
  bson_error_t error;
  const bool ok = mongoc_client_command_simple(client, c.database.c_str(), c.body.get(), nullptr, &reply, &error);
  Bson owned = Bson::adopt(bson_copy(&reply));
  bson_destroy(&reply);
  if (!ok) return Error(codeFor(error), what + ": " + error.message);
  auto json = owned.toJson();
  if (!json.ok()) return json.error().wrap(what);
  // Write commands report per-document and write-concern failures inside an ok: 1 reply.
  if (const Json* we = jsonAt(*json, {"writeErrors"}); we != nullptr && we->is_array() && !we->empty()) {
    const Json& first = (*we)[0];
    return Error(errorCodeForServerCode(first.value("code", 0)), what + ": " + first.value("errmsg", std::string("write error")));
  }
  if (const Json* wce = jsonAt(*json, {"writeConcernError"}); wce != nullptr && wce->is_object())
    return Error(ErrorCode::kUnavailable, what + ": write concern: " + wce->value("errmsg", std::string("not satisfied")));
  return json;
}

class MongocChannel final : public AdminChannel {
 public:
  MongocChannel(UriPtr uri, ClientPtr client) : uri_(std::move(uri)), client_(std::move(client)) {}

  Result<Json> run(const Command& command, const std::string& what) override {
    return runOn(client_.get(), command, what);
  }

  Result<bool> tryLogin(const std::string& authDatabase, const std::string& user, const std::string& password) override {
    UriPtr u(mongoc_uri_copy(uri_.get()));
    if (!mongoc_uri_set_username(u.get(), user.c_str()) || !mongoc_uri_set_password(u.get(), password.c_str()) ||
        !mongoc_uri_set_auth_source(u.get(), authDatabase.c_str()) ||
        !mongoc_uri_set_auth_mechanism(u.get(), kMechanism))
      return invalidArgument("trial login as " + user + ": user, password or database is not valid UTF-8");
    auto client = newClient(u.get());
    if (!client.ok()) return client.error();
    bson_t reply;
    bson_error_t error;
    const Command ping = pingCommand(authDatabase);
    const bool ok = mongoc_client_command_simple(client->get(), authDatabase.c_str(), ping.body.get(), nullptr, &reply, &error);
    bson_destroy(&reply);
    if (ok) return true;
    if (isAuthFailure(error)) return false;
    return Error(codeFor(error), "trial login as " + user + " on " + authDatabase + ": " + error.message);
  }

 private:
  UriPtr uri_;
  ClientPtr client_;
};

}  // namespace

ErrorCode errorCodeForServerCode(int code) {
  switch (code) {
    case 13:     // Unauthorized
    case 18:     // AuthenticationFailed
      return ErrorCode::kPermissionDenied;
    case 11:     // UserNotFound
    case 26:     // NamespaceNotFound
      return ErrorCode::kNotFound;
    case 51003:  // UserAlreadyExists
    case 11000:  // DuplicateKey
      return ErrorCode::kAlreadyExists;
    case 2:      // BadValue
    case 9:      // FailedToParse
    case 73:     // InvalidNamespace
      return ErrorCode::kInvalidArgument;
    case 64:     // WriteConcernFailed
    case 91:     // ShutdownInProgress
    case 189:    // PrimarySteppedDown
    case 10107:  // NotWritablePrimary
    case 11600:  // InterruptedAtShutdown
    case 13435:  // NotPrimaryNoSecondaryOk
      return ErrorCode::kUnavailable;
    case 50:     // MaxTimeMSExpired
      return ErrorCode::kTimeout;
    default:
      return ErrorCode::kInternal;
  }
}

Result<UriSummary> inspectAdminUri(const ConnectionOptions& o) {
  auto uri = buildUri(o);
  if (!uri.ok()) return uri.error();
  UriSummary s;
  for (const mongoc_host_list_t* h = mongoc_uri_get_hosts(uri->get()); h != nullptr; h = h->next)
    s.hosts.push_back(h->host_and_port);
  if (const char* srv = mongoc_uri_get_srv_hostname(uri->get())) s.srvHost = srv;
  if (const char* u = mongoc_uri_get_username(uri->get())) s.username = u;
  s.authSource = mongoc_uri_get_auth_source(uri->get()) ? mongoc_uri_get_auth_source(uri->get()) : "";
  if (const char* rs = mongoc_uri_get_replica_set(uri->get())) s.replicaSet = rs;
  if (const char* db = mongoc_uri_get_database(uri->get())) s.database = db;
  s.tls = mongoc_uri_get_tls(uri->get());
  if (const char* ca = mongoc_uri_get_option_as_utf8(uri->get(), MONGOC_URI_TLSCAFILE, nullptr)) s.caFile = ca;
  return s;
}

Result<std::unique_ptr<AdminChannel>> connect(const ConnectionOptions& o) {
  auto uri = buildUri(o);
  if (!uri.ok()) return uri.error();
  auto client = newClient(uri->get());
  if (!client.ok()) return client.error();
  return std::unique_ptr<AdminChannel>(std::make_unique<MongocChannel>(std::move(uri).value(), std::move(client).value()));
}

}  // namespace sdb::engines::mongo
