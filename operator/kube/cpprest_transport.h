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

// cpprestsdk's Asio client loads the system trust store into every new connection's TLS context
// (SSL_CTX_set_default_verify_paths reads all of OpenSSL's default certificate file, some 140
// certificates) before our callback swaps that store for the configured CA. With a CA in the config
// the load is wasted, and it is large: the informers' watches connect at once, and the idle
// operator's peak RSS was 36.3 MiB with it and 26.1 MiB without. This points OpenSSL's default
// certificate file at an empty one (SSL_CERT_FILE=/dev/null) for the process, so the load reads
// nothing. It does nothing, and returns false, when the config has no CA (the system store then
// verifies the API server) or when SSL_CERT_FILE is already set. The operator's other TLS clients
// (libpq, hiredis, mongo-c) are always given their CA file, so none relies on the default file.
// Call at start-up, before other threads read the environment.
bool skipSystemTrustStoreLoad(const RestConfig& config);

}  // namespace sdb::kube
