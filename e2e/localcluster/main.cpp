// servicedb-localcluster: the project's envtest and kind in one (e2e/README.md).
//   servicedb-localcluster --data-dir DIR [--port N] [--address 127.0.0.1] [--no-cronjob-schedules] [--fault-* ...] [--node=false]
// Serves the Kubernetes API over HTTPS with a self-signed CA and a bearer token, keeps state in DIR,
// runs pods on its node (e2e/kubelet; root only), writes DIR/kubeconfig once ready, and stops
// cleanly on SIGTERM or SIGINT. Faults on demand (faults.h) come from --fault-* flags and
// POST /admin/faults.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <sstream>
#include <tuple>

#include "e2e/apimachinery/garbage_collector.h"
#include "e2e/apimachinery/store.h"
#include "e2e/kubelet/node.h"
#include "e2e/localcluster/api_server.h"
#include "e2e/localcluster/http_server.h"
#include "e2e/localcluster/restart.h"
#include "e2e/workloads/workloads.h"
#include "operator/backup/crypto_util.h"
#include "operator/core/random.h"
#include "operator/main/flags.h"
#include "operator/pki/pki.h"

namespace fs = std::filesystem;
using namespace sdb;

namespace {

std::string readFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status writeFileAtomic(const fs::path& p, const std::string& content, mode_t mode) {
  const fs::path tmp = p.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << content;
    if (!out) return ioError("cannot write " + tmp.string());
  }
  ::chmod(tmp.c_str(), mode);
  std::error_code ec;
  fs::rename(tmp, p, ec);
  if (ec) return ioError("cannot rename " + tmp.string() + ": " + ec.message());
  return okStatus();
}

// The CA, server certificate and admin token are made once and reused across restarts, so an
// existing kubeconfig keeps working. The server certificate is reissued from the same CA when the
// addresses it must name change (the node adds its bridge and kubernetes.default addresses).
Result<std::pair<pki::KeyPair, pki::KeyPair>> loadOrCreatePki(const fs::path& dir, const std::string& address,
                                                              const std::vector<std::string>& extraIps) {
  pki::ServerCertOptions o;
  o.commonName = "servicedb-localcluster";
  o.dnsNames = {"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local"};
  o.ipAddresses = {"127.0.0.1"};
  if (address != "127.0.0.1" && address != "0.0.0.0") o.ipAddresses.push_back(address);
  o.ipAddresses.insert(o.ipAddresses.end(), extraIps.begin(), extraIps.end());
  o.validity = std::chrono::hours(24 * 3650);
  std::string sans;
  for (const auto& ip : o.ipAddresses) sans += ip + "\n";
  pki::KeyPair ca;
  if (fs::exists(dir / "ca.crt") && fs::exists(dir / "ca.key")) {
    ca = {readFile(dir / "ca.crt"), readFile(dir / "ca.key")};
    if (fs::exists(dir / "server.key") && (!fs::exists(dir / "server.sans") || readFile(dir / "server.sans") == sans)) {
      return std::make_pair(ca, pki::KeyPair{readFile(dir / "server.crt"), readFile(dir / "server.key")});
    }
  } else {
    auto made = pki::createCa({"servicedb-localcluster CA", std::chrono::hours(24 * 3650)});
    if (!made.ok()) return made.error();
    ca = *made;
  }
  auto server = pki::issueServerCert(ca, o);
  if (!server.ok()) return server.error();
  SDB_TRY(writeFileAtomic(dir / "ca.key", ca.privateKeyPem, 0600));
  SDB_TRY(writeFileAtomic(dir / "server.key", server->privateKeyPem, 0600));
  SDB_TRY(writeFileAtomic(dir / "server.crt", server->certificatePem, 0644));
  SDB_TRY(writeFileAtomic(dir / "server.sans", sans, 0644));
  SDB_TRY(writeFileAtomic(dir / "ca.crt", ca.certificatePem, 0644));
  return std::make_pair(ca, *server);
}

Result<std::string> loadOrCreateToken(const fs::path& dir) {
  if (fs::exists(dir / "admin-token")) {
    std::string t = readFile(dir / "admin-token");
    while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
    if (!t.empty()) return t;
  }
  auto t = CryptoRandom::instance().hex(24);
  if (!t.ok()) return t.error();
  SDB_TRY(writeFileAtomic(dir / "admin-token", *t + "\n", 0600));
  return *t;
}

std::string kubeconfig(const std::string& server, const std::string& caPem, const std::string& token) {
  const std::string caData = backup::crypto::toBase64(reinterpret_cast<const uint8_t*>(caPem.data()), caPem.size());
  return "apiVersion: v1\nkind: Config\nclusters:\n- name: servicedb-local\n  cluster:\n    server: " + server +
         "\n    certificate-authority-data: " + caData +
         "\nusers:\n- name: admin\n  user:\n    token: " + token +
         "\ncontexts:\n- name: servicedb-local\n  context:\n    cluster: servicedb-local\n    user: admin\n"
         "    namespace: default\ncurrent-context: servicedb-local\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::string dataDir, address = "127.0.0.1";
  int port = 6443;
  bool fsync = false, runNode = true;
  kubelet::NodeOptions nodeOptions;
  int watchHistory = 20000;
  std::string errorRate = "0", throttleRate = "0", faultSeed;
  int retryAfter = 1, latencyMs = 0, watchCut = 0, restartSeconds = 0;
  std::string matchUserAgent, matchPath;
  bool noControllers = false, noCronSchedules = false;
  cli::FlagSet flags("servicedb-localcluster");
  flags.addString("data-dir", &dataDir, "directory for state, certificates, token and kubeconfig (required)");
  flags.addString("address", &address, "address to listen on");
  flags.addInt("port", &port, "HTTPS port (0: any free port)");
  flags.addBool("fsync", &fsync, "fdatasync every write (survives power loss, not only kill -9)");
  flags.addInt("watch-history", &watchHistory, "watch events kept for resuming; an older resourceVersion gets 410");
  flags.addString("fault-error-rate", &errorRate, "fraction (0-1) of API requests answered 500 InternalError");
  flags.addString("fault-429-rate", &throttleRate, "fraction (0-1) of API requests answered 429 with Retry-After");
  flags.addInt("fault-retry-after-seconds", &retryAfter, "Retry-After of injected 429s");
  flags.addInt("fault-latency-ms", &latencyMs, "latency added before each API request is handled");
  flags.addInt("fault-watch-cut-seconds", &watchCut, "cut every watch after this many seconds, mid-line (0: never)");
  flags.addString("fault-match-user-agent", &matchUserAgent, "fault only requests whose User-Agent contains this");
  flags.addString("fault-match-path", &matchPath, "fault only requests whose path contains this");
  flags.addInt("fault-restart-seconds", &restartSeconds,
               "restart the API server every this many seconds, keeping state: connections and watches dropped, "
               "watch history reset (0: never; POST /admin/restart restarts once)");
  flags.addString("fault-seed", &faultSeed, "seed of the fault dice, for repeatable runs (default: random)");
  flags.addBool("no-workload-controllers", &noControllers,
                "serve the API only: no StatefulSet/Deployment/Job/CronJob/Endpoints/PVC controllers, no scheduling");
  flags.addBool("no-cronjob-schedules", &noCronSchedules, "CronJobs never fire on their schedule (deterministic tests)");
  flags.addBool("node", &runNode, "run pods on a local node (needs root; e2e/README.md)");
  flags.addString("operator-image", &nodeOptions.images.operatorImage, "image name (without tag) that runs build/bin/servicedb-operator");
  flags.addString("operator-binary", &nodeOptions.images.operatorBinary, "the operator binary (default: next to this program)");
  auto parsed = flags.parse(std::vector<std::string>(argv + 1, argv + argc));
  if (!parsed.ok()) {
    std::cerr << parsed.error().message << "\n";
    return 2;
  }
  if (flags.helpRequested()) {
    std::cout << "Usage: servicedb-localcluster --data-dir DIR [flags]\n\n" << flags.usage();
    return 0;
  }
  // The flags go through the same validation as POST /admin/faults, so errors read alike.
  Json faultJson = {{"retryAfterSeconds", retryAfter}, {"latencyMs", latencyMs}, {"watchCutSeconds", watchCut}};
  for (auto [flag, key, text] : {std::tuple{"--fault-error-rate", "errorRate", errorRate},
                                 std::tuple{"--fault-429-rate", "tooManyRequestsRate", throttleRate}}) {
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0') {
      std::cerr << "servicedb-localcluster: " << flag << ": not a number: \"" << text << "\"\n";
      return 2;
    }
    faultJson[key] = v;
  }
  if (!matchUserAgent.empty()) faultJson["match"]["userAgent"] = matchUserAgent;
  if (!matchPath.empty()) faultJson["match"]["path"] = matchPath;
  auto faultSettings = localcluster::parseFaultSettings(faultJson);
  if (!faultSettings.ok()) {
    std::cerr << "servicedb-localcluster: --fault-*: " << faultSettings.error().message << "\n";
    return 2;
  }
  uint64_t seed = std::random_device{}();
  if (!faultSeed.empty()) seed = std::strtoull(faultSeed.c_str(), nullptr, 10);
  localcluster::FaultInjector faults(*faultSettings, seed);
  if (restartSeconds < 0) {
    std::cerr << "servicedb-localcluster: --fault-restart-seconds: must not be negative\n";
    return 2;
  }
  if (watchHistory < 1) {
    std::cerr << "servicedb-localcluster: --watch-history: must be at least 1\n";
    return 2;
  }
  if (dataDir.empty()) {
    std::cerr << "servicedb-localcluster: --data-dir is required\n";
    return 2;
  }
  // Block the stop signals in every thread; the main thread waits for them with sigwait().
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGTERM);
  sigaddset(&stopSignals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  const fs::path dir = fs::absolute(dataDir);
  fs::create_directories(dir);
  fs::remove(dir / "kubeconfig");
  // A start-up step that takes over a second says so, so a slow start (the kernel still tearing
  // down the previous cluster's network namespaces, say) shows where the time went.
  auto stepStart = std::chrono::steady_clock::now();
  auto timed = [&stepStart](const char* step) {
    const auto now = std::chrono::steady_clock::now();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - stepStart).count();
    if (ms >= 1000) std::cerr << "servicedb-localcluster: " << step << " took " << ms << " ms\n";
    stepStart = now;
  };
  std::unique_ptr<kubelet::Node> node;
  if (runNode && ::geteuid() != 0) {
    std::cerr << "servicedb-localcluster: not root, so no node: pods are stored but not run\n";
  } else if (runNode) {
    nodeOptions.dataDir = dir.string();
    nodeOptions.bindPods = noControllers;  // else the workload controllers' scheduler binds pods
    auto prepared = kubelet::Node::prepare(nodeOptions);
    if (!prepared.ok()) {
      std::cerr << "servicedb-localcluster: node: " << prepared.error().message << "\n";
      return 1;
    }
    node = std::move(*prepared);
    timed("preparing the node (network, slot, watchdog)");
  }
  std::vector<std::string> nodeIps;
  if (node) nodeIps = {node->slot().bridgeIp(), node->slot().kubernetesServiceIp()};
  auto certs = loadOrCreatePki(dir, address, nodeIps);
  if (!certs.ok()) {
    std::cerr << "servicedb-localcluster: " << certs.error().message << "\n";
    return 1;
  }
  timed("loading or creating the certificates");
  auto token = loadOrCreateToken(dir);
  if (!token.ok()) {
    std::cerr << "servicedb-localcluster: " << token.error().message << "\n";
    return 1;
  }
  apimachinery::StoreOptions so;
  so.dataDir = (dir / "store").string();
  so.fsyncEveryWrite = fsync;
  so.historyLimit = static_cast<size_t>(watchHistory);
  if (node) so.serviceCidrPrefix = node->slot().serviceCidrPrefix();
  auto store = apimachinery::Store::open(so);
  if (!store.ok()) {
    std::cerr << "servicedb-localcluster: " << store.error().message << "\n";
    return 1;
  }
  for (const char* ns : {"default", "kube-system", "kube-public"}) {
    (void)(*store)->create(kube::resources::kNamespaces, "", {{"metadata", {{"name", ns}}}});
  }
  // kube's bootstrap RBAC policy (rbac_authorizer.h), created when missing as kube-apiserver does.
  for (const auto& [resource, objects] : {std::pair{"clusterroles", apimachinery::bootstrapClusterRoles()},
                                          std::pair{"clusterrolebindings", apimachinery::bootstrapClusterRoleBindings()}}) {
    auto info = (*store)->resolve("rbac.authorization.k8s.io", "v1", resource);
    for (const auto& o : objects) {
      if (info.ok()) (void)(*store)->create(info->ref, "", o);
    }
  }
  timed("opening the store");
  apimachinery::ServiceAccountTokenOptions sto;
  sto.keyFile = (dir / "sa-signing.key").string();
  auto saTokens = apimachinery::ServiceAccountTokens::open(**store, sto);
  if (!saTokens.ok()) {
    std::cerr << "servicedb-localcluster: " << saTokens.error().message << "\n";
    return 1;
  }
  apimachinery::GarbageCollector collector(**store);  // garbage collection and namespace termination
  collector.start();
  // Workload controllers, in-process over the store (e2e/workloads).
  workloads::WorkloadsOptions wo;
  wo.cronSchedules = !noCronSchedules;
  wo.nodeName = nodeOptions.nodeName;  // the scheduler binds pods to the node that runs them
  workloads::Workloads controllers(**store, wo);
  if (!noControllers) {
    auto started = controllers.start();
    if (!started.ok()) {
      std::cerr << "servicedb-localcluster: " << started.error().message << "\n";
      return 1;
    }
  }
  localcluster::HttpsServer server;
  // Pods reach the API server on the bridge address (kubernetes.default DNATs there).
  localcluster::HttpsServer bridgeServer;
  localcluster::Restarter restarter(**store, {&server, &bridgeServer});
  localcluster::ApiServerOptions ao;
  ao.adminToken = *token;
  ao.faults = &faults;
  ao.serviceAccountTokens = saTokens->get();
  ao.podLogs = node.get();
  ao.restart = [&restarter](const localcluster::HttpRequest& r) { return restarter.serveAdmin(r); };
  auto auditLog = localcluster::AuditLog::open((dir / "audit.log").string());
  if (!auditLog.ok()) {
    std::cerr << "servicedb-localcluster: " << auditLog.error().message << "\n";
    return 1;
  }
  ao.audit = auditLog->get();
  localcluster::ApiServer api(**store, ao);
  // One JSON line per request (verb, path, query, code, User-Agent), kept beside the audit log
  // (DIR/audit.log, with identities) for the suites and benchmarks that already read it.
  std::mutex logMu;
  std::ofstream requestLog(dir / "requests.log", std::ios::app);
  auto handler = [&](const localcluster::HttpRequest& r) {
    auto resp = api.handle(r);
    Json line = {{"ts", formatRfc3339(std::chrono::system_clock::now())},
                 {"method", r.method}, {"path", r.path}, {"code", resp.status}};
    if (!r.query.empty()) line["query"] = r.query;
    if (!r.header("user-agent").empty()) line["userAgent"] = r.header("user-agent");
    std::lock_guard<std::mutex> lock(logMu);
    requestLog << line.dump() << "\n";
    requestLog.flush();
    return resp;
  };
  auto started = server.start({address, port, certs->second.certificatePem, certs->second.privateKeyPem}, handler);
  if (!started.ok()) {
    std::cerr << "servicedb-localcluster: " << started.error().message << "\n";
    return 1;
  }
  // Pods reach the API server on the bridge address (kubernetes.default DNATs there), on
  // kube-apiserver's port 6443 when free: egress NetworkPolicies see the port after DNAT, and
  // policies written for real clusters (ours included) allow 443 and 6443.
  if (node) {
    auto onBridge = bridgeServer.start({node->slot().bridgeIp(), 6443, certs->second.certificatePem,
                                        certs->second.privateKeyPem}, handler);
    if (!onBridge.ok()) {
      onBridge = bridgeServer.start({node->slot().bridgeIp(), server.port(), certs->second.certificatePem,
                                     certs->second.privateKeyPem}, handler);
    }
    if (!onBridge.ok()) {
      onBridge = bridgeServer.start({node->slot().bridgeIp(), 0, certs->second.certificatePem, certs->second.privateKeyPem}, handler);
    }
    auto nodeStarted = onBridge.ok() ? node->start(**store, **saTokens, bridgeServer.port(), certs->first.certificatePem) : onBridge;
    if (!nodeStarted.ok()) {
      std::cerr << "servicedb-localcluster: node: " << nodeStarted.error().message << "\n";
      node->stop();
      return 1;
    }
  }
  timed("starting the API server, controllers and node");
  const std::string url = "https://" + (address == "0.0.0.0" ? std::string("127.0.0.1") : address) + ":" +
                          std::to_string(server.port());
  auto wrote = writeFileAtomic(dir / "kubeconfig", kubeconfig(url, certs->first.certificatePem, *token), 0600);
  if (!wrote.ok()) {
    std::cerr << "servicedb-localcluster: " << wrote.error().message << "\n";
    return 1;
  }
  if (restartSeconds > 0) restarter.startPeriodic(std::chrono::seconds(restartSeconds));
  std::cerr << "servicedb-localcluster: serving " << url << "; kubeconfig at " << (dir / "kubeconfig").string() << "\n";
  int sig = 0;
  sigwait(&stopSignals, &sig);
  std::cerr << "servicedb-localcluster: stopping on signal " << sig << "\n";
  restarter.stop();
  api.stop();
  bridgeServer.stop();
  if (node) node->stop();
  server.stop();
  collector.stop();
  controllers.stop();
  return 0;
}
