// Benchmark: write throughput and watch fan-out of the local cluster over HTTPS.
// 10,000 ConfigMap creates from 4 keep-alive connections while 10 watchers stream every event.
// Prints target, measured value and PASS or MISS. Usage: localcluster_bench LOCALCLUSTER_BINARY
#include <utility>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <utility>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Conn {
  net::io_context ioc;
  ssl::context ctx{ssl::context::tls_client};
  std::unique_ptr<ssl::stream<tcp::socket>> stream;
  Conn(int port) {
    ctx.set_verify_mode(ssl::verify_none);  // a benchmark on loopback; TLS cost is still paid
    stream = std::make_unique<ssl::stream<tcp::socket>>(ioc, ctx);
    stream->next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
    stream->handshake(ssl::stream_base::client);
  }
};

long rss() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: localcluster_bench LOCALCLUSTER_BINARY\n";
    return 2;
  }
  constexpr int kCreates = 10000, kWriters = 4, kWatchers = 10;
  const std::string dir = std::filesystem::temp_directory_path() / ("sdb-bench-" + std::to_string(getpid()));
  pid_t child = fork();
  if (child == 0) {
    execl(argv[1], argv[1], "--data-dir", dir.c_str(), "--port", "0", static_cast<char*>(nullptr));
    _exit(127);
  }
  for (int i = 0; i < 100 && !std::filesystem::exists(dir + "/kubeconfig"); ++i) usleep(100000);
  std::ifstream kc(dir + "/kubeconfig");
  std::stringstream ss;
  ss << kc.rdbuf();
  std::smatch m;
  std::string text = ss.str();
  std::regex_search(text, m, std::regex(R"(127\.0\.0\.1:(\d+))"));
  const int port = std::stoi(m[1]);
  std::regex_search(text, m, std::regex(R"(token: (\S+))"));
  const std::string token = m[1];

  std::atomic<int> ready{0};
  std::vector<std::atomic<int>> seen(kWatchers);
  std::vector<Clock::time_point> lastSeen(kWatchers);
  std::vector<std::thread> watchers;
  for (int w = 0; w < kWatchers; ++w) {
    watchers.emplace_back([&, w] {
      Conn c(port);
      http::request<http::empty_body> req{http::verb::get, "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=120", 11};
      req.set(http::field::host, "127.0.0.1");
      req.set(http::field::authorization, "Bearer " + token);
      http::write(*c.stream, req);
      boost::beast::flat_buffer buf;
      http::response_parser<http::buffer_body> parser;
      parser.body_limit(boost::none);  // a watch is one long body (Beast caps bodies at 8 MB by default)
      http::read_header(*c.stream, buf, parser);
      ready++;
      char chunk[65536];
      std::string pending;
      while (seen[w] < kCreates) {
        parser.get().body().data = chunk;
        parser.get().body().size = sizeof chunk;
        boost::system::error_code ec;
        http::read_some(*c.stream, buf, parser, ec);
        if (ec && ec != http::error::need_buffer) break;
        pending.append(chunk, sizeof chunk - parser.get().body().size);
        size_t pos;
        while ((pos = pending.find('\n')) != std::string::npos) {
          if (pending.compare(0, 16, "{\"object\":{\"api") == 0 || pending.find("\"ADDED\"") != std::string::npos) seen[w]++;
          pending.erase(0, pos + 1);
        }
        lastSeen[w] = Clock::now();
      }
    });
  }
  while (ready < kWatchers) usleep(1000);
  const auto start = Clock::now();
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back([&, t] {
      Conn c(port);
      boost::beast::flat_buffer buf;
      for (int i = t; i < kCreates; i += kWriters) {
        http::request<http::string_body> req{http::verb::post, "/api/v1/namespaces/default/configmaps", 11};
        req.set(http::field::host, "127.0.0.1");
        req.set(http::field::authorization, "Bearer " + token);
        req.set(http::field::content_type, "application/json");
        req.body() = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"bench-)" + std::to_string(i) +
                     R"("},"data":{"payload":")" + std::string(512, 'x') + "\"}}";
        req.prepare_payload();
        http::write(*c.stream, req);
        http::response<http::string_body> res;
        http::read(*c.stream, buf, res);
        if (res.result_int() != 201) failures++;
      }
    });
  }
  for (auto& t : writers) t.join();
  const double writeSecs = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& t : watchers) t.join();
  Clock::time_point last = start;
  int delivered = 0;
  for (int w = 0; w < kWatchers; ++w) {
    last = std::max(last, lastSeen[w]);
    delivered += seen[w];
  }
  const double fanoutSecs = std::chrono::duration<double>(last - start).count();
  kill(child, SIGTERM);
  waitpid(child, nullptr, 0);
  std::filesystem::remove_all(dir);
  const double writesPerSec = kCreates / writeSecs;
  std::printf("BENCH localcluster_https_writes target=>=2000/s measured=%.0f/s (%d creates, %d writers, %d failed) %s\n",
              writesPerSec, kCreates, kWriters, failures.load(), writesPerSec >= 2000 && failures == 0 ? "PASS" : "MISS");
  std::printf("BENCH localcluster_watch_fanout target=all %d events to %d watchers measured=%d/%d delivered, last after %.2f s (%.0f events/s) %s\n",
              kCreates, kWatchers, delivered, kCreates * kWatchers, fanoutSecs, delivered / fanoutSecs,
              delivered == kCreates * kWatchers ? "PASS" : "MISS");
  std::printf("bench client peak RSS %ld KiB\n", rss());
  return 0;
}
