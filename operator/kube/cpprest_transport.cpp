#include "operator/kube/cpprest_transport.h"

#include <openssl/ssl.h>

#include <atomic>
#include <cstdlib>
#include <boost/asio/ssl.hpp>
#include <cpprest/http_client.h>
#include <future>
#include <map>
#include <pplx/threadpool.h>
#include <mutex>

#include "operator/kube/http_client.h"

namespace sdb::kube {

namespace {

namespace http = web::http;
namespace client = web::http::client;
using Clock = std::chrono::steady_clock;

struct TlsMaterial {
  std::string caPem, certPem, keyPem;
  bool insecure = false;
};

// Applies the TLS material to a context; throws boost::system::system_error on bad PEM.
void configureTls(boost::asio::ssl::context& ctx, const TlsMaterial& tls) {
  if (!tls.caPem.empty()) {
    // Trust exactly the configured CA: a fresh store replaces the system one cpprestsdk loaded.
    SSL_CTX_set_cert_store(ctx.native_handle(), X509_STORE_new());
    ctx.add_certificate_authority(boost::asio::buffer(tls.caPem));
  }
  if (!tls.certPem.empty()) {
    ctx.use_certificate_chain(boost::asio::buffer(tls.certPem));
    ctx.use_private_key(boost::asio::buffer(tls.keyPem), boost::asio::ssl::context::pem);
  }
}

TransportFailure failure(ApiError e, bool sent = true) { return TransportFailure{std::move(e), sent}; }

// Maps an exception from cpprestsdk to a failure naming the request.
TransportFailure fromException(const std::string& what, const std::exception& ex) {
  if (const auto* he = dynamic_cast<const http::http_exception*>(&ex)) {
    const int code = he->error_code().value();
    if (code == ETIMEDOUT) return failure(timeoutError(what + ": timed out: " + he->what()));
    const bool neverSent = code == ECONNREFUSED || code == EHOSTUNREACH || code == ENETUNREACH;
    return failure(networkError(what + ": " + he->what()), !neverSent);
  }
  return failure(networkError(what + ": " + ex.what()));
}

TransportResponse headOf(const http::http_response& resp) {
  TransportResponse out;
  out.status = resp.status_code();
  const auto& h = resp.headers();
  if (auto it = h.find("Retry-After"); it != h.end()) {
    try {
      size_t used = 0;
      int v = std::stoi(it->second, &used);
      if (used == it->second.size() && v >= 0) out.retryAfterSeconds = v;
    } catch (const std::exception&) {
      // An HTTP-date Retry-After: ignored; the client's own backoff applies.
    }
  }
  if (auto it = h.find("Warning"); it != h.end()) out.warnings.push_back(it->second);
  return out;
}

// Waits for a pplx task from this (non-pplx) thread with a deadline, via a promise fulfilled by a
// task-based continuation (which never blocks a pool thread).
template <class T>
std::shared_ptr<std::promise<T>> promiseFor(pplx::task<T> task, std::future<T>& future) {
  auto p = std::make_shared<std::promise<T>>();
  future = p->get_future();
  task.then([p](pplx::task<T> t) {
    try {
      p->set_value(t.get());
    } catch (...) {
      p->set_exception(std::current_exception());
    }
  });
  return p;
}

class CpprestBodyStream final : public BodyStream {
 public:
  CpprestBodyStream(std::shared_ptr<client::http_client> c, std::shared_ptr<pplx::cancellation_token_source> cts,
                    http::http_response resp, std::chrono::milliseconds idle, std::string what)
      : client_(std::move(c)), cts_(std::move(cts)), resp_(std::move(resp)), buf_(resp_.body().streambuf()),
        idle_(idle), what_(std::move(what)) {}
  ~CpprestBodyStream() override { cts_->cancel(); }

  KResult<std::string> read() override {
    if (cancelled_.load()) return networkError("cancelled");
    try {
      std::future<int> got;
      auto keep = promiseFor<int>(buf_.getc(), got);
      const auto deadline = Clock::now() + idle_;
      while (got.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
        if (cancelled_.load()) return networkError("cancelled");
        if (Clock::now() >= deadline) {
          cts_->cancel();
          return timeoutError("no data for " + std::to_string(idle_.count()) + " ms (idle timeout)");
        }
      }
      const int c = got.get();
      if (c == concurrency::streams::streambuf<uint8_t>::traits::eof()) return std::string();
      size_t n = buf_.in_avail();
      if (n == 0) n = 1;
      std::string out(n, '\0');
      size_t read = buf_.getn(reinterpret_cast<uint8_t*>(out.data()), n).get();
      out.resize(read);
      return out;
    } catch (const std::exception& ex) {
      if (cancelled_.load()) return networkError("cancelled");
      return fromException(what_, ex).error;
    }
  }

  void cancel() override {
    if (!cancelled_.exchange(true)) cts_->cancel();
  }
  bool cancelled() const override { return cancelled_.load(); }

 private:
  std::shared_ptr<client::http_client> client_;
  std::shared_ptr<pplx::cancellation_token_source> cts_;
  http::http_response resp_;
  concurrency::streams::streambuf<uint8_t> buf_;
  std::chrono::milliseconds idle_;
  std::string what_;
  std::atomic<bool> cancelled_{false};
};

class CpprestTransport final : public Transport {
 public:
  CpprestTransport(std::string server, TlsMaterial tls) : server_(std::move(server)), tls_(std::move(tls)) {}

  TResult<TransportResponse> send(const TransportRequest& r) override {
    const std::string what = r.method + " " + server_ + r.target;
    try {
      auto c = sharedClient(r.timeout);
      pplx::cancellation_token_source cts;
      auto task = c->request(toRequest(r), cts.get_token()).then([](http::http_response resp) {
        return resp.extract_utf8string(true).then([resp](std::string body) {
          TransportResponse out = headOf(resp);
          out.body = std::move(body);
          return out;
        });
      });
      std::future<TransportResponse> done;
      auto keep = promiseFor(task, done);
      if (done.wait_for(r.timeout) != std::future_status::ready) {
        cts.cancel();
        done.wait_for(std::chrono::seconds(5));
        return failure(timeoutError(what + ": no complete answer within " + std::to_string(r.timeout.count()) + " ms"));
      }
      return done.get();
    } catch (const std::exception& ex) {
      return fromException(what, ex);
    }
  }

  TResult<StreamResponse> stream(const TransportRequest& r, std::chrono::milliseconds idle) override {
    const std::string what = r.method + " " + server_ + r.target;
    try {
      // Its own client: the connection stays with this watch, with this watch's idle timeout as a
      // backstop behind the read loop's own.
      auto c = std::make_shared<client::http_client>(web::uri(server_), config(idle + std::chrono::seconds(5)));
      auto cts = std::make_shared<pplx::cancellation_token_source>();
      std::future<http::http_response> headers;
      auto keep = promiseFor(c->request(toRequest(r), cts->get_token()), headers);
      if (headers.wait_for(r.timeout) != std::future_status::ready) {
        cts->cancel();
        headers.wait_for(std::chrono::seconds(5));
        return failure(timeoutError(what + ": no response headers within " + std::to_string(r.timeout.count()) + " ms"));
      }
      http::http_response resp = headers.get();
      StreamResponse out;
      out.head = headOf(resp);
      if (out.head.status != 200) {
        std::future<std::string> body;
        auto keepBody = promiseFor(resp.extract_utf8string(true), body);
        if (body.wait_for(r.timeout) == std::future_status::ready) out.head.body = body.get();
        cts->cancel();
        return out;
      }
      out.body = std::make_unique<CpprestBodyStream>(c, cts, resp, idle, what);
      return out;
    } catch (const std::exception& ex) {
      return fromException(what, ex);
    }
  }

 private:
  client::http_client_config config(std::chrono::milliseconds idle) const {
    client::http_client_config cfg;
    cfg.set_timeout(std::chrono::duration_cast<std::chrono::microseconds>(idle));
    cfg.set_validate_certificates(!tls_.insecure);
    TlsMaterial tls = tls_;
    cfg.set_ssl_context_callback([tls](boost::asio::ssl::context& ctx) { configureTls(ctx, tls); });
    return cfg;
  }

  std::shared_ptr<client::http_client> sharedClient(std::chrono::milliseconds timeout) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& c = clients_[timeout.count()];
    if (!c) c = std::make_shared<client::http_client>(web::uri(server_), config(timeout));
    return c;
  }

  static http::http_request toRequest(const TransportRequest& r) {
    http::http_request req(r.method);
    req.set_request_uri(web::uri(r.target));
    for (const auto& [k, v] : r.headers) req.headers().add(k, v);
    if (!r.contentType.empty()) req.set_body(r.body, r.contentType);
    return req;
  }

  std::string server_;
  TlsMaterial tls_;
  std::mutex mu_;
  std::map<int64_t, std::shared_ptr<client::http_client>> clients_;
};

}  // namespace

Result<std::unique_ptr<Transport>> makeCpprestTransport(const RestConfig& config) {
  TlsMaterial tls{config.caPem, config.clientCertificatePem, config.clientKeyPem, config.insecureSkipTlsVerify};
  // Check the PEM material now, so a bad kubeconfig fails at start naming the field.
  try {
    boost::asio::ssl::context probe(boost::asio::ssl::context::tls_client);
    if (!tls.caPem.empty()) {
      try {
        probe.add_certificate_authority(boost::asio::buffer(tls.caPem));
      } catch (const std::exception& e) {
        return invalidArgument(config.source + ": certificate-authority: " + e.what());
      }
    }
    if (!tls.certPem.empty()) {
      try {
        probe.use_certificate_chain(boost::asio::buffer(tls.certPem));
      } catch (const std::exception& e) {
        return invalidArgument(config.source + ": client-certificate: " + e.what());
      }
      try {
        probe.use_private_key(boost::asio::buffer(tls.keyPem), boost::asio::ssl::context::pem);
      } catch (const std::exception& e) {
        return invalidArgument(config.source + ": client-key: " + e.what());
      }
      if (SSL_CTX_check_private_key(probe.native_handle()) != 1) {
        return invalidArgument(config.source + ": client-key: does not match client-certificate");
      }
    }
    web::uri check(config.server);
    if (check.host().empty()) return invalidArgument(config.source + ": server: no host in " + config.server);
  } catch (const std::exception& e) {
    return invalidArgument(config.source + ": server: " + e.what());
  }
  return std::unique_ptr<Transport>(std::make_unique<CpprestTransport>(config.server, std::move(tls)));
}

Result<std::unique_ptr<HttpKubeClient>> HttpKubeClient::fromConfig(const RestConfig& config, HttpClientOptions options) {
  auto transport = makeCpprestTransport(config);
  if (!transport.ok()) return transport.error();
  return std::make_unique<HttpKubeClient>(std::move(*transport), config.token, std::move(options));
}

Status setCpprestThreadPoolSize(size_t threads) {
  if (threads == 0) return invalidArgument("cpprestsdk thread pool: needs at least one thread");
  try {
    crossplat::threadpool::initialize_with_threads(threads);
  } catch (const std::exception& e) {
    return Error(ErrorCode::kFailedPrecondition, std::string("cpprestsdk thread pool: ") + e.what());
  }
  return okStatus();
}

bool skipSystemTrustStoreLoad(const RestConfig& config) {
  if (config.caPem.empty() || std::getenv("SSL_CERT_FILE") != nullptr) return false;
  return ::setenv("SSL_CERT_FILE", "/dev/null", 0) == 0;
}

}  // namespace sdb::kube
