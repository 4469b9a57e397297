// Store: the request-level semantics (create, update, patch, delete, get, list, watch).
#include "e2e/apimachinery/store.h"

#include <algorithm>

#include "e2e/apimachinery/store_impl.h"
#include "operator/backup/crypto_util.h"

namespace sdb::apimachinery {

using kube::ApiError;
using kube::ApiErrorReason;
using kube::KResult;
using WT = kube::WatchEvent::Type;

namespace {

ApiError badRequest(const std::string& m) { return kube::badRequestError(m); }

std::string base64Url(const std::string& s) {
  return backup::crypto::toBase64(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

}  // namespace

std::string Store::Impl::newUid() {
  auto b = random->bytes(16).valueOr(std::vector<uint8_t>(16, 0));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  std::string h = backup::crypto::toHex(b.data(), b.size());
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

std::string Store::Impl::allocateClusterIp() {
  for (int attempt = 0; attempt < 70000; ++attempt) {
    auto b = random->bytes(2).valueOr(std::vector<uint8_t>{0, 1});
    if ((b[0] == 0 && b[1] == 0) || (b[0] == 255 && b[1] == 255)) continue;
    std::string ip = options.serviceCidrPrefix + std::to_string(b[0]) + "." + std::to_string(b[1]);
    if (usedClusterIps.insert(ip).second) return ip;
  }
  return "";
}

Store::Store(StoreOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->clock = impl_->options.clock ? impl_->options.clock : &SystemClock::instance();
  impl_->random = impl_->options.random ? impl_->options.random : &CryptoRandom::instance();
  impl_->registry = &registry_;
  impl_->gcDirty = true;  // a first collection for whatever a restart left pending
}

Store::~Store() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  for (auto& w : impl_->watchers) {
    if (auto s = w.lock()) s->close();
  }
  if (impl_->wal) std::fclose(impl_->wal);
}

Result<std::unique_ptr<Store>> Store::open(StoreOptions options) {
  std::unique_ptr<Store> store(new Store(std::move(options)));
  SDB_TRY(store->impl_->load());
  // CRDs found on disk serve their resources again.
  for (const auto& [k, o] : store->impl_->objects) {
    if (k.rfind("apiextensions.k8s.io/customresourcedefinitions/", 0) != 0) continue;
    auto crd = schema::Crd::fromJson(o);
    if (crd.ok()) store->registry_.addCrd(std::make_shared<const schema::Crd>(std::move(*crd)));
  }
  return store;
}

KResult<ResourceInfo> Store::resolve(const std::string& group, const std::string& version,
                                     const std::string& resource) const {
  auto info = registry_.byResource(group, version, resource);
  if (!info) {
    ApiError e = kube::notFoundError(resource, group, "");
    e.message = "the server could not find the requested resource";
    return e;
  }
  return *info;
}

int64_t Store::resourceVersion() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->rv;
}

// ------------------------------------------------------------------ reads

KResult<Json> Store::get(const kube::ResourceRef& r, const std::string& ns, const std::string& name,
                         const std::string& subresource) {
  auto info = resolve(r.group, r.version, r.resource);
  if (!info.ok()) return info.error();
  if (!subresource.empty() && subresource != "status") return badRequest("subresource " + subresource + " is not served here");
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->objects.find(Impl::key(*info, info->ref.namespaced ? ns : "", name));
  if (it == impl_->objects.end()) return kube::notFoundError(info->ref.resource, info->ref.group, name);
  return it->second;
}

KResult<Json> Store::list(const kube::ResourceRef& r, const std::string& ns, const kube::ListOptions& opts) {
  auto info = resolve(r.group, r.version, r.resource);
  if (!info.ok()) return info.error();
  auto labels = LabelSelector::parse(opts.labelSelector);
  if (!labels.ok()) return badRequest(labels.error().message);
  auto fields = FieldSelector::parse(opts.fieldSelector, info->ref.kind);
  if (!fields.ok()) return badRequest(fields.error().message);
  std::string start;
  std::lock_guard<std::mutex> lock(impl_->mu);
  int64_t listRv = impl_->rv;
  if (!opts.continueToken.empty()) {
    auto raw = backup::crypto::fromBase64(opts.continueToken);
    auto tok = raw.ok() ? parseJson(std::string(raw->begin(), raw->end())) : Result<Json>(invalidArgument("bad"));
    if (!tok.ok() || !tok->contains("rv") || !tok->contains("start")) return badRequest("continue key is not valid: bad continue token");
    if ((*tok)["rv"].get<int64_t>() < impl_->compactedRv) {
      return kube::goneError("The provided continue parameter is too old to display a consistent list result. You can "
                             "start a new list without the continue parameter.");
    }
    start = (*tok)["start"].get<std::string>();
    listRv = (*tok)["rv"].get<int64_t>();
  }
  const std::string prefix = Impl::prefix(*info, info->ref.namespaced ? ns : "");
  Json items = Json::array();
  std::string last, continueToken;
  auto it = start.empty() ? impl_->objects.lower_bound(prefix) : impl_->objects.upper_bound(start);
  for (; it != impl_->objects.end() && it->first.rfind(prefix, 0) == 0; ++it) {
    if (!labels->matches(it->second) || !fields->matches(it->second)) continue;
    if (opts.limit > 0 && static_cast<int64_t>(items.size()) == opts.limit) {
      continueToken = base64Url(Json{{"rv", listRv}, {"start", last}}.dump());
      break;
    }
    items.push_back(it->second);
    last = it->first;
  }
  Json meta = {{"resourceVersion", std::to_string(impl_->rv)}};
  if (!continueToken.empty()) meta["continue"] = continueToken;
  return Json{{"kind", info->listKind}, {"apiVersion", info->ref.apiVersion()}, {"metadata", meta}, {"items", items}};
}

KResult<std::shared_ptr<Watcher>> Store::watch(const kube::ResourceRef& r, const std::string& ns,
                                               const kube::WatchOptions& opts) {
  auto info = resolve(r.group, r.version, r.resource);
  if (!info.ok()) return info.error();
  auto labels = LabelSelector::parse(opts.labelSelector);
  if (!labels.ok()) return badRequest(labels.error().message);
  auto fields = FieldSelector::parse(opts.fieldSelector, info->ref.kind);
  if (!fields.ok()) return badRequest(fields.error().message);
  const std::string scopeNs = info->ref.namespaced ? ns : "";
  auto w = std::make_shared<Watcher>(Watcher::Filter{info->ref.group, info->ref.resource, scopeNs, *labels, *fields},
                                     impl_->options.watcherCapacity);
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (opts.resourceVersion.empty() || opts.resourceVersion == "0") {
    const std::string prefix = Impl::prefix(*info, scopeNs);
    for (auto it = impl_->objects.lower_bound(prefix); it != impl_->objects.end() && it->first.rfind(prefix, 0) == 0; ++it) {
      if (labels->matches(it->second) && fields->matches(it->second)) w->push({WT::kAdded, it->second});
    }
  } else {
    int64_t from = 0;
    try {
      from = std::stoll(opts.resourceVersion);
    } catch (...) {
      return badRequest("invalid resource version: \"" + opts.resourceVersion + "\"");
    }
    if (from < impl_->compactedRv) {
      return kube::goneError("too old resource version: " + std::to_string(from) + " (" +
                             std::to_string(impl_->compactedRv) + ")");
    }
    for (const auto& e : impl_->history) {
      if (e.rv <= from || !Impl::watcherWants(*w, e.group, e.resource, e.ns)) continue;
      auto m = [&](const Json& o) { return !o.is_null() && labels->matches(o) && fields->matches(o); };
      if (e.type == WT::kModified) {
        bool now = m(e.object), before = m(e.old);
        if (now && before) w->push({WT::kModified, e.object});
        else if (now) w->push({WT::kAdded, e.object});
        else if (before) w->push({WT::kDeleted, e.object});
      } else if (m(e.object)) {
        w->push({e.type, e.object});
      }
    }
  }
  impl_->watchers.push_back(w);
  return w;
}

void Store::bookmark(Watcher& w) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::string kind, apiVersion;
  for (const auto& i : registry_.all()) {
    if (i.ref.group == w.filter().group && i.ref.resource == w.filter().resource) {
      kind = i.ref.kind;
      apiVersion = i.ref.apiVersion();
    }
  }
  w.push({WT::kBookmark, Json{{"kind", kind}, {"apiVersion", apiVersion},
                              {"metadata", {{"resourceVersion", std::to_string(impl_->rv)},
                                            {"annotations", {{"k8s.io/initial-events-end", "true"}}}}}}});
}

void Store::stopWatch(const std::shared_ptr<Watcher>& w) {
  w->close();
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::erase_if(impl_->watchers, [&](const std::weak_ptr<Watcher>& x) { return x.lock() == w || x.expired(); });
}

}  // namespace sdb::apimachinery
