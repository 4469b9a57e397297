// Incremental decoding of a watch body: newline-delimited JSON events {"type":...,"object":...} that
// arrive in arbitrary pieces (a line may span many reads; a read may hold many lines).
//
// An ERROR event is returned as the ApiError its metav1.Status describes, so 410 Expired becomes
// ApiErrorReason::kGone whether the server sent it as the HTTP status or as an event.
//
// Contract: a value type used by one thread (the watch's reader). Bytes are copied once into an
// internal buffer that is compacted as lines are consumed.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "operator/kube/client.h"

namespace sdb::kube {

// Decodes one line (without its newline).
KResult<WatchEvent> decodeWatchEvent(std::string_view line);

class WatchLineDecoder {
 public:
  void feed(std::string_view bytes);
  // The next complete line's event, or nullopt when no complete line is buffered. Blank lines are
  // skipped.
  std::optional<KResult<WatchEvent>> next();
  // Bytes of an incomplete last line (non-zero when a stream ends mid-event).
  size_t pendingBytes() const { return buffer_.size() - start_; }

 private:
  std::string buffer_;
  size_t start_ = 0;  // first unconsumed byte
  size_t scan_ = 0;   // where to resume looking for '\n'
};

}  // namespace sdb::kube
