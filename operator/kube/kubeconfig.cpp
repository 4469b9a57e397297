// Kubeconfig parsing and merging (rest_config.h), after client-go's clientcmd.
#include <fstream>
#include <map>
#include <sstream>

#include "operator/kube/rest_config.h"
#include "operator/schema/yaml_json.h"

namespace sdb::kube {

namespace {

struct Entry {
  Json value;        // the "cluster", "user" or "context" mapping
  std::string file;  // the kubeconfig that defined it
};

struct Merged {
  std::map<std::string, Entry> clusters, users, contexts;
  std::string currentContext;
  std::string files;  // for messages
};

std::string dirOf(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::string dq(const std::string& s) { return "\"" + s + "\""; }

Result<std::string> decodeBase64(const std::string& in) {
  static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  size_t padding = 0;
  for (char c : in) {
    if (c == '\n' || c == '\r' || c == ' ' || c == '\t') continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    if (padding) return invalidArgument("padding '=' in the middle");
    auto pos = alphabet.find(c);
    if (pos == std::string::npos) return invalidArgument(std::string("invalid base64 character '") + c + "'");
    acc = (acc << 6) | static_cast<uint32_t>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (padding > 2 || bits >= 6) return invalidArgument("truncated base64");
  return out;
}

Result<std::string> readFileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ioError("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A string field of a mapping; an error names the field when present but not a string.
Result<std::string> stringField(const Json& m, const std::string& key, const std::string& where) {
  if (!m.contains(key) || m[key].is_null()) return std::string();
  if (!m[key].is_string()) return invalidArgument(where + "." + key + ": must be a string");
  return m[key].get<std::string>();
}

Status mergeFile(const std::string& text, const std::string& path, Merged& merged) {
  auto doc = schema::yamlToJson(text);
  if (!doc.ok()) return invalidArgument("kubeconfig " + path + ": " + doc.error().message);
  if (doc->is_null()) return okStatus();  // an empty file defines nothing
  if (!doc->is_object()) return invalidArgument("kubeconfig " + path + ": not a mapping");
  const Json& d = *doc;
  auto section = [&](const char* list, const char* inner, std::map<std::string, Entry>& into) -> Status {
    if (!d.contains(list) || d[list].is_null()) return okStatus();
    if (!d[list].is_array()) return invalidArgument("kubeconfig " + path + ": " + list + ": must be a list");
    size_t i = 0;
    for (const auto& item : d[list]) {
      const std::string at = std::string(list) + "[" + std::to_string(i++) + "]";
      if (!item.is_object()) return invalidArgument("kubeconfig " + path + ": " + at + ": must be a mapping");
      if (!item.contains("name") || !item["name"].is_string() || item["name"].get<std::string>().empty()) {
        return invalidArgument("kubeconfig " + path + ": " + at + ".name: required");
      }
      const std::string name = item["name"];
      Json value = item.contains(inner) ? item[inner] : Json::object();
      if (value.is_null()) value = Json::object();
      if (!value.is_object()) {
        return invalidArgument("kubeconfig " + path + ": " + list + "[" + dq(name) + "]." + inner + ": must be a mapping");
      }
      into.emplace(name, Entry{std::move(value), path});  // the first definition wins
    }
    return okStatus();
  };
  SDB_TRY(section("clusters", "cluster", merged.clusters));
  SDB_TRY(section("users", "user", merged.users));
  SDB_TRY(section("contexts", "context", merged.contexts));
  auto current = stringField(d, "current-context", "");
  if (!current.ok()) return invalidArgument("kubeconfig " + path + ": current-context: must be a string");
  if (merged.currentContext.empty()) merged.currentContext = *current;
  return okStatus();
}

// A PEM from `<key>-data` (base64) or `<key>` (a file, relative to the kubeconfig's folder).
Result<std::string> pemFrom(const Json& m, const std::string& key, const std::string& where, const std::string& file) {
  auto data = stringField(m, key + "-data", where);
  if (!data.ok()) return data.error();
  auto path = stringField(m, key, where);
  if (!path.ok()) return path.error();
  if (!data->empty() && !path->empty()) {
    return invalidArgument(where + "." + key + "-data and " + where + "." + key + ": both set; use one");
  }
  std::string pem;
  if (!data->empty()) {
    auto decoded = decodeBase64(*data);
    if (!decoded.ok()) return invalidArgument(where + "." + key + "-data: not base64: " + decoded.error().message);
    pem = *decoded;
    if (pem.find("-----BEGIN ") == std::string::npos) return invalidArgument(where + "." + key + "-data: no PEM block in it");
  } else if (!path->empty()) {
    const std::string full = (*path)[0] == '/' ? *path : dirOf(file) + "/" + *path;
    auto text = readFileText(full);
    if (!text.ok()) return invalidArgument(where + "." + key + ": cannot read " + full);
    pem = *text;
    if (pem.find("-----BEGIN ") == std::string::npos) return invalidArgument(where + "." + key + ": " + full + " holds no PEM block");
  }
  return pem;
}

std::string names(const std::map<std::string, Entry>& m) {
  std::string out;
  for (const auto& [k, v] : m) out += (out.empty() ? "" : ", ") + k;
  return out.empty() ? "none" : out;
}

Result<RestConfig> resolve(const Merged& merged, const KubeconfigOptions& options) {
  const std::string in = "kubeconfig " + merged.files + ": ";
  std::string contextName = options.context;
  if (contextName.empty()) {
    contextName = merged.currentContext;
    if (contextName.empty()) {
      return invalidArgument(in + "current-context: not set; pass --context (contexts: " + names(merged.contexts) + ")");
    }
  }
  auto ctxIt = merged.contexts.find(contextName);
  if (ctxIt == merged.contexts.end()) {
    return invalidArgument(in + (options.context.empty() ? "current-context " : "--context ") + dq(contextName) +
                           ": no such context (contexts: " + names(merged.contexts) + ")");
  }
  const Json& ctx = ctxIt->second.value;
  const std::string ctxAt = "contexts[" + dq(contextName) + "].context";
  auto clusterName = stringField(ctx, "cluster", ctxAt);
  if (!clusterName.ok()) return invalidArgument(in + clusterName.error().message);
  if (clusterName->empty()) return invalidArgument(in + ctxAt + ".cluster: required");
  auto clIt = merged.clusters.find(*clusterName);
  if (clIt == merged.clusters.end()) {
    return invalidArgument(in + ctxAt + ".cluster: no cluster named " + dq(*clusterName) + " (clusters: " +
                           names(merged.clusters) + ")");
  }
  RestConfig c;
  c.source = "kubeconfig " + merged.files + " (context " + contextName + ")";
  auto ns = stringField(ctx, "namespace", ctxAt);
  if (!ns.ok()) return invalidArgument(in + ns.error().message);
  c.defaultNamespace = ns->empty() ? "default" : *ns;

  const Json& cl = clIt->second.value;
  const std::string clAt = "clusters[" + dq(*clusterName) + "].cluster";
  auto server = stringField(cl, "server", clAt);
  if (!server.ok()) return invalidArgument(in + server.error().message);
  if (server->empty()) return invalidArgument(in + clAt + ".server: required");
  if (server->rfind("https://", 0) != 0 && server->rfind("http://", 0) != 0) {
    return invalidArgument(in + clAt + ".server: must start with https:// or http://, got " + dq(*server));
  }
  c.server = *server;
  while (c.server.size() > 8 && c.server.back() == '/') c.server.pop_back();
  if (cl.contains("insecure-skip-tls-verify")) {
    if (!cl["insecure-skip-tls-verify"].is_boolean()) return invalidArgument(in + clAt + ".insecure-skip-tls-verify: must be true or false");
    c.insecureSkipTlsVerify = cl["insecure-skip-tls-verify"].get<bool>();
  }
  auto ca = pemFrom(cl, "certificate-authority", clAt, clIt->second.file);
  if (!ca.ok()) return invalidArgument(in + ca.error().message);
  c.caPem = *ca;
  if (c.insecureSkipTlsVerify && !c.caPem.empty()) {
    return invalidArgument(in + clAt + ".insecure-skip-tls-verify: cannot be combined with a certificate-authority");
  }
  for (const char* unsupported : {"proxy-url", "tls-server-name"}) {
    if (cl.contains(unsupported)) return invalidArgument(in + clAt + "." + unsupported + ": not supported by servicedb-operator");
  }

  auto userName = stringField(ctx, "user", ctxAt);
  if (!userName.ok()) return invalidArgument(in + userName.error().message);
  if (userName->empty()) return c;  // no credentials: anonymous
  auto uIt = merged.users.find(*userName);
  if (uIt == merged.users.end()) {
    return invalidArgument(in + ctxAt + ".user: no user named " + dq(*userName) + " (users: " + names(merged.users) + ")");
  }
  const Json& u = uIt->second.value;
  const std::string uAt = "users[" + dq(*userName) + "].user";
  for (const char* unsupported : {"exec", "auth-provider", "username", "password", "as", "as-groups"}) {
    if (u.contains(unsupported) && !u[unsupported].is_null()) {
      return invalidArgument(in + uAt + "." + unsupported + ": not supported by servicedb-operator; use a token, a token "
                             "file or a client certificate");
    }
  }
  auto cert = pemFrom(u, "client-certificate", uAt, uIt->second.file);
  if (!cert.ok()) return invalidArgument(in + cert.error().message);
  auto key = pemFrom(u, "client-key", uAt, uIt->second.file);
  if (!key.ok()) return invalidArgument(in + key.error().message);
  if (cert->empty() != key->empty()) {
    return invalidArgument(in + uAt + (cert->empty() ? ".client-certificate" : ".client-key") +
                           ": required when " + (cert->empty() ? "client-key" : "client-certificate") + " is set");
  }
  c.clientCertificatePem = *cert;
  c.clientKeyPem = *key;
  auto token = stringField(u, "token", uAt);
  if (!token.ok()) return invalidArgument(in + token.error().message);
  auto tokenFile = stringField(u, "tokenFile", uAt);
  if (!tokenFile.ok()) return invalidArgument(in + tokenFile.error().message);
  if (!tokenFile->empty()) {
    // As client-go: a token file wins over a token, and is re-read as it rotates.
    const std::string full = (*tokenFile)[0] == '/' ? *tokenFile : dirOf(uIt->second.file) + "/" + *tokenFile;
    c.token = std::make_shared<BearerToken>(full, options.clock ? *options.clock : SystemClock::instance());
    auto first = c.token->token();
    if (!first.ok()) return invalidArgument(in + uAt + ".tokenFile: " + first.error().message);
  } else if (!token->empty()) {
    c.token = std::make_shared<BearerToken>(*token);
  }
  return c;
}

}  // namespace

Result<RestConfig> parseKubeconfig(const std::string& text, const std::string& path, const KubeconfigOptions& options) {
  Merged merged;
  merged.files = path;
  SDB_TRY(mergeFile(text, path, merged));
  return resolve(merged, options);
}

Result<RestConfig> loadKubeconfig(const std::string& pathList, const KubeconfigOptions& options) {
  Merged merged;
  std::stringstream ss(pathList);
  std::string path;
  int readable = 0;
  while (std::getline(ss, path, ':')) {
    if (path.empty()) continue;
    auto text = readFileText(path);
    if (!text.ok()) {
      // As kubectl: a missing file in a $KUBECONFIG list is skipped; a single named file must exist.
      if (pathList.find(':') == std::string::npos) return invalidArgument("kubeconfig " + path + ": cannot read the file");
      continue;
    }
    ++readable;
    merged.files += (merged.files.empty() ? "" : ":") + path;
    SDB_TRY(mergeFile(*text, path, merged));
  }
  if (!readable) return invalidArgument("kubeconfig " + pathList + ": none of the files can be read");
  return resolve(merged, options);
}

}  // namespace sdb::kube
