#include "operator/kube/watch_decoder.h"

namespace sdb::kube {

namespace {

ApiError decodeError(const std::string& what, std::string_view line) {
  ApiError e;
  e.reason = ApiErrorReason::kServerError;
  e.httpCode = 200;
  std::string excerpt(line.substr(0, 120));
  e.message = "cannot decode a watch event (" + what + "): " + excerpt + (line.size() > 120 ? "..." : "");
  return e;
}

}  // namespace

KResult<WatchEvent> decodeWatchEvent(std::string_view line) {
  Json j = Json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return decodeError("invalid JSON", line);
  if (!j.is_object()) return decodeError("not an object", line);
  auto type = j.find("type");
  auto object = j.find("object");
  if (type == j.end() || !type->is_string()) return decodeError("no type", line);
  if (object == j.end() || !object->is_object()) return decodeError("no object", line);
  const std::string& t = type->get_ref<const std::string&>();
  WatchEvent e;
  if (t == "ADDED") e.type = WatchEvent::Type::kAdded;
  else if (t == "MODIFIED") e.type = WatchEvent::Type::kModified;
  else if (t == "DELETED") e.type = WatchEvent::Type::kDeleted;
  else if (t == "BOOKMARK") e.type = WatchEvent::Type::kBookmark;
  else if (t == "ERROR") {
    int code = 500;
    if (auto c = object->find("code"); c != object->end() && c->is_number_integer()) code = c->get<int>();
    return fromHttpResponse(code, dumpJson(*object));
  } else {
    return decodeError("unknown type " + t, line);
  }
  e.object = std::move(*object);
  return e;
}

void WatchLineDecoder::feed(std::string_view bytes) {
  // Compact once the consumed prefix dominates, so the buffer stays about one line long.
  if (start_ > 0 && start_ * 2 >= buffer_.size()) {
    buffer_.erase(0, start_);
    scan_ -= start_;
    start_ = 0;
  }
  buffer_.append(bytes.data(), bytes.size());
}

std::optional<KResult<WatchEvent>> WatchLineDecoder::next() {
  while (true) {
    size_t nl = buffer_.find('\n', scan_);
    if (nl == std::string::npos) {
      scan_ = buffer_.size();
      return std::nullopt;
    }
    std::string_view line(buffer_.data() + start_, nl - start_);
    start_ = scan_ = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    bool blank = true;
    for (char c : line) {
      if (c != ' ' && c != '\t') {
        blank = false;
        break;
      }
    }
    if (blank) continue;
    return decodeWatchEvent(line);
  }
}

}  // namespace sdb::kube
