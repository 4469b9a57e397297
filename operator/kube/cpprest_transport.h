// The production Transport, over cpprestsdk (http_client on Boost.Asio and OpenSSL). This header
// names no cpprestsdk type: cpprestsdk and Boost headers are included by cpprest_transport.cpp only.
//
// - TLS: with a CA in the config, only that CA is trusted (the system store is replaced), and the
//   host name (or IP address) is verified; insecureSkipTlsVerify turns verification off; a client
//   certificate and key are presented when configured.
// - Ordinary requests share one http_client (keep-alive connections); each watch gets its own, whose
//   idle timeout is the watch's.
// - Deadlines: send() waits request.timeout in total, then cancels the request. A BodyStream's
//   read() waits for one byte (getc), then takes everything buffered (getn of in_avail), as FACTS.md
//   measured: incremental, never waiting for a full buffer.
//
// Contract: thread-safe. Bad PEM material is reported at construction, naming the field.
#pragma once

#include <memory>

#include "operator/core/result.h"
#include "operator/kube/rest_config.h"
#include "operator/kube/transport.h"

namespace sdb::kube {

Result<std::unique_ptr<Transport>> makeCpprestTransport(const RestConfig& config);

// Sizes cpprestsdk's shared thread pool (its default is 40 threads). The pool only runs Asio's
// completion handlers: requests and watch reads are waited for on our own threads, never inside a
// handler, so a few threads serve any number of connections. Call once, before the first transport;
// a later call, or a second one, is refused with an error and changes nothing.
Status setCpprestThreadPoolSize(size_t threads);

}  // namespace sdb::kube
