#include "e2e/localcluster/api_server.h"

#include <openssl/crypto.h>

#include <sstream>
#include <thread>

#include "e2e/apimachinery/managed_fields.h"
#include "e2e/localcluster/protobuf_json.h"
#include "e2e/localcluster/request_attributes.h"
#include "e2e/localcluster/responses.h"
#include "operator/schema/yaml_json.h"

namespace sdb::localcluster {

using apimachinery::ResourceInfo;
using namespace responses;

namespace {

bool wantsTable(const HttpRequest& req) { return req.header("accept").find("as=Table") != std::string::npos; }

bool tokenMatches(const std::string& header, const std::string& token) {
  const std::string prefix = "Bearer ";
  if (header.rfind(prefix, 0) != 0) return false;
  const std::string got = header.substr(prefix.size());
  return got.size() == token.size() && CRYPTO_memcmp(got.data(), token.data(), got.size()) == 0;
}

Result<Json> decodeBody(const HttpRequest& req) {
  const std::string ct = req.header("content-type");
  if (ct.find("yaml") != std::string::npos) return schema::yamlToJson(req.body);
  return parseJson(req.body, "request body");
}

// Writes other than apply without a fieldManager are recorded under the client's User-Agent up to
// its first '/' ("kubectl", "OpenAPI-Generator"), as kube-apiserver records them.
kube::WriteOptions writeOptions(const HttpRequest& req, bool apply = false) {
  kube::WriteOptions o;
  o.fieldManager = req.param("fieldManager");
  if (o.fieldManager.empty() && !apply) o.fieldManager = apimachinery::managerFromUserAgent(req.header("user-agent"));
  o.dryRun = req.param("dryRun") == "All";
  o.fieldValidation = req.param("fieldValidation");
  return o;
}

void addWarnings(HttpResponse& r, const apimachinery::RequestContext& ctx) {
  // RFC 7234 warn-text: a quoted-string, with '"' and '\\' escaped (PodSecurity's warnings quote).
  for (const auto& w : ctx.warnings) {
    std::string quoted;
    for (char c : w) {
      if (c == '"' || c == '\\') quoted.push_back('\\');
      quoted.push_back(c);
    }
    r.headers.push_back({"Warning", "299 - \"" + quoted + "\""});
  }
}

}  // namespace

HttpResponse ApiServer::handle(const HttpRequest& req) {
  if (req.path == "/healthz" || req.path == "/readyz" || req.path == "/livez") {
    HttpResponse r;
    r.headers = {{"Content-Type", "text/plain"}};
    r.body = "ok";
    return r;
  }
  const auto received = std::chrono::system_clock::now();
  const std::string authorization = req.header("authorization");
  const bool admin = tokenMatches(authorization, options_.adminToken);
  apimachinery::AuthUser user;
  bool authenticated = admin;
  if (admin) {
    user = {"admin", {"system:masters", "system:authenticated"}};
  } else if (options_.serviceAccountTokens && authorization.rfind("Bearer ", 0) == 0) {
    if (auto id = options_.serviceAccountTokens->authenticate(authorization.substr(7))) {
      user = {id->username, id->groups};
      authenticated = true;
    }
  }
  const apimachinery::RequestAttributes attrs = requestAttributes(req);
  HttpResponse r;
  apimachinery::AuthorizationDecision decision{true, ""};  // the admin token: system:masters bypasses RBAC
  if (!authenticated) {
    kube::ApiError e = kube::fromHttpResponse(401, "");
    e.message = "Unauthorized";
    r = error(e);
  } else if (!admin) {
    // /admin/* is for the admin token alone; everything else is up to RBAC.
    const bool adminPath = req.path == "/admin" || req.path.rfind("/admin/", 0) == 0;
    decision = adminPath ? apimachinery::AuthorizationDecision{}
                         : apimachinery::authorize(apimachinery::loadRbacPolicy(store_), user, attrs);
    if (!decision.allowed) r = error(apimachinery::forbiddenError(user, attrs, decision.reason));
    else r = serve(req, false);
  } else {
    r = serve(req, true);
  }
  if (options_.audit) options_.audit->record(auditEvent(req, user, attrs, authenticated ? &decision : nullptr, r, received));
  return r;
}

HttpResponse ApiServer::serve(const HttpRequest& req, bool admin) {
  const auto segs = responses::pathSegments(req.path);
  if (!segs.empty() && segs[0] == "admin") {
    if (admin && req.path == "/admin/restart" && options_.restart) return options_.restart(req);
    if (admin && options_.faults) return options_.faults->serveAdmin(req);
    return errorOf(404, "NotFound", "the server could not find the requested resource");
  }
  FaultDecision fault;
  if (options_.faults) fault = options_.faults->decide(req);
  if (fault.latencyMs > 0) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(fault.latencyMs);
    while (!stopping_ && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
          std::chrono::milliseconds(50), until - std::chrono::steady_clock::now()));
    }
  }
  if (fault.status == 500) {
    return errorOf(500, "InternalError", "Internal error occurred: injected fault (servicedb-localcluster --fault-error-rate)");
  }
  if (fault.status == 429) {
    kube::ApiError e = kube::fromHttpResponse(429, "");
    e.message = "Too many requests, please try again later.";
    e.retryAfterSeconds = fault.retryAfterSeconds;
    HttpResponse r = error(e);
    r.headers.push_back({"Retry-After", std::to_string(fault.retryAfterSeconds)});
    return r;
  }
  if (req.path == "/version") {
    return json(200, {{"major", "1"}, {"minor", "32"}, {"gitVersion", "v1.32.0-servicedb"}, {"gitCommit", "servicedb"},
                      {"gitTreeState", "clean"}, {"buildDate", "2026-11-25T00:00:00Z"}, {"goVersion", "go1.23.0"},
                      {"compiler", "gc"}, {"platform", "linux/amd64"}});
  }
  const std::string accept = req.header("accept");
  const bool aggregated = accept.find("as=APIGroupDiscoveryList") != std::string::npos;
  // kubectl <= 1.29 asks for v2beta1; newer ones list v2 first.
  const std::string discoveryVersion =
      accept.find("v=v2;") != std::string::npos || accept.find("v=v2,") != std::string::npos ? "v2" : "v2beta1";
  const std::string discoveryType = "application/json;g=apidiscovery.k8s.io;v=" + discoveryVersion + ";as=APIGroupDiscoveryList";
  if (req.path == "/api" || req.path == "/api/") {
    if (aggregated) return json(200, aggregatedDiscovery(store_.registry(), true, "apidiscovery.k8s.io/" + discoveryVersion), discoveryType);
    return json(200, legacyApiVersions(options_.serverAddress));
  }
  if (req.path == "/apis" || req.path == "/apis/") {
    if (aggregated) return json(200, aggregatedDiscovery(store_.registry(), false, "apidiscovery.k8s.io/" + discoveryVersion), discoveryType);
    return json(200, legacyGroupList(store_.registry()));
  }
  if (req.path == "/openapi/v2") {
    // A minimal OpenAPI v2 document in protobuf (gnostic openapi_v2.Document: swagger = 1, info = 2
    // {title = 1, version = 2}). kubectl 1.27 insists on parsing one before it validates; with no
    // definitions it leaves validation of our kinds to the server. Newer kubectl uses /openapi/v3.
    auto field = [](int number, const std::string& bytes) {
      std::string out(1, static_cast<char>(number << 3 | 2));
      out.push_back(static_cast<char>(bytes.size()));
      return out + bytes;
    };
    HttpResponse r;
    r.headers = {{"Content-Type", "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"}};
    r.body = field(1, "2.0") + field(2, field(1, "Kubernetes") + field(2, "v1.32.0"));
    return r;
  }
  if (segs.size() >= 2 && segs[0] == "openapi" && segs[1] == "v3") {
    if (segs.size() == 2) return json(200, openApiRoot(store_.registry()));
    std::string group, version;
    if (segs.size() == 4 && segs[2] == "api") version = segs[3];
    else if (segs.size() == 5 && segs[2] == "apis") group = segs[3], version = segs[4];
    if (version.empty()) return errorOf(404, "NotFound", "the server could not find the requested resource");
    Json doc = openApiGroupVersion(store_.registry(), group, version);
    if (doc.is_null()) return errorOf(404, "NotFound", "the server could not find the requested resource");
    return json(200, doc);
  }
  if (segs.size() == 2 && segs[0] == "api") {
    return json(200, legacyResourceList(store_.registry(), "", segs[1]));
  }
  if (segs.size() == 2 && segs[0] == "apis") {
    for (const auto& g : legacyGroupList(store_.registry())["groups"]) {
      if (g["name"] == segs[1]) {
        Json out = g;
        out["kind"] = "APIGroup";
        out["apiVersion"] = "v1";
        return json(200, out);
      }
    }
    return errorOf(404, "NotFound", "the server could not find the requested resource");
  }
  if (segs.size() == 3 && segs[0] == "apis") {
    Json list = legacyResourceList(store_.registry(), segs[1], segs[2]);
    if (list["resources"].empty()) return errorOf(404, "NotFound", "the server could not find the requested resource");
    return json(200, list);
  }
  if (segs.size() >= 3 && segs[0] == "api") return serveResource(req, segs, 1);
  if (segs.size() >= 4 && segs[0] == "apis") return serveResource(req, segs, 2);
  return errorOf(404, "NotFound", "the server could not find the requested resource");
}

HttpResponse ApiServer::serveResource(const HttpRequest& req, const std::vector<std::string>& segs, size_t vi) {
  const std::string group = vi == 1 ? "" : segs[1];
  const std::string version = segs[vi];
  std::vector<std::string> rest(segs.begin() + static_cast<long>(vi) + 1, segs.end());
  std::string ns;
  // /namespaces/{ns}/{resource}/... unless it is the namespaces resource itself (.../namespaces/{name}[/status]).
  if (rest.size() >= 3 && rest[0] == "namespaces" && rest[2] != "status" && rest[2] != "finalize") {
    ns = rest[1];
    rest.erase(rest.begin(), rest.begin() + 2);
  }
  if (rest.empty() || rest.size() > 3) return errorOf(404, "NotFound", "the server could not find the requested resource");
  auto info = store_.resolve(group, version, rest[0]);
  if (!info.ok()) return error(info.error());
  if (!info->ref.namespaced && !ns.empty()) return errorOf(404, "NotFound", "the server could not find the requested resource");
  const std::string name = rest.size() >= 2 ? rest[1] : "";
  const std::string sub = rest.size() == 3 ? rest[2] : "";
  const kube::ResourceRef& ref = info->ref;
  const bool table = wantsTable(req);
  const std::string& m = req.method;

  if (m == "GET" && name.empty()) {
    if (boolParam(req, "watch")) return watch(req, *info, ns, table);
    kube::ListOptions o;
    o.labelSelector = req.param("labelSelector");
    o.fieldSelector = req.param("fieldSelector");
    o.continueToken = req.param("continue");
    o.resourceVersion = req.param("resourceVersion");
    if (!req.param("limit").empty()) o.limit = std::atoll(req.param("limit").c_str());
    auto list = store_.list(ref, ns, o);
    if (!list.ok()) return error(list.error());
    if (table) return json(200, toTable(*info, *list, req.param("includeObject") != "None"), kTableType);
    return json(200, *list);
  }
  if (m == "GET") {
    if (sub == "log" && info->logSubresource) return podLog(req, ns, name);
    auto obj = store_.get(ref, ns, name, sub);
    if (!obj.ok()) return error(obj.error());
    if (table) return json(200, toTable(*info, *obj, req.param("includeObject") != "None"), kTableType);
    return json(200, *obj);
  }
  apimachinery::RequestContext ctx;
  // Bodies are JSON or YAML, or Kubernetes protobuf, which kubectl 1.32 and later send for typed
  // `create` commands without falling back to JSON (protobuf_json.h decodes the kinds they create).
  // A protobuf body we cannot read whole is refused with 415, never half-read.
  HttpRequest decoded;
  const HttpRequest* in = &req;
  if ((m == "POST" || m == "PUT" || m == "PATCH") && req.header("content-type").find("protobuf") != std::string::npos) {
    auto json = m == "PATCH" ? Result<Json>(invalidArgument("a patch is never protobuf")) : protobufToJson(req.body);
    if (!json.ok()) {
      return errorOf(415, "UnsupportedMediaType",
                     "the body of the request was in an unknown format - accepted media types include: application/json, "
                     "application/yaml (protobuf: " + json.error().message + ")");
    }
    decoded = req;
    decoded.body = json->dump();
    decoded.headers["content-type"] = "application/json";
    in = &decoded;
  }
  if (m == "POST" && sub == "token" && info->tokenSubresource) {
    if (!options_.serviceAccountTokens) return errorOf(404, "NotFound", "the server could not find the requested resource");
    auto body = decodeBody(*in);
    if (!body.ok()) return error(kube::badRequestError(body.error().message));
    auto issued = options_.serviceAccountTokens->request(ns, name, *body);
    if (!issued.ok()) return error(issued.error());
    return json(201, *issued);
  }
  if (m == "POST" && name.empty()) {
    auto body = decodeBody(*in);
    if (!body.ok()) return error(kube::badRequestError(body.error().message));
    auto created = store_.create(ref, ns, std::move(*body), writeOptions(req), &ctx);
    if (!created.ok()) return error(created.error());
    HttpResponse r = json(201, *created);
    addWarnings(r, ctx);
    return r;
  }
  if (m == "PUT" && !name.empty()) {
    auto body = decodeBody(*in);
    if (!body.ok()) return error(kube::badRequestError(body.error().message));
    auto updated = store_.update(ref, ns, name, std::move(*body), writeOptions(req), sub, &ctx);
    if (!updated.ok()) return error(updated.error());
    HttpResponse r = json(200, *updated);
    addWarnings(r, ctx);
    return r;
  }
  if (m == "PATCH" && !name.empty()) {
    const std::string ct = req.header("content-type");
    kube::PatchType type;
    std::string body = req.body;
    if (ct.rfind("application/merge-patch+json", 0) == 0) type = kube::PatchType::kMerge;
    else if (ct.rfind("application/json-patch+json", 0) == 0) type = kube::PatchType::kJson;
    else if (ct.rfind("application/strategic-merge-patch+json", 0) == 0) {
      if (info->crd) return errorOf(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml");
      type = kube::PatchType::kStrategicMerge;
    } else if (ct.rfind("application/apply-patch+yaml", 0) == 0) {
      type = kube::PatchType::kApply;
    } else {
      return errorOf(415, "UnsupportedMediaType", "the body of the request was in an unknown format");
    }
    kube::PatchOptions o;
    static_cast<kube::WriteOptions&>(o) = writeOptions(req, type == kube::PatchType::kApply);
    o.force = boolParam(req, "force");
    auto patched = store_.patch(ref, ns, name, type, body, o, sub, &ctx);
    if (!patched.ok()) return error(patched.error());
    HttpResponse r = json(200, *patched);
    addWarnings(r, ctx);
    return r;
  }
  if (m == "DELETE" && !name.empty()) {
    kube::DeleteOptions o;
    o.propagationPolicy = req.param("propagationPolicy");
    o.dryRun = req.param("dryRun") == "All";
    if (!req.param("gracePeriodSeconds").empty()) o.gracePeriodSeconds = std::atoll(req.param("gracePeriodSeconds").c_str());
    if (!req.body.empty()) {
      auto body = parseJson(req.body, "DeleteOptions");
      if (body.ok() && body->is_object()) {
        if (body->contains("propagationPolicy") && (*body)["propagationPolicy"].is_string()) o.propagationPolicy = (*body)["propagationPolicy"];
        if (const Json* p = jsonAt(*body, {"preconditions"})) {
          if (p->contains("uid") && (*p)["uid"].is_string()) o.preconditionUid = (*p)["uid"].get<std::string>();
          if (p->contains("resourceVersion") && (*p)["resourceVersion"].is_string()) {
            o.preconditionResourceVersion = (*p)["resourceVersion"].get<std::string>();
          }
        }
        if (body->contains("dryRun") && (*body)["dryRun"].is_array() && !(*body)["dryRun"].empty()) o.dryRun = true;
        if (body->contains("gracePeriodSeconds") && (*body)["gracePeriodSeconds"].is_number_integer()) {
          o.gracePeriodSeconds = (*body)["gracePeriodSeconds"].get<int64_t>();
        }
        // The older orphanDependents flag, which may not be combined with propagationPolicy.
        if (body->contains("orphanDependents") && (*body)["orphanDependents"].is_boolean()) {
          if (!o.propagationPolicy.empty()) {
            return error(kube::invalidError("DeleteOptions", "meta.k8s.io", "",
                                            {{"FieldValueInvalid", "Invalid value: \"" + o.propagationPolicy +
                                                                       "\": orphanDependents and deletionPropagation cannot be both set",
                                              "propagationPolicy"}}));
          }
          o.propagationPolicy = (*body)["orphanDependents"].get<bool>() ? "Orphan" : "Background";
        }
      }
    }
    auto deleted = store_.remove(ref, ns, name, o, &ctx);
    if (!deleted.ok()) return error(deleted.error());
    HttpResponse r = json(200, *deleted);
    addWarnings(r, ctx);
    return r;
  }
  kube::ApiError e = kube::fromHttpResponse(405, "");
  e.message = "the server does not allow this method on the requested resource";
  return error(e);
}

}  // namespace sdb::localcluster
