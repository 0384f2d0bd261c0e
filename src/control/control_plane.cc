#include "control/control_plane.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>
#include <optional>
#include <thread>

#include "control/certificate_service.h"
#include "control/discovery/discovery_server.h"
#include "control/discovery/snapshot.h"
#include "control/gateway_deployer.h"
#include "control/jwks_resolver.h"
#include "admin/http_endpoints.h"
#include "control/mesh_ca.h"
#include "control/mesh_settings.h"
#include "control/registry.h"
#include "control/serving_credential.h"
#include "store/object_cache.h"
#include "store/store_watch.h"
#include "base/time_format.h"

namespace weft::control {

using namespace std::chrono_literals;

namespace {

// Changes closer together than this are pushed as one (a `weft apply` of many objects,
// a pod's status updates in a row).
constexpr auto kDebounce = 100ms;

// How long a push waits for the keys of RequestAuthentication sources it is the first to
// need (control/jwks_resolver.h): the first push after a start, and later ones (a new
// policy, an edited jwksUri), as istiod fetches within the push that needs them.
constexpr auto kFirstKeysWait = 10s;
constexpr auto kNewKeysWait = 5s;

// The tag of the proxy image the gateway deployer renders: weftd's own version.
constexpr const char* kWeftVersion = "0.1.0";

int signalDescriptor() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

// The placements the certificate service checks against, swapped whole on every rebuild.
class Placements {
 public:
  void set(std::vector<PodPlacement> placements) {
    std::lock_guard lock(mutex_);
    placements_ = std::move(placements);
  }
  std::vector<PodPlacement> get() const {
    std::lock_guard lock(mutex_);
    return placements_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<PodPlacement> placements_;
};

struct Gauges {
  std::atomic<size_t> workloads{0};
  std::atomic<size_t> enrolled{0};
  std::atomic<size_t> services{0};
  std::atomic<bool> ready{false};
};

std::string metricsText(const CertificateService& ca, const discovery::DiscoveryServer& xds, const JwksResolver& jwks, const Gauges& gauges) {
  const auto& stats = xds.metrics();
  std::string out;
  auto metric = [&](const char* name, const char* type, const char* help, double value) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, value);
  };
  metric("pilot_xds", "gauge", "Connected discovery clients.", static_cast<double>(stats.connectedClients.load()));
  metric("pilot_xds_pushes", "counter", "Discovery responses sent.", static_cast<double>(stats.pushes.load()));
  metric("pilot_xds_resources_sent", "counter", "Resources sent in discovery responses.", static_cast<double>(stats.resourcesSent.load()));
  metric("pilot_total_xds_rejects", "counter", "Discovery responses NACKed by clients.", static_cast<double>(stats.nacks.load()));
  metric("pilot_xds_push_time_p50_seconds", "gauge", "Median time from a registry change to a client's response.", stats.pushLatency.quantileSeconds(0.5));
  metric("pilot_xds_push_time_p99_seconds", "gauge", "99th percentile of that time.", stats.pushLatency.quantileSeconds(0.99));
  metric("citadel_server_success_cert_issuance_count", "counter", "Certificates issued.", static_cast<double>(ca.issued()));
  metric("citadel_server_csr_refused_count", "counter", "Certificate requests refused.", static_cast<double>(ca.refused()));
  metric("pilot_jwks_resolver_network_fetch_success_total", "counter", "JWKS fetches (jwksUri or OpenID discovery) that worked.",
         static_cast<double>(jwks.fetchesSucceeded()));
  metric("pilot_jwks_resolver_network_fetch_fail_total", "counter", "JWKS fetches that failed.", static_cast<double>(jwks.fetchesFailed()));
  metric("weftd_registry_workloads", "gauge", "Workloads in the registry.", static_cast<double>(gauges.workloads.load()));
  metric("weftd_registry_enrolled_workloads", "gauge", "Workloads in the mesh.", static_cast<double>(gauges.enrolled.load()));
  metric("weftd_registry_services", "gauge", "Services and ServiceEntry hosts in the registry.", static_cast<double>(gauges.services.load()));
  return out;
}

std::shared_ptr<const discovery::Snapshot> snapshotOf(RegistryBuild& build, uint64_t sequence) {
  discovery::SnapshotBuilder builder;
  for (auto& [type, resources] : build.resources) {
    for (auto& [name, resource] : resources) {
      if (auto status = builder.add(std::move(resource)); !status) spdlog::error("registry: {}: {}", name, status.error().message);
    }
  }
  return std::move(builder).build(sequence);
}

}  // namespace

int runControlPlane(const ControlPlaneSettings& settings) {
  // Before any thread starts (gRPC's, the JWKS resolver's): threads inherit the mask, so
  // SIGTERM reaches only the signalfd and shutdown is always the orderly one.
  int signals = signalDescriptor();
  std::string revision = settings.revision.empty() ? "default" : settings.revision;
  auto store = store::LocalStore::open(settings.store);
  if (!store) {
    spdlog::error("{}", store.error().message);
    return 1;
  }
  auto mesh = loadMeshConfig(*store, revision == "default" ? "" : revision);
  if (!mesh) {
    spdlog::error("{}", mesh.error().message);
    return 1;
  }
  auto ca = loadMeshCa(*store, mesh->trust_domain(), systemClock());
  if (!ca) {
    spdlog::error("mesh CA: {}", ca.error().message);
    return 1;
  }
  auto caBundle = std::make_shared<ca::CaBundle>(std::move(*ca));
  spdlog::info("revision {}: trust domain {}, outbound traffic {}, CA {}", revision, mesh->trust_domain(),
               mesh->outbound_traffic_policy(), caBundle->layout == ca::CaLayout::kSelfSigned ? "self-signed (istio-ca-secret)" : "plug-in (cacerts)");
  auto serving = issueServingCredential(*caBundle, controlPlaneDnsNames(revision == "default" ? "" : revision), systemClock());
  if (!serving) {
    spdlog::error("{}", serving.error().message);
    return 1;
  }

  auto jwksSettings = JwksResolver::fromEnvironment(getenv("PILOT_JWT_PUB_KEY_REFRESH_INTERVAL"), getenv("BLOCKED_CIDRS_IN_JWKS_URIS"));
  for (const auto& warning : jwksSettings.warnings) spdlog::warn("{}", warning);
  JwksResolver jwks(std::move(jwksSettings));
  Placements placements;
  Gauges gauges;
  CertificateService certificates(caBundle, mesh->trust_domain(), [&placements] { return placements.get(); }, systemClock());
  discovery::DiscoveryServer discovery;

  grpc::SslServerCredentialsOptions tls(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  tls.pem_root_certs = caBundle->rootPem();
  tls.pem_key_cert_pairs.push_back({serving->keyPem, serving->certChainPem});
  grpc::ServerBuilder builder;
  int boundPort = 0;
  builder.AddListeningPort(fmt::format("{}:{}", settings.address, settings.grpcPort), grpc::SslServerCredentials(tls), &boundPort);
  builder.RegisterService(&certificates);
  builder.RegisterService(&discovery);
  auto grpcServer = builder.BuildAndStart();
  if (!grpcServer || boundPort == 0) {
    spdlog::error("cannot listen on {}:{} for gRPC", settings.address, settings.grpcPort);
    return 1;
  }
  auto status = admin::HttpEndpoints::bind(settings.address, settings.statusPort,
                                    {{"/ready", [&gauges] {
                                        return gauges.ready ? admin::HttpAnswer{200, "text/plain", "ready\n"} : admin::HttpAnswer{503, "text/plain", "not ready\n"};
                                      }},
                                     {"/healthz/ready", [&gauges] {
                                        return gauges.ready ? admin::HttpAnswer{200, "text/plain", "ready\n"} : admin::HttpAnswer{503, "text/plain", "not ready\n"};
                                      }}});
  auto monitoring = admin::HttpEndpoints::bind(settings.address, settings.monitoringPort,
                                        {{"/metrics", [&] { return admin::HttpAnswer{200, "text/plain; version=0.0.4", metricsText(certificates, discovery, jwks, gauges)}; }},
                                         {"/version", [] { return admin::HttpAnswer{200, "text/plain", "0.1.0\n"}; }}});
  if (!status || !monitoring) {
    spdlog::error("{}", (!status ? status.error() : monitoring.error()).message);
    return 1;
  }

  auto watch = store->watch();
  if (!watch) {
    spdlog::error("watching the store: {}", watch.error().message);
    return 1;
  }
  store::ObjectCache cache;
  // The registry's kinds, then the gateway deployer's (control/gateway_deployer.h).
  std::vector<std::string> kinds = registryKinds();
  for (const auto& kind : gatewayDeployerKinds()) {
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) kinds.push_back(kind);
  }
  RegistrySettings registrySettings{revision, "Kubernetes", *mesh, {}};
  uint64_t sequence = 0;
  // A push waits, a bounded time, for the first fetch of each RequestAuthentication source
  // it needs, as istiod fetches keys before the push that needs them: a restarted weftd
  // must not send the proxies rules without the keys they had, nor an edited jwksUri a
  // rule without keys. Other changes wait with it (as in istiod); never past the deadline.
  // Set while a build is held.
  std::optional<std::chrono::steady_clock::time_point> keysDeadline;
  // Returns whether it published.
  auto rebuild = [&] {
    ObjectsByKind objects;
    for (const auto& kind : kinds) objects[kind] = cache.list(kind);
    registrySettings.jwks = jwks.results();
    auto build = buildRegistry(objects, registrySettings);
    jwks.want(build.jwksSources);
    // Decided on the keys this build read (a fetch ending meanwhile is the next build's):
    // a source whose first fetch ended has an entry, keys or a failure.
    bool keysTried = std::all_of(build.jwksSources.begin(), build.jwksSources.end(),
                                 [&](const JwksSource& source) { return registrySettings.jwks.contains(source.key()); });
    if (!keysTried) {
      if (!keysDeadline) keysDeadline = std::chrono::steady_clock::now() + (gauges.ready ? kNewKeysWait : kFirstKeysWait);
      if (std::chrono::steady_clock::now() < *keysDeadline) return false;
    }
    keysDeadline.reset();
    for (const auto& note : build.notes) spdlog::debug("registry: {}", note);
    gauges.workloads = build.resources[kWorkloadType].size();
    gauges.services = build.resources[kServiceType].size();
    gauges.enrolled = build.enrolledWorkloads;
    placements.set(std::move(build.placements));
    // Read before the snapshot takes the resources: the Ingress status follows it.
    weft::v1::MeshConfig liveMesh = build.resources[kMeshConfigType]["mesh"].mesh_config();
    if (auto published = discovery.publish(snapshotOf(build, ++sequence)); !published) {
      spdlog::error("publishing the registry: {}", published.error().message);
    }
    // Gateway API Gateways get their proxies, they and their routes their status; the writes
    // come back through the watch and the next pass finds nothing left to do.
    applyGatewayDeployment(*store, planGatewayDeployment(objects, revision, kWeftVersion, formatRfc3339(std::chrono::system_clock::now()),
                                                         build.gatewayApiProblems, liveMesh));
    return true;
  };

  status->get()->start();
  monitoring->get()->start();
  bool dirty = true;
  auto lastChange = std::chrono::steady_clock::now() - kDebounce;
  spdlog::info("weftd {} serving: gRPC {}:{}, readiness {}, metrics {}", revision, settings.address, boundPort, settings.statusPort,
               settings.monitoringPort);
  while (true) {
    auto wait = dirty ? std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(lastChange + kDebounce - std::chrono::steady_clock::now()).count())
                      : 5000;
    if (keysDeadline) {
      wait = std::min<int64_t>(wait, std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                                *keysDeadline - std::chrono::steady_clock::now()).count()));
    }
    pollfd fds[3] = {{signals, POLLIN, 0}, {(*watch)->fd(), POLLIN, 0}, {jwks.changedFd(), POLLIN, 0}};
    int n = poll(fds, 3, static_cast<int>(wait));
    if (n < 0 && errno != EINTR) break;
    if (fds[0].revents & POLLIN) break;
    if (fds[1].revents & POLLIN || !gauges.ready) {
      auto events = (*watch)->next(0ms);
      if (events) {
        for (const auto& event : *events) {
          const auto& kind = event.object.key().kind;
          if (std::find(kinds.begin(), kinds.end(), kind) != kinds.end()) {
            cache.apply(event);
            dirty = true;
            lastChange = std::chrono::steady_clock::now();
          }
        }
      }
    }
    if (fds[2].revents & POLLIN) {
      // Keys fetched (or a first failure): rebuild so the proxies get them.
      jwks.takeChange();
      if (!dirty) lastChange = std::chrono::steady_clock::now() - kDebounce;
      dirty = true;
    }
    // The wait for keys is over: publish with what there is.
    if (keysDeadline && std::chrono::steady_clock::now() >= *keysDeadline) dirty = true;
    if (dirty && std::chrono::steady_clock::now() >= lastChange + kDebounce) {
      dirty = false;
      bool published = rebuild();
      if (published && !gauges.ready) {
        spdlog::info("registry built: ready");
        gauges.ready = true;
      }
    }
  }
  spdlog::info("weftd {} stopping", revision);
  discovery.shutdown();
  grpcServer->Shutdown(std::chrono::system_clock::now() + 2s);
  status->get()->stop();
  monitoring->get()->stop();
  return 0;
}

}  // namespace weft::control
