// weftd's config push at the issue's scale: a registry of 10,000 pods and 1,000 Services,
// 100 discovery clients subscribed to everything, and `changes` single-pod changes. For
// each change: the time from the store change (the start of weftd's rebuild) until every
// client holds the changed Workload; weftd's memory per workload; weftd's CPU per push.
//
// Two processes, so weftd's figures are weftd's alone: the parent is weftd (object cache,
// registry rebuild exactly as control_plane.cc does it, DiscoveryServer on 127.0.0.1), the
// child forked at start (before gRPC or any thread exists) runs the N DiscoveryTestClients.
// They talk over two pipes, one line per message; timestamps are steady_clock
// (CLOCK_MONOTONIC, the same clock in both processes).
//
// The peer, measured in the same run: "send the world", a server that answers every change
// by serializing the whole snapshot for every client (N x SerializeToString of every type's
// full response). It is a lower bound on that design's cost (no gRPC framing, no writes, no
// client parsing); the initial sync, which does send the world through gRPC, is printed too.
//
// One warm-up change precedes the `changes` measured (see the loop for why).
//
// Every wait is bounded by --timeout (default 300 s); exceeding it fails with a message.
//
// Usage: weftd_discovery_bench [--pods 10000] [--services 1000] [--clients 100] [--changes 20]
//                              [--timeout 300] [--tls]
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "ca/ca_bundle.h"
#include "control/discovery/discovery_server.h"
#include "control/discovery/discovery_test_client.h"
#include "control/discovery/snapshot.h"
#include "control/node_credential.h"
#include "control/registry.h"
#include "control/serving_credential.h"
#include "model/kinds.h"
#include "model/object.h"
#include "store/object_cache.h"

namespace weft::bench {
namespace {

namespace json = boost::json;
using control::discovery::DiscoveryServer;
using control::discovery::DiscoveryTestClient;
using control::discovery::Snapshot;
using control::discovery::SnapshotBuilder;
using Steady = std::chrono::steady_clock;
using State = DiscoveryTestClient::State;

constexpr int kNamespaces = 10;
constexpr int kNodes = 10;
const char* const kTypes[] = {control::kWorkloadType, control::kServiceType, control::kAuthorizationType,
                              control::kMeshConfigType};

struct Options {
  int pods = 10000;
  int services = 1000;
  int clients = 100;
  int changes = 20;
  int timeoutSeconds = 300;
  bool tls = false;
};

pid_t childPid = 0;  // the clients' process, killed on any failure

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "weftd_discovery_bench: FAILED: %s\n", what.c_str());
  std::fflush(stderr);
  if (childPid > 0) kill(childPid, SIGKILL);
  _exit(1);  // not exit(): a gRPC server with open streams would wait in its destructor
}

void onAlarm(int) {
  const char message[] = "weftd_discovery_bench: FAILED: overall timeout exceeded\n";
  (void)!write(2, message, sizeof message - 1);
  if (childPid > 0) kill(childPid, SIGKILL);
  _exit(3);
}

int64_t nowNs() { return std::chrono::duration_cast<std::chrono::nanoseconds>(Steady::now().time_since_epoch()).count(); }

double threadCpuMs() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

struct Cpu {
  double userMs = 0, systemMs = 0;
  double total() const { return userMs + systemMs; }
};

Cpu processCpu() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto ms = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_usec) / 1e3; };
  return {ms(u.ru_utime), ms(u.ru_stime)};
}

int64_t maxRssKb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

int64_t rssBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

// RSS (what the kernel charges, including memory malloc freed but keeps) and the live heap
// (bytes malloc has handed out and not had back, every arena).
struct Memory {
  int64_t rss = 0, heap = 0;
  Memory operator-(const Memory& o) const { return {rss - o.rss, heap - o.heap}; }
};

Memory memoryNow() {
  struct mallinfo2 m = mallinfo2();
  return {rssBytes(), static_cast<int64_t>(m.uordblks + m.hblkhd)};
}

double mib(int64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

// Nearest-rank quantile of a sample (with 20 samples, p99 is the maximum).
double quantile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

// One line per message over a pair of pipes, every read bounded by a deadline.
class Pipe {
 public:
  Pipe(int in, int out) : in_(in), out_(out) {}
  void send(const std::string& line) {
    std::string data = line + "\n";
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = write(out_, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail("writing to the other process: " + std::string(strerror(errno)));
      done += static_cast<size_t>(n);
    }
  }
  std::string receive(Steady::time_point deadline, const char* waitingFor) {
    while (true) {
      if (auto end = buffer_.find('\n'); end != std::string::npos) {
        std::string line = buffer_.substr(0, end);
        buffer_.erase(0, end + 1);
        if (line.starts_with("fail ")) fail(line.substr(5));
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now()).count();
      if (left <= 0) fail(std::string("timed out waiting for ") + waitingFor);
      pollfd p{in_, POLLIN, 0};
      int ready = poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000)));
      if (ready < 0 && errno != EINTR) fail("poll: " + std::string(strerror(errno)));
      if (ready <= 0) continue;
      char chunk[4096];
      ssize_t n = read(in_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail(std::string("the other process went away while waiting for ") + waitingFor);
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  int in_, out_;
  std::string buffer_;
};

// ---------------------------------------------------------------------------------------
// The synthetic cluster: objects shaped as the API server returns them (managedFields left
// out), built as typed JSON directly, the way the store's decoder would hold them.

std::string nsName(int i) { return "bench-" + std::to_string(i); }
std::string serviceName(int s) { return "svc-" + std::to_string(s); }
int namespaceOfService(int s) { return s % kNamespaces; }
std::string ipv4(uint32_t base, uint32_t n) {
  uint32_t a = base + n;
  return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}
std::string fakeUid(const char* kind, int n) { return fmt::format("{:08x}-{}-4000-8000-{:012x}", n, kind[0] == 'P' ? "a0d1" : "5e7c", n); }

const model::KindInfo& kindOf(const char* kind) {
  const model::KindInfo* info = model::findKind("v1", kind);
  if (info == nullptr) fail(std::string("no kind ") + kind + " in the catalogue");
  return *info;
}

model::Object makeNamespace(int i) {
  json::object metadata{{"name", nsName(i)},
                        {"uid", fakeUid("Namespace", i)},
                        {"resourceVersion", "1"},
                        {"creationTimestamp", "2026-11-27T10:00:00Z"},
                        {"labels", json::object{{"istio.io/dataplane-mode", "ambient"},
                                                {"kubernetes.io/metadata.name", nsName(i)}}}};
  json::object value{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", std::move(metadata)},
                     {"spec", json::object{{"finalizers", json::array{"kubernetes"}}}},
                     {"status", json::object{{"phase", "Active"}}}};
  return model::Object(&kindOf("Namespace"), std::move(value));
}

model::Object makeService(int s) {
  std::string ip = ipv4(0x0A600000u, static_cast<uint32_t>(s) + 10);  // 10.96.0.0/12
  json::object metadata{{"name", serviceName(s)},
                        {"namespace", nsName(namespaceOfService(s))},
                        {"uid", fakeUid("Service", s)},
                        {"resourceVersion", "1"},
                        {"creationTimestamp", "2026-11-27T10:00:00Z"},
                        {"labels", json::object{{"app", serviceName(s)}}}};
  json::array ports{json::object{{"name", "http"}, {"port", 80}, {"targetPort", 8080}, {"protocol", "TCP"}},
                    json::object{{"name", "grpc"}, {"port", 9090}, {"targetPort", "grpc"}, {"protocol", "TCP"}}};
  json::object spec{{"type", "ClusterIP"},
                    {"clusterIP", ip},
                    {"clusterIPs", json::array{ip}},
                    {"ipFamilies", json::array{"IPv4"}},
                    {"ipFamilyPolicy", "SingleStack"},
                    {"internalTrafficPolicy", "Cluster"},
                    {"sessionAffinity", "None"},
                    {"selector", json::object{{"app", serviceName(s)}}},
                    {"ports", std::move(ports)}};
  json::object value{{"apiVersion", "v1"}, {"kind", "Service"}, {"metadata", std::move(metadata)},
                     {"spec", std::move(spec)}, {"status", json::object{{"loadBalancer", json::object{}}}}};
  return model::Object(&kindOf("Service"), std::move(value));
}

json::array conditions(bool ready) {
  json::array out;
  for (const char* type : {"PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"}) {
    bool isReadiness = std::string_view(type) == "Ready" || std::string_view(type) == "ContainersReady";
    out.push_back(json::object{{"type", type},
                               {"status", !isReadiness || ready ? "True" : "False"},
                               {"lastProbeTime", nullptr},
                               {"lastTransitionTime", "2026-11-27T10:00:05Z"}});
  }
  return out;
}

model::Object makePod(int p, int services) {
  int s = p % services;
  std::string app = serviceName(s);
  std::string hash = fmt::format("{:010x}", 0x5f7c9b0000ull + static_cast<uint64_t>(s)).substr(0, 10);
  std::string name = fmt::format("{}-{}-{:05x}", app, hash, p);
  std::string ip = ipv4(0x0A000000u, static_cast<uint32_t>(p) + 2);  // 10.0.0.0/16 and up
  std::string node = "node-" + std::to_string(p % kNodes);
  std::string tokenVolume = fmt::format("kube-api-access-{:05x}", p);
  json::object metadata{
      {"name", name},
      {"generateName", app + "-" + hash + "-"},
      {"namespace", nsName(namespaceOfService(s))},
      {"uid", fakeUid("Pod", p)},
      {"resourceVersion", "1"},
      {"creationTimestamp", "2026-11-27T10:00:00Z"},
      {"labels", json::object{{"app", app}, {"version", "v1"}, {"pod-template-hash", hash}}},
      {"ownerReferences", json::array{json::object{{"apiVersion", "apps/v1"},
                                                   {"kind", "ReplicaSet"},
                                                   {"name", app + "-" + hash},
                                                   {"uid", fakeUid("ReplicaSet", s)},
                                                   {"controller", true},
                                                   {"blockOwnerDeletion", true}}}}};
  json::object container{
      {"name", "app"},
      {"image", "docker.io/kong/httpbin:0.1.0"},
      {"imagePullPolicy", "IfNotPresent"},
      {"ports", json::array{json::object{{"name", "http"}, {"containerPort", 8080}, {"protocol", "TCP"}},
                            json::object{{"name", "grpc"}, {"containerPort", 9090}, {"protocol", "TCP"}}}},
      {"resources", json::object{{"requests", json::object{{"cpu", "100m"}, {"memory", "128Mi"}}}}},
      {"terminationMessagePath", "/dev/termination-log"},
      {"terminationMessagePolicy", "File"},
      {"volumeMounts", json::array{json::object{{"name", tokenVolume},
                                                {"mountPath", "/var/run/secrets/kubernetes.io/serviceaccount"},
                                                {"readOnly", true}}}}};
  json::object spec{
      {"containers", json::array{std::move(container)}},
      {"dnsPolicy", "ClusterFirst"},
      {"enableServiceLinks", true},
      {"nodeName", node},
      {"preemptionPolicy", "PreemptLowerPriority"},
      {"priority", 0},
      {"restartPolicy", "Always"},
      {"schedulerName", "default-scheduler"},
      {"securityContext", json::object{}},
      {"serviceAccount", app},
      {"serviceAccountName", app},
      {"terminationGracePeriodSeconds", 30},
      {"tolerations", json::array{json::object{{"key", "node.kubernetes.io/not-ready"}, {"operator", "Exists"},
                                               {"effect", "NoExecute"}, {"tolerationSeconds", 300}},
                                  json::object{{"key", "node.kubernetes.io/unreachable"}, {"operator", "Exists"},
                                               {"effect", "NoExecute"}, {"tolerationSeconds", 300}}}},
      {"volumes", json::array{json::object{
                      {"name", tokenVolume},
                      {"projected", json::object{{"defaultMode", 420},
                                                 {"sources", json::array{json::object{{"serviceAccountToken",
                                                                                       json::object{{"expirationSeconds", 3607},
                                                                                                    {"path", "token"}}}}}}}}}}}};
  json::object status{
      {"phase", "Running"},
      {"hostIP", ipv4(0xC0A80000u, static_cast<uint32_t>(p % kNodes) + 2)},
      {"podIP", ip},
      {"podIPs", json::array{json::object{{"ip", ip}}}},
      {"qosClass", "Burstable"},
      {"startTime", "2026-11-27T10:00:01Z"},
      {"conditions", conditions(true)},
      {"containerStatuses",
       json::array{json::object{{"name", "app"},
                                {"ready", true},
                                {"started", true},
                                {"restartCount", 0},
                                {"image", "docker.io/kong/httpbin:0.1.0"},
                                {"imageID", "docker.io/kong/httpbin@sha256:" + std::string(64, 'a')},
                                {"containerID", fmt::format("containerd://{:064x}", p)},
                                {"state", json::object{{"running", json::object{{"startedAt", "2026-11-27T10:00:04Z"}}}}}}}}};
  json::object value{{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", std::move(metadata)},
                     {"spec", std::move(spec)}, {"status", std::move(status)}};
  return model::Object(&kindOf("Pod"), std::move(value));
}

// The change: the pod's readiness flips (what a failing readiness probe does), which
// changes its Workload's `healthy` and nothing else.
model::Object flipReadiness(const model::Object& pod) {
  model::Object changed = pod;
  auto& status = changed.mutableValue().as_object()["status"].as_object();
  bool ready = false;
  for (const auto& c : status["conditions"].as_array()) {
    if (c.at("type").as_string() == "Ready") ready = c.at("status").as_string() == "True";
  }
  status["conditions"] = conditions(!ready);
  status["containerStatuses"].as_array()[0].as_object()["ready"] = !ready;
  auto& metadata = changed.mutableMetadata();
  metadata["resourceVersion"] = std::to_string(std::stoll(std::string(metadata["resourceVersion"].as_string())) + 1);
  return changed;
}

// ---------------------------------------------------------------------------------------
// weftd's side.

// As control_plane.cc's snapshotOf (not exported from there).
std::shared_ptr<const Snapshot> snapshotOf(control::RegistryBuild& build, uint64_t sequence) {
  SnapshotBuilder builder;
  for (auto& [type, resources] : build.resources) {
    for (auto& [name, resource] : resources) {
      if (auto status = builder.add(std::move(resource)); !status) fail("snapshot: " + name + ": " + status.error().message);
    }
  }
  return std::move(builder).build(sequence);
}

struct Rebuild {
  std::shared_ptr<const Snapshot> snapshot;
  size_t workloads = 0, services = 0, enrolled = 0;
  double listMs = 0, registryMs = 0, snapshotMs = 0, freeMs = 0, cpuMs = 0;
  double wallMs() const { return listMs + registryMs + snapshotMs + freeMs; }
};

// What weftd's rebuild lambda does (control_plane.cc), timed in parts. The CPU time
// includes freeing the copies of the objects and the build.
Rebuild rebuild(const store::ObjectCache& cache, const control::RegistrySettings& settings, uint64_t sequence) {
  Rebuild out;
  double cpu0 = threadCpuMs();
  auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
  Steady::time_point t3;
  {
    auto t0 = Steady::now();
    control::ObjectsByKind objects;
    for (const auto& kind : control::registryKinds()) objects[kind] = cache.list(kind);
    auto t1 = Steady::now();
    auto build = control::buildRegistry(objects, settings);
    auto t2 = Steady::now();
    out.workloads = build.resources[control::kWorkloadType].size();
    out.services = build.resources[control::kServiceType].size();
    out.enrolled = build.enrolledWorkloads;
    out.snapshot = snapshotOf(build, sequence);
    t3 = Steady::now();
    out.listMs = ms(t1 - t0);
    out.registryMs = ms(t2 - t1);
    out.snapshotMs = ms(t3 - t2);
  }  // the copies of the objects are freed here, as at the end of weftd's rebuild lambda
  out.freeMs = ms(Steady::now() - t3);
  out.cpuMs = threadCpuMs() - cpu0;
  return out;
}

struct PeerResult {
  int rounds = 0;
  double wallMsPerChange = 0, cpuMsPerChange = 0;
  uint64_t bytesPerChange = 0;
};

// Send the world: every change answered by each type's full response serialized for every
// client. Bounded to `changes` rounds and to 60 s.
PeerResult sendTheWorld(const Snapshot& snapshot, int clients, int changes) {
  PeerResult out;
  auto budgetEnd = Steady::now() + std::chrono::seconds(60);
  double cpu0 = threadCpuMs();
  auto t0 = Steady::now();
  uint64_t bytes = 0;
  std::string buffer;
  for (int round = 0; round < changes && Steady::now() < budgetEnd; ++round) {
    std::vector<weft::v1::DeltaResponse> world;
    for (const char* type : kTypes) {
      weft::v1::DeltaResponse& response = world.emplace_back();
      response.set_type_url(type);
      response.set_system_version_info(snapshot.version());
      if (const auto* resources = snapshot.resources(type)) {
        for (const auto& [name, resource] : *resources) *response.add_resources() = resource;
      }
    }
    for (int c = 0; c < clients; ++c) {
      for (auto& response : world) {
        response.set_nonce(fmt::format("{}-{}", c, round));
        buffer.clear();
        if (!response.SerializeToString(&buffer)) fail("peer: serialization failed");
        bytes += buffer.size();
      }
    }
    ++out.rounds;
  }
  if (out.rounds == 0) return out;
  out.wallMsPerChange = std::chrono::duration<double, std::milli>(Steady::now() - t0).count() / out.rounds;
  out.cpuMsPerChange = (threadCpuMs() - cpu0) / out.rounds;
  out.bytesPerChange = bytes / static_cast<uint64_t>(out.rounds);
  return out;
}

// ---------------------------------------------------------------------------------------
// The clients' process.

struct Tally {
  uint64_t responses = 0, resources = 0, bytes = 0;
};

// Counts what each client received since the last call (read under the client's lock).
Tally tallyNew(std::vector<std::unique_ptr<DiscoveryTestClient>>& clients, std::vector<size_t>& seen) {
  Tally t;
  for (size_t i = 0; i < clients.size(); ++i) {
    clients[i]->waitUntil(
        [&](const State& s) {
          for (size_t k = seen[i]; k < s.responses.size(); ++k) {
            ++t.responses;
            t.resources += static_cast<uint64_t>(s.responses[k].resources_size());
            t.bytes += s.responses[k].ByteSizeLong();
          }
          seen[i] = s.responses.size();
          return true;
        },
        std::chrono::milliseconds(0));
  }
  return t;
}

size_t countOf(const State& s, const char* type) {
  auto it = s.resources.find(type);
  return it == s.resources.end() ? 0 : it->second.size();
}

int runClients(Pipe& weftd, const Options& options, const ca::CaBundle* ca, Steady::time_point deadline) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  spdlog::set_level(spdlog::level::warn);
  std::istringstream start(weftd.receive(deadline, "the start line"));
  std::string word;
  int port = 0;
  size_t workloads = 0, services = 0;
  start >> word >> port >> workloads >> services;
  if (word != "start") fail("clients: unexpected line from weftd: " + word);

  std::vector<std::unique_ptr<DiscoveryTestClient>> clients;
  std::string target = fmt::format("127.0.0.1:{}", port);
  for (int i = 0; i < options.clients; ++i) {
    grpc::ChannelArguments arguments;
    arguments.SetMaxReceiveMessageSize(-1);  // the initial Workload response is past gRPC's 4 MB default
    std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
    std::string node = fmt::format("bench-node-{}", i);
    if (ca != nullptr) {
      auto credential = control::issueNodeCredential(*ca, node, systemClock());
      if (!credential) fail("clients: node credential: " + credential.error().message);
      grpc::SslCredentialsOptions tls;
      tls.pem_root_certs = ca->rootPem();
      tls.pem_cert_chain = credential->certChainPem;
      tls.pem_private_key = credential->keyPem;
      credentials = grpc::SslCredentials(tls);
      arguments.SetSslTargetNameOverride("istiod.istio-system.svc");
    }
    weft::v1::ClientNode clientNode;
    clientNode.set_id("ztunnel~" + node);
    clientNode.set_node_name(node);
    clientNode.set_role("ztunnel");
    clients.push_back(std::make_unique<DiscoveryTestClient>(
        DiscoveryTestClient::makeChannel(target, credentials, arguments), clientNode));
  }
  int64_t t0 = nowNs();
  for (auto& client : clients) {
    client->connect();
    for (const char* type : kTypes) client->subscribe(type, {"*"});
  }
  auto checkStream = [&](size_t i) {
    std::optional<std::string> ended;
    clients[i]->waitUntil([&](const State& s) { if (s.ended) ended = s.ended->error_message(); return true; },
                          std::chrono::milliseconds(0));
    if (ended) fail(fmt::format("clients: client {} lost its stream: {}", i, *ended));
  };
  auto left = [&] { return std::max(std::chrono::milliseconds(0), std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now())); };
  for (size_t i = 0; i < clients.size(); ++i) {
    bool ok = clients[i]->waitUntil(
        [&](const State& s) {
          return s.ended || (s.responses.size() >= std::size(kTypes) && countOf(s, control::kWorkloadType) == workloads &&
                             countOf(s, control::kServiceType) == services && countOf(s, control::kMeshConfigType) == 1);
        },
        left());
    checkStream(i);
    if (!ok) fail(fmt::format("clients: client {} did not receive the initial state in time", i));
  }
  int64_t t1 = nowNs();
  std::vector<size_t> seen(clients.size(), 0);
  Tally initial = tallyNew(clients, seen);
  double cpuAtReady = processCpu().total();
  weftd.send(fmt::format("ready {} {} {} {} {}", t0, t1, initial.responses, initial.resources, initial.bytes));

  int expected = 0;
  while (true) {
    std::istringstream line(weftd.receive(deadline, "the next change"));
    line >> word;
    if (word == "stop") break;
    std::string name, version;
    line >> name >> version;
    for (size_t i = 0; i < clients.size(); ++i) {
      bool ok = clients[i]->waitUntil(
          [&](const State& s) {
            if (s.ended) return true;
            const auto* r = s.find(control::kWorkloadType, name);
            return r != nullptr && r->version() == version;
          },
          left());
      checkStream(i);
      if (!ok) fail(fmt::format("clients: client {} did not receive {} version {} in time", i, name, version));
    }
    int64_t done = nowNs();
    Tally t = tallyNew(clients, seen);
    weftd.send(fmt::format("got {} {} {} {}", done, t.responses, t.resources, t.bytes));
    if (++expected == 1) cpuAtReady = processCpu().total();  // the warm-up change is not counted
  }
  double changeCpuMs = processCpu().total() - cpuAtReady;
  int64_t rss = rssBytes();
  clients.clear();
  weftd.send(fmt::format("bye {} {} {}", changeCpuMs, maxRssKb(), rss));
  return 0;
}

// ---------------------------------------------------------------------------------------

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto number = [&](int& into) {
      if (i + 1 >= argc) fail(arg + " needs a number");
      char* end = nullptr;
      long value = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || value <= 0 || value > 10'000'000) fail(arg + ": not a positive number: " + argv[i]);
      into = static_cast<int>(value);
    };
    if (arg == "--pods") number(o.pods);
    else if (arg == "--services") number(o.services);
    else if (arg == "--clients") number(o.clients);
    else if (arg == "--changes") number(o.changes);
    else if (arg == "--timeout") number(o.timeoutSeconds);
    else if (arg == "--tls") o.tls = true;
    else if (arg == "-h" || arg == "--help") {
      std::printf("usage: %s [--pods 10000] [--services 1000] [--clients 100] [--changes 20] [--timeout 300] [--tls]\n", argv[0]);
      std::exit(0);
    } else {
      fail("unknown argument " + arg + " (try --help)");
    }
  }
  if (o.services > o.pods) fail("--services must not exceed --pods (every Service selects at least one pod)");
  return o;
}

int run(int argc, char** argv) {
  Options options = parse(argc, argv);
  auto deadline = Steady::now() + std::chrono::seconds(options.timeoutSeconds);
  signal(SIGALRM, onAlarm);
  alarm(static_cast<unsigned>(options.timeoutSeconds + 30));  // backstop should a wait not be bounded
  spdlog::set_level(spdlog::level::warn);

  // TLS material is made before the fork, so the clients' process has the CA to issue its
  // node credentials from (it is the mesh CA both sides trust).
  std::unique_ptr<ca::CaBundle> ca;
  if (options.tls) {
    auto made = ca::makeSelfSignedCa("cluster.local", systemClock());
    if (!made) fail("CA: " + made.error().message);
    ca = std::make_unique<ca::CaBundle>(std::move(*made));
  }

  int toClients[2], toWeftd[2];
  if (pipe(toClients) != 0 || pipe(toWeftd) != 0) fail("pipe: " + std::string(strerror(errno)));
  childPid = fork();
  if (childPid < 0) fail("fork: " + std::string(strerror(errno)));
  if (childPid == 0) {
    childPid = 0;
    close(toClients[1]);
    close(toWeftd[0]);
    Pipe weftd(toClients[0], toWeftd[1]);
    _exit(runClients(weftd, options, ca.get(), deadline));
  }
  close(toClients[0]);
  close(toWeftd[1]);
  Pipe clients(toWeftd[0], toClients[1]);

  // weftd from here on.
  Memory rssStart = memoryNow();
  store::ObjectCache cache;
  size_t objectBytes = 0;
  std::vector<model::ObjectKey> podKeys;
  for (int i = 0; i < kNamespaces; ++i) cache.put(makeNamespace(i));
  for (int s = 0; s < options.services; ++s) cache.put(makeService(s));
  for (int p = 0; p < options.pods; ++p) {
    model::Object pod = makePod(p, options.services);
    objectBytes += json::serialize(pod.value()).size();
    podKeys.push_back(pod.key());
    cache.put(pod);
  }
  Memory rssObjects = memoryNow();

  control::RegistrySettings settings;
  settings.revision = "default";
  settings.mesh.set_trust_domain("cluster.local");
  settings.mesh.set_root_namespace("istio-system");
  settings.mesh.set_outbound_traffic_policy("ALLOW_ANY");
  uint64_t sequence = 0;
  Rebuild first = rebuild(cache, settings, ++sequence);
  if (first.workloads != static_cast<size_t>(options.pods) || first.enrolled != first.workloads ||
      first.services != static_cast<size_t>(options.services)) {
    fail(fmt::format("the registry has {} workloads ({} enrolled) and {} services; expected {} and {}", first.workloads,
                     first.enrolled, first.services, options.pods, options.services));
  }
  {
    const auto& w = first.snapshot->resources(control::kWorkloadType)->begin()->second.workload();
    if (w.services_size() != 1 || !w.healthy()) fail("a workload does not back exactly one Service, or is not healthy");
  }

  DiscoveryServer discovery;
  grpc::ServerBuilder builder;
  int port = 0;
  std::shared_ptr<grpc::ServerCredentials> serverCredentials = grpc::InsecureServerCredentials();
  if (ca) {
    auto serving = control::issueServingCredential(*ca, control::controlPlaneDnsNames(""), systemClock());
    if (!serving) fail("serving credential: " + serving.error().message);
    grpc::SslServerCredentialsOptions tls(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);  // as weftd
    tls.pem_root_certs = ca->rootPem();
    tls.pem_key_cert_pairs.push_back({serving->keyPem, serving->certChainPem});
    serverCredentials = grpc::SslServerCredentials(tls);
  }
  builder.AddListeningPort("127.0.0.1:0", serverCredentials, &port);
  builder.RegisterService(&discovery);
  auto server = builder.BuildAndStart();
  if (!server || port == 0) fail("cannot start the gRPC server on 127.0.0.1");
  if (auto published = discovery.publish(first.snapshot); !published) fail(published.error().message);
  first.snapshot.reset();  // the server holds it, as in weftd
  Memory rssServing = memoryNow();

  clients.send(fmt::format("start {} {} {}", port, first.workloads, first.services));
  std::istringstream ready(clients.receive(deadline, "the clients' initial state"));
  std::string word;
  int64_t syncStart = 0, syncEnd = 0;
  Tally initial;
  ready >> word >> syncStart >> syncEnd >> initial.responses >> initial.resources >> initial.bytes;
  const auto& metrics = discovery.metrics();
  auto waitFor = [&](const char* what, const std::function<bool()>& condition) {
    while (!condition()) {
      if (Steady::now() > deadline) fail(std::string("timed out waiting for ") + what);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  };
  const uint64_t clientCount = static_cast<uint64_t>(options.clients);
  waitFor("the initial ACKs", [&] { return metrics.acks.load() >= clientCount * std::size(kTypes); });
  Memory rssClients = memoryNow();

  // The changes.
  std::vector<double> endToEnd, rebuildMs, publishToAll, listMs, registryMs, snapshotMs, freeMs;
  double rebuildCpuMs = 0;
  Tally pushed;
  uint64_t pushes0 = 0, sent0 = 0;
  Cpu cpu0;
  double mainCpu0 = 0, warmUpMs = 0;
  // Change -1 is a warm-up, not counted: on it every client's reader clears the message it
  // reuses, still holding the whole initial Workload response (a test-client cost that
  // lands in the clients' process on the same two cores, not weftd's).
  for (int c = -1; c < options.changes; ++c) {
    if (c == 0) {
      pushes0 = metrics.pushes;
      sent0 = metrics.resourcesSent;
      cpu0 = processCpu();
      mainCpu0 = threadCpuMs();
    }
    uint64_t acksBefore = metrics.acks;
    const model::ObjectKey& key = podKeys[(static_cast<size_t>(c + 1) * 7919u) % podKeys.size()];
    int64_t t0 = nowNs();
    cache.put(flipReadiness(*cache.get(key)));  // the watch event landing in weftd's cache
    Rebuild r = rebuild(cache, settings, ++sequence);
    std::string uid = fmt::format("Kubernetes//Pod/{}/{}", key.ns, key.name);
    const weft::v1::Resource* changed = r.snapshot->find(control::kWorkloadType, uid);
    if (changed == nullptr) fail("the changed workload " + uid + " is not in the snapshot");
    std::string version = changed->version();
    int64_t tPublish = nowNs();
    if (auto published = discovery.publish(r.snapshot); !published) fail(published.error().message);
    clients.send(fmt::format("expect {} {}", uid, version));
    std::istringstream got(clients.receive(deadline, "every client to receive the change"));
    int64_t done = 0;
    Tally t;
    got >> word >> done >> t.responses >> t.resources >> t.bytes;
    // The ACKs are part of a push's cost: wait for them before the next change.
    waitFor("the ACKs of a change", [&] { return metrics.acks.load() >= acksBefore + clientCount; });
    if (c < 0) {
      warmUpMs = static_cast<double>(done - t0) / 1e6;
      continue;
    }
    pushed.responses += t.responses;
    pushed.resources += t.resources;
    pushed.bytes += t.bytes;
    endToEnd.push_back(static_cast<double>(done - t0) / 1e6);
    rebuildMs.push_back(r.wallMs());
    publishToAll.push_back(static_cast<double>(done - tPublish) / 1e6);
    listMs.push_back(r.listMs);
    registryMs.push_back(r.registryMs);
    snapshotMs.push_back(r.snapshotMs);
    freeMs.push_back(r.freeMs);
    rebuildCpuMs += r.cpuMs;
  }
  Cpu cpu1 = processCpu();
  double mainCpuMs = threadCpuMs() - mainCpu0;
  waitFor("the server's push counters", [&] { return metrics.pushes.load() >= pushes0 + clientCount * static_cast<uint64_t>(options.changes); });
  uint64_t serverPushes = metrics.pushes - pushes0, serverSent = metrics.resourcesSent - sent0;
  Memory rssAfter = memoryNow();
  int64_t peakKb = maxRssKb();

  clients.send("stop");
  std::istringstream bye(clients.receive(deadline, "the clients to leave"));
  double clientChangeCpuMs = 0;
  int64_t clientPeakKb = 0, clientRss = 0;
  bye >> word >> clientChangeCpuMs >> clientPeakKb >> clientRss;
  int status = 0;
  waitpid(childPid, &status, 0);
  childPid = 0;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("the clients' process failed");

  PeerResult peer = sendTheWorld(*discovery.current(), options.clients, options.changes);
  double serverP50 = metrics.pushLatency.quantileSeconds(0.5) * 1e3, serverP99 = metrics.pushLatency.quantileSeconds(0.99) * 1e3;
  discovery.shutdown();
  server->Shutdown();

  // The report.
  const double changes = options.changes, n = options.clients, pods = options.pods;
  double cpuPerChange = (cpu1.total() - cpu0.total()) / changes;
  double rebuildCpuPerChange = rebuildCpuMs / changes;
  double mainCpuPerChange = mainCpuMs / changes;
  double pushCpuPerChange = cpuPerChange - mainCpuPerChange;
  double incrementalBytesPerChange = static_cast<double>(pushed.bytes) / changes;
  double bytesPerWorkload = static_cast<double>((rssClients - rssStart).rss) / pods;
  auto row = [](const char* what, const std::vector<double>& v) {
    std::printf("| %s | %.1f | %.1f | %.1f |\n", what, quantile(v, 0.5), quantile(v, 0.99), *std::max_element(v.begin(), v.end()));
  };
  std::printf("weftd discovery: %d pods, %d services, %d clients, %d changes, %s, %u cores\n\n", options.pods,
              options.services, options.clients, options.changes, options.tls ? "mutual TLS" : "insecure (no TLS)",
              std::thread::hardware_concurrency());
  std::printf("registry: %zu workloads (all enrolled), %zu services; mean pod JSON %zu bytes\n", first.workloads,
              first.services, objectBytes / static_cast<size_t>(options.pods));
  std::printf("first build: list %.0f ms + registry %.0f ms + snapshot %.0f ms + freeing %.0f ms\n", first.listMs,
              first.registryMs, first.snapshotMs, first.freeMs);
  std::printf("initial sync of %d clients: %.2f s, %.1f MiB sent (%.2f MiB/client, %llu resources/client)\n\n",
              options.clients, static_cast<double>(syncEnd - syncStart) / 1e9, mib(static_cast<int64_t>(initial.bytes)),
              mib(static_cast<int64_t>(initial.bytes)) / n, static_cast<unsigned long long>(initial.resources / clientCount));
  std::printf("| per change (ms, over %d) | p50 | p99 | max |\n|---|---|---|---|\n", options.changes);
  row("store change -> every client has it", endToEnd);
  row("  rebuild + snapshot (weftd main thread)", rebuildMs);
  row("    of which copying objects from the cache", listMs);
  row("    of which buildRegistry", registryMs);
  row("    of which snapshot (versions)", snapshotMs);
  row("    of which freeing the copies", freeMs);
  row("  publish -> every client has it", publishToAll);
  std::printf("each change, end to end / buildRegistry (ms):");
  for (size_t i = 0; i < endToEnd.size(); ++i) std::printf(" %.0f/%.0f", endToEnd[i], registryMs[i]);
  std::printf("\n");
  std::printf("warm-up change (not counted): %.0f ms end to end\n", warmUpMs);
  std::printf("server push latency histogram (publish -> write, all streams, warm-up included): p50 %.1f ms, p99 %.1f ms\n\n",
              serverP50, serverP99);

  std::printf("| push | value |\n|---|---|\n");
  std::printf("| responses per client per change | %.2f |\n", static_cast<double>(pushed.responses) / (changes * n));
  std::printf("| resources per client per change (client count / server count) | %.2f / %.2f |\n",
              static_cast<double>(pushed.resources) / (changes * n), static_cast<double>(serverSent) / (changes * n));
  std::printf("| server responses written per change | %.1f |\n", static_cast<double>(serverPushes) / changes);
  std::printf("| bytes per client per change | %.0f |\n", incrementalBytesPerChange / n);
  std::printf("| weftd CPU per change (user+sys, all threads) | %.1f ms |\n", cpuPerChange);
  std::printf("|   main thread: rebuild + snapshot | %.1f ms |\n", rebuildCpuPerChange);
  std::printf("|   main thread: the rest (store event, publish, freeing the old snapshot) | %.1f ms |\n",
              mainCpuPerChange - rebuildCpuPerChange);
  std::printf("|   gRPC and stream threads: push (diff, serialize, write, ACKs) | %.1f ms, %.3f ms per client |\n",
              pushCpuPerChange, pushCpuPerChange / n);
  std::printf("| clients' CPU per change (other process, not weftd) | %.1f ms |\n", clientChangeCpuMs / changes);
  std::printf("\n");

  std::printf("| peer: send the world (%d rounds) | weftd incremental | send the world | ratio |\n|---|---|---|---|\n", peer.rounds);
  std::printf("| bytes per change, all clients | %.0f | %llu | %.2e |\n", incrementalBytesPerChange,
              static_cast<unsigned long long>(peer.bytesPerChange), incrementalBytesPerChange / static_cast<double>(peer.bytesPerChange));
  std::printf("| push CPU per change (ms; peer: serialization only) | %.1f | %.1f | %.4f |\n", pushCpuPerChange,
              peer.cpuMsPerChange, pushCpuPerChange / peer.cpuMsPerChange);
  std::printf("| all weftd CPU per change (ms; peer: weftd's main thread + serialization) | %.1f | %.1f | %.3f |\n",
              cpuPerChange, mainCpuPerChange + peer.cpuMsPerChange, cpuPerChange / (mainCpuPerChange + peer.cpuMsPerChange));
  std::printf("\n");

  std::printf("| weftd memory | RSS MiB | RSS bytes/workload | live heap MiB | live heap bytes/workload |\n|---|---|---|---|---|\n");
  auto memory = [&](const std::string& what, Memory m) {
    std::printf("| %s | %.1f | %.0f | %.1f | %.0f |\n", what.c_str(), mib(m.rss), static_cast<double>(m.rss) / pods,
                mib(m.heap), static_cast<double>(m.heap) / pods);
  };
  memory("process before objects (baseline)", rssStart);
  memory("+ objects in the cache", rssObjects - rssStart);
  memory("+ registry, snapshot, server (no clients)", rssServing - rssObjects);
  Memory streams = rssClients - rssServing;
  memory(fmt::format("+ {} client streams ({:.0f} / {:.0f} bytes per workload per client)", options.clients,
                     static_cast<double>(streams.rss) / pods / n, static_cast<double>(streams.heap) / pods / n),
         streams);
  memory("= weftd above baseline, clients connected", rssClients - rssStart);
  memory("after the changes, above baseline", rssAfter - rssStart);
  std::printf("peak RSS (whole run, baseline included): %.1f MiB\n", static_cast<double>(peakKb) / 1024.0);
  std::printf("clients' process (not weftd): RSS %.0f MiB with everything received, peak %.0f MiB\n\n", mib(clientRss),
              static_cast<double>(clientPeakKb) / 1024.0);

  double p99 = quantile(endToEnd, 0.99);
  std::printf("targets: p99 store change -> every client %.0f ms (< 1000 ms: %s); %.0f RSS bytes per workload above baseline (< 2048: %s)\n",
              p99, p99 < 1000 ? "met" : "NOT met", bytesPerWorkload, bytesPerWorkload < 2048 ? "met" : "NOT met");
  std::fflush(stdout);
  return 0;
}

}  // namespace
}  // namespace weft::bench

int main(int argc, char** argv) { return weft::bench::run(argc, argv); }
