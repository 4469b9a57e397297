// ApiServer's streamed responses: pods/log (followed or not) and chunked watches with bookmarks and
// fault-injected cuts.
#include <thread>

#include "e2e/localcluster/api_server.h"
#include "e2e/localcluster/responses.h"

namespace sdb::localcluster {

using apimachinery::ResourceInfo;
using namespace responses;

HttpResponse ApiServer::podLog(const HttpRequest& req, const std::string& ns, const std::string& name) {
  if (!options_.podLogs) return errorOf(404, "NotFound", "the local cluster runs without a node: there are no pod logs");
  apimachinery::PodLogOptions o;
  o.container = req.param("container");
  o.follow = boolParam(req, "follow");
  o.previous = boolParam(req, "previous");
  if (!req.param("tailLines").empty()) o.tailLines = std::atoll(req.param("tailLines").c_str());
  if (!req.param("limitBytes").empty()) o.limitBytes = std::atoll(req.param("limitBytes").c_str());
  auto opened = options_.podLogs->openLog(ns, name, o);
  if (!opened.ok()) return error(opened.error());
  std::shared_ptr<apimachinery::LogStream> stream = std::move(*opened);
  HttpResponse r;
  r.headers = {{"Content-Type", "text/plain"}, {"Cache-Control", "no-cache, private"}};
  if (!o.follow) {
    while (auto chunk = stream->next(std::chrono::milliseconds(0))) {
      if (chunk->empty()) break;
      r.body += *chunk;
    }
    return r;
  }
  r.stream = [this, stream](const ChunkWriter& write) {
    while (!stopping_) {
      auto chunk = stream->next(std::chrono::milliseconds(500));
      if (!chunk) break;
      if (!chunk->empty() && !write(*chunk)) break;
    }
    return true;
  };
  return r;
}

HttpResponse ApiServer::watch(const HttpRequest& req, const ResourceInfo& info, const std::string& ns, bool table) {
  kube::WatchOptions o;
  o.labelSelector = req.param("labelSelector");
  o.fieldSelector = req.param("fieldSelector");
  o.resourceVersion = req.param("resourceVersion");
  o.allowWatchBookmarks = boolParam(req, "allowWatchBookmarks");
  int timeout = options_.defaultWatchTimeoutSeconds;
  if (!req.param("timeoutSeconds").empty()) timeout = std::atoi(req.param("timeoutSeconds").c_str());
  auto watcher = store_.watch(info.ref, ns, o);
  HttpResponse r;
  r.headers = {{"Content-Type", table ? kTableType : "application/json"}, {"Cache-Control", "no-cache, private"}};
  if (!watcher.ok()) {
    if (watcher.error().httpCode != 410) return error(watcher.error());
    // kube-apiserver reports an expired resourceVersion as an ERROR event on a 200 stream.
    Json status = kube::toStatusJson(watcher.error());
    r.stream = [status](const ChunkWriter& write) {
      write(Json{{"type", "ERROR"}, {"object", status}}.dump() + "\n");
      return true;
    };
    return r;
  }
  auto w = *watcher;
  const bool bookmarks = o.allowWatchBookmarks;
  r.stream = [this, w, info, table, timeout, bookmarks, userAgent = req.header("user-agent"),
              path = req.path](const ChunkWriter& write) {
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    const auto end = start + std::chrono::seconds(timeout);
    // Faults: the cut period is looked up again every 250 ms, so POST /admin/faults reaches watches
    // that are already open.
    auto cutAt = clock::time_point::max();
    auto nextFaultCheck = start;
    auto nextBookmark = clock::now() + std::chrono::seconds(options_.bookmarkIntervalSeconds);
    bool first = true;
    auto line = [&](const kube::WatchEvent& e) {
      if (table && e.type != kube::WatchEvent::Type::kError && e.type != kube::WatchEvent::Type::kBookmark) {
        Json object = toTable(info, e.object, true);
        if (!first) object["columnDefinitions"] = Json::array();
        first = false;
        return Json{{"type", kube::watchEventTypeName(e.type)}, {"object", object}}.dump() + "\n";
      }
      // {"type":..,"object":..} without copying the object into a wrapper first.
      return std::string("{\"type\":\"") + kube::watchEventTypeName(e.type) + "\",\"object\":" + dumpJson(e.object) + "}\n";
    };
    bool clean = true;
    while (!stopping_ && clock::now() < end) {
      if (options_.faults && clock::now() >= nextFaultCheck) {
        int cut = options_.faults->watchCutSeconds(userAgent, path);
        cutAt = cut > 0 ? start + std::chrono::seconds(cut) : clock::time_point::max();
        nextFaultCheck = clock::now() + std::chrono::milliseconds(250);
      }
      if (clock::now() >= cutAt) {
        // Fault: cut mid-line. Half of the next event (the client must get it again after resuming),
        // waiting up to a second for one, else half of a made-up line.
        auto e = w->next(std::chrono::milliseconds(1000));
        std::string text = e ? line(*e) : std::string(R"({"type":"BOOKMARK","object":{"kind":"Status","metadata":{}}})");
        write(text.substr(0, std::max<size_t>(1, text.size() / 2)));
        options_.faults->countWatchCut(e.has_value());
        clean = false;
        break;
      }
      if (bookmarks && clock::now() >= nextBookmark) {
        store_.bookmark(*w);
        nextBookmark = clock::now() + std::chrono::seconds(options_.bookmarkIntervalSeconds);
      }
      auto wait = std::chrono::milliseconds(250);
      if (cutAt != clock::time_point::max()) {
        wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(cutAt - clock::now()) +
                                  std::chrono::milliseconds(1));
      }
      auto e = w->next(wait);
      if (!e) {
        if (w->closed()) break;
        continue;
      }
      // Events already queued go out in one chunk (up to ~64 KiB): one TLS record and syscall for a
      // burst instead of one per event.
      std::string chunk = line(*e);
      bool error = e->type == kube::WatchEvent::Type::kError;
      while (!error && chunk.size() < 64 * 1024) {
        auto more = w->next(std::chrono::milliseconds(0));
        if (!more) break;
        chunk += line(*more);
        error = more->type == kube::WatchEvent::Type::kError;
      }
      if (!write(chunk)) break;
      if (error) break;
    }
    store_.stopWatch(w);
    return clean;
  };
  return r;
}

}  // namespace sdb::localcluster
