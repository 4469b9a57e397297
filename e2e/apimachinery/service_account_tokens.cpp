#include "e2e/apimachinery/service_account_tokens.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "operator/backup/crypto_util.h"

namespace sdb::apimachinery {

namespace crypto = backup::crypto;
namespace res = kube::resources;

namespace {

std::string base64Url(const std::string& raw) {
  std::string b = crypto::toBase64(reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
  for (auto& c : b) {
    if (c == '+') c = '-';
    else if (c == '/') c = '_';
  }
  while (!b.empty() && b.back() == '=') b.pop_back();
  return b;
}

std::optional<std::string> fromBase64Url(std::string s) {
  for (auto& c : s) {
    if (c == '-') c = '+';
    else if (c == '_') c = '/';
  }
  while (s.size() % 4) s.push_back('=');
  auto raw = crypto::fromBase64(s);
  if (!raw.ok()) return std::nullopt;
  return std::string(raw->begin(), raw->end());
}

Result<std::vector<uint8_t>> loadOrCreateKey(const std::string& path, Random& random) {
  if (path.empty()) return random.bytes(32);
  std::ifstream in(path);
  if (in) {
    std::stringstream ss;
    ss << in.rdbuf();
    std::string hex = ss.str();
    while (!hex.empty() && (hex.back() == '\n' || hex.back() == ' ')) hex.pop_back();
    auto key = crypto::fromHex(hex);
    if (!key.ok() || key->size() != 32) return ioError(path + ": not a 32-byte hex key");
    return key;
  }
  auto key = random.bytes(32);
  if (!key.ok()) return key.error();
  const std::string hex = crypto::toHex(key->data(), key->size()) + "\n";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return ioError("cannot create " + path);
  const bool wrote = ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size());
  ::fsync(fd);
  ::close(fd);
  if (!wrote) return ioError("cannot write " + path);
  return key;
}

kube::ApiError invalidTokenRequest(const std::string& name, const std::string& field, const std::string& message) {
  return kube::invalidError("TokenRequest", "authentication.k8s.io", name, {{"FieldValueInvalid", message, field}});
}

}  // namespace

ServiceAccountTokens::ServiceAccountTokens(Store& store, ServiceAccountTokenOptions options, std::vector<uint8_t> key)
    : store_(store), options_(std::move(options)), key_(std::move(key)) {
  clock_ = options_.clock ? options_.clock : &SystemClock::instance();
  const auto digest = crypto::sha256(key_.data(), key_.size());
  keyId_ = base64Url(std::string(digest.begin(), digest.begin() + 12));
}

Result<std::unique_ptr<ServiceAccountTokens>> ServiceAccountTokens::open(Store& store, ServiceAccountTokenOptions options) {
  auto key = loadOrCreateKey(options.keyFile, CryptoRandom::instance());
  if (!key.ok()) return key.error();
  return std::unique_ptr<ServiceAccountTokens>(new ServiceAccountTokens(store, std::move(options), std::move(*key)));
}

std::string ServiceAccountTokens::sign(const std::string& signingInput) const {
  const auto mac = crypto::hmacSha256(key_.data(), key_.size(), signingInput);
  return base64Url(std::string(mac.begin(), mac.end()));
}

kube::KResult<Json> ServiceAccountTokens::request(const std::string& ns, const std::string& name, const Json& body) const {
  auto sa = store_.get(res::kServiceAccounts, ns, name);
  if (!sa.ok()) return sa.error();
  const Json spec = body.is_object() && body.contains("spec") && body["spec"].is_object() ? body["spec"] : Json::object();
  int64_t expiration = 3600;
  if (const Json* e = jsonAt(spec, {"expirationSeconds"})) {
    if (!e->is_number_integer()) return invalidTokenRequest(name, "spec.expirationSeconds", "Invalid value: must be an integer");
    expiration = e->get<int64_t>();
    if (expiration < 600) {
      return invalidTokenRequest(name, "spec.expirationSeconds",
                                 "Invalid value: " + std::to_string(expiration) + ": may not specify a duration less than 10 minutes");
    }
    if (expiration > (int64_t{1} << 32)) {
      return invalidTokenRequest(name, "spec.expirationSeconds",
                                 "Invalid value: " + std::to_string(expiration) + ": may not specify a duration larger than 2^32 seconds");
    }
  }
  Json audiences = Json::array();
  if (const Json* a = jsonAt(spec, {"audiences"}); a && a->is_array() && !a->empty()) audiences = *a;
  else audiences.push_back(options_.issuer);
  Json k8s = {{"namespace", ns},
              {"serviceaccount", {{"name", name}, {"uid", jsonString(*sa, {"metadata", "uid"})}}}};
  Json bound = Json();
  if (const Json* ref = jsonAt(spec, {"boundObjectRef"}); ref && ref->is_object()) {
    const std::string kind = jsonString(*ref, {"kind"}), objName = jsonString(*ref, {"name"});
    if (kind != "Pod" && kind != "Secret") {
      return invalidTokenRequest(name, "spec.boundObjectRef.kind", "Unsupported value: \"" + kind + "\": supported values: \"Pod\", \"Secret\"");
    }
    auto obj = store_.get(kind == "Pod" ? res::kPods : res::kSecrets, ns, objName);
    if (!obj.ok()) return obj.error();
    const std::string uid = jsonString(*obj, {"metadata", "uid"});
    const std::string wantUid = jsonString(*ref, {"uid"});
    if (!wantUid.empty() && wantUid != uid) {
      return kube::conflictError(kind == "Pod" ? "pods" : "secrets", "", objName,
                                 "the UID in the bound object reference (" + wantUid + ") does not match the UID in record");
    }
    k8s[kind == "Pod" ? "pod" : "secret"] = {{"name", objName}, {"uid", uid}};
    bound = {{"kind", kind}, {"apiVersion", "v1"}, {"name", objName}, {"uid", uid}};
  }
  const auto now = clock_->now();
  const int64_t iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  Json claims = {{"aud", audiences}, {"exp", iat + expiration}, {"iat", iat}, {"nbf", iat}, {"iss", options_.issuer},
                 {"kubernetes.io", k8s}, {"sub", "system:serviceaccount:" + ns + ":" + name}};
  const std::string input = base64Url(Json{{"alg", "HS256"}, {"kid", keyId_}, {"typ", "JWT"}}.dump()) + "." + base64Url(claims.dump());
  Json outSpec = {{"audiences", audiences}, {"expirationSeconds", expiration}};
  if (!bound.is_null()) outSpec["boundObjectRef"] = bound;
  return Json{{"apiVersion", "authentication.k8s.io/v1"},
              {"kind", "TokenRequest"},
              {"metadata", {{"name", name}, {"namespace", ns}, {"creationTimestamp", formatRfc3339(now)}}},
              {"spec", outSpec},
              {"status", {{"token", input + "." + sign(input)},
                          {"expirationTimestamp", formatRfc3339(now + std::chrono::seconds(expiration))}}}};
}

std::optional<UserInfo> ServiceAccountTokens::authenticate(const std::string& token) const {
  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string::npos) return std::nullopt;
  const std::string input = token.substr(0, dot2);
  const std::string want = sign(input), got = token.substr(dot2 + 1);
  if (want.size() != got.size() || CRYPTO_memcmp(want.data(), got.data(), want.size()) != 0) return std::nullopt;
  auto payload = fromBase64Url(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!payload) return std::nullopt;
  auto claims = parseJson(*payload);
  if (!claims.ok() || !claims->is_object()) return std::nullopt;
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(clock_->now().time_since_epoch()).count();
  const Json* exp = jsonAt(*claims, {"exp"});
  if (!exp || !exp->is_number_integer() || exp->get<int64_t>() <= now) return std::nullopt;
  const std::string ns = jsonString(*claims, {"kubernetes.io", "namespace"});
  const std::string name = jsonString(*claims, {"kubernetes.io", "serviceaccount", "name"});
  const std::string uid = jsonString(*claims, {"kubernetes.io", "serviceaccount", "uid"});
  auto sa = store_.get(res::kServiceAccounts, ns, name);
  if (!sa.ok() || jsonString(*sa, {"metadata", "uid"}) != uid) return std::nullopt;
  for (const auto& [claim, ref] : {std::pair{"pod", res::kPods}, std::pair{"secret", res::kSecrets}}) {
    const Json* bound = jsonAt(*claims, {"kubernetes.io", claim});
    if (!bound) continue;
    auto obj = store_.get(ref, ns, jsonString(*bound, {"name"}));
    if (!obj.ok() || jsonString(*obj, {"metadata", "uid"}) != jsonString(*bound, {"uid"})) return std::nullopt;
  }
  UserInfo u;
  u.username = "system:serviceaccount:" + ns + ":" + name;
  u.uid = uid;
  u.groups = {"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"};
  u.serviceAccountNamespace = ns;
  u.serviceAccountName = name;
  return u;
}

}  // namespace sdb::apimachinery
