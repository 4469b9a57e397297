#include "operator/engines/mongo/credentials.h"

namespace sdb::engines::mongo {
namespace {

std::string joinHosts(const std::vector<std::string>& hosts) {
  std::string out;
  for (const auto& h : hosts) out += (out.empty() ? "" : ",") + h;
  return out;
}

std::pair<std::string, std::string> splitHostPort(const std::string& hostPort) {
  const size_t colon = hostPort.rfind(':');
  if (colon == std::string::npos || hostPort.back() == ']') return {hostPort, "27017"};
  return {hostPort.substr(0, colon), hostPort.substr(colon + 1)};
}

}  // namespace

std::string percentEncode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

std::string connectionUri(const ClientCredentials& c) {
  std::string uri = "mongodb://" + percentEncode(c.username) + ":" + percentEncode(c.password) + "@" + joinHosts(c.hosts) +
                    "/" + percentEncode(c.database) + "?";
  if (c.tls) uri += "tls=true&";
  uri += "authSource=" + percentEncode(c.database) + "&authMechanism=SCRAM-SHA-256";
  if (!c.replicaSet.empty()) uri += "&replicaSet=" + percentEncode(c.replicaSet);
  return uri;
}

std::string uriWithCaFile(const ClientCredentials& c, const std::string& caFile) {
  return connectionUri(c) + "&tlsCAFile=" + percentEncode(caFile);
}

std::map<std::string, std::string> credentialSecretData(const ClientCredentials& c) {
  std::map<std::string, std::string> d;
  d["type"] = "mongodb";
  d["provider"] = "servicedb";
  if (!c.hosts.empty()) {
    auto [host, port] = splitHostPort(c.hosts.front());
    d["host"] = host;
    d["port"] = port;
  }
  d["hosts"] = joinHosts(c.hosts);
  d["database"] = c.database;
  d["authSource"] = c.database;
  d["username"] = c.username;
  d["password"] = c.password;
  d["uri"] = connectionUri(c);
  d["tls"] = c.tls ? "true" : "false";
  if (!c.caPem.empty()) d["ca.crt"] = c.caPem;
  if (!c.replicaSet.empty()) d["replicaSet"] = c.replicaSet;
  return d;
}

}  // namespace sdb::engines::mongo
