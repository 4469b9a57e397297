#include "e2e/localcluster/http_server.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <sys/socket.h>

#include <mutex>
#include <set>
#include <thread>

namespace sdb::localcluster {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

std::string urlDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// The socket the calling thread serves (dropConnections() spares it).
thread_local const void* tServing = nullptr;

}  // namespace

struct HttpsServer::Impl {
  net::io_context ioc;
  ssl::context ctx{ssl::context::tls_server};
  std::unique_ptr<tcp::acceptor> acceptor;
  std::thread acceptThread;
  HttpHandler handler;
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::set<std::shared_ptr<tcp::socket>> sockets;  // to shut down at stop()
  std::vector<std::thread> connections;
  int port = 0;
  std::string address = "127.0.0.1";  // where stop() connects to wake the accept() call

  void serve(std::shared_ptr<tcp::socket> socket) {
    tServing = socket.get();
    try {
      ssl::stream<tcp::socket&> stream(*socket, ctx);
      stream.handshake(ssl::stream_base::server);
      boost::beast::flat_buffer buffer;
      while (!stopping) {
        http::request_parser<http::string_body> parser;
        parser.body_limit(64 * 1024 * 1024);
        http::read(stream, buffer, parser);
        auto& req = parser.get();
        HttpRequest r;
        r.method = std::string(req.method_string());
        std::string target(req.target());
        auto q = target.find('?');
        r.path = urlDecode(target.substr(0, q));
        if (q != std::string::npos) {
          std::string qs = target.substr(q + 1);
          size_t start = 0;
          while (start <= qs.size()) {
            size_t amp = qs.find('&', start);
            std::string kv = qs.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
            if (!kv.empty()) {
              auto eq = kv.find('=');
              r.query[urlDecode(kv.substr(0, eq))] = eq == std::string::npos ? "" : urlDecode(kv.substr(eq + 1));
            }
            if (amp == std::string::npos) break;
            start = amp + 1;
          }
        }
        for (const auto& f : req) {
          std::string name(f.name_string());
          for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          r.headers[name] = std::string(f.value());
        }
        r.body = std::move(req.body());
        const bool keepAlive = req.keep_alive();
        HttpResponse resp = handler(r);
        if (resp.stream) {
          http::response<http::empty_body> head{static_cast<http::status>(resp.status), req.version()};
          for (const auto& [k, v] : resp.headers) head.set(k, v);
          head.chunked(true);
          head.keep_alive(false);
          http::response_serializer<http::empty_body> sr{head};
          http::write_header(stream, sr);
          ChunkWriter write = [&](const std::string& chunk) {
            if (stopping) return false;
            boost::system::error_code ec;
            net::write(stream, http::make_chunk(net::buffer(chunk)), ec);
            return !ec;
          };
          boost::system::error_code ec;
          if (resp.stream(write)) {
            net::write(stream, http::make_chunk_last(), ec);
          } else {
            // A cut: no last chunk, no TLS close_notify; the client sees the connection drop.
            socket->shutdown(tcp::socket::shutdown_both, ec);
            socket->close(ec);
          }
          break;
        }
        http::response<http::string_body> out{static_cast<http::status>(resp.status), req.version()};
        for (const auto& [k, v] : resp.headers) out.set(k, v);
        out.body() = std::move(resp.body);
        out.keep_alive(keepAlive);
        out.prepare_payload();
        http::write(stream, out);
        if (!keepAlive) break;
      }
      boost::system::error_code ec;
      stream.shutdown(ec);
    } catch (const std::exception&) {
      // Client went away or spoke garbage: drop the connection.
    }
    std::lock_guard<std::mutex> lock(mu);
    sockets.erase(socket);
  }
};

HttpsServer::HttpsServer() : impl_(std::make_unique<Impl>()) {}
HttpsServer::~HttpsServer() { stop(); }

Status HttpsServer::start(const HttpsServerOptions& o, HttpHandler handler) {
  try {
    impl_->handler = std::move(handler);
    impl_->ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                           ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    impl_->ctx.use_certificate_chain(net::buffer(o.certificatePem));
    impl_->ctx.use_private_key(net::buffer(o.privateKeyPem), ssl::context::pem);
    tcp::endpoint ep(net::ip::make_address(o.address), static_cast<unsigned short>(o.port));
    impl_->acceptor = std::make_unique<tcp::acceptor>(impl_->ioc);
    impl_->acceptor->open(ep.protocol());
    impl_->acceptor->set_option(net::socket_base::reuse_address(true));
    impl_->acceptor->bind(ep);
    impl_->acceptor->listen();
    impl_->port = impl_->acceptor->local_endpoint().port();
    impl_->address = o.address == "0.0.0.0" ? "127.0.0.1" : o.address;
  } catch (const std::exception& e) {
    return ioError(std::string("cannot listen on ") + o.address + ":" + std::to_string(o.port) + ": " + e.what());
  }
  impl_->acceptThread = std::thread([this] {
    while (!impl_->stopping) {
      auto socket = std::make_shared<tcp::socket>(impl_->ioc);
      boost::system::error_code ec;
      impl_->acceptor->accept(*socket, ec);
      if (ec || impl_->stopping) break;
      std::lock_guard<std::mutex> lock(impl_->mu);
      impl_->sockets.insert(socket);
      impl_->connections.emplace_back([this, socket] { impl_->serve(socket); });
    }
  });
  return okStatus();
}

void HttpsServer::stop() {
  if (impl_->stopping.exchange(true)) return;
  boost::system::error_code ec;
  if (impl_->acceptor) {
    impl_->acceptor->cancel(ec);
    // shutdown(2) wakes a blocking accept() even when the address is gone (a removed bridge).
    ::shutdown(impl_->acceptor->native_handle(), SHUT_RDWR);
    impl_->acceptor->close(ec);
  }
  // Wake the accept() call.
  try {
    net::io_context ioc;
    tcp::socket s(ioc);
    s.connect(tcp::endpoint(net::ip::make_address(impl_->address), static_cast<unsigned short>(impl_->port)), ec);
  } catch (...) {
  }
  if (impl_->acceptThread.joinable()) impl_->acceptThread.join();
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    for (auto& s : impl_->sockets) s->shutdown(tcp::socket::shutdown_both, ec);
  }
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    threads.swap(impl_->connections);
  }
  for (auto& t : threads) {
    if (t.joinable()) t.join();
  }
}

void HttpsServer::dropConnections() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  boost::system::error_code ec;
  for (auto& s : impl_->sockets) {
    if (s.get() != tServing) s->shutdown(tcp::socket::shutdown_both, ec);
  }
}

int HttpsServer::port() const { return impl_->port; }
bool HttpsServer::stopping() const { return impl_->stopping; }

}  // namespace sdb::localcluster
