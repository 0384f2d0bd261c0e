#include "proxy/gateway.h"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <future>
#include <thread>

#include "admin/http_endpoints.h"
#include "base/clock.h"
#include "base/descriptor_limit.h"
#include "model/json_access.h"
#include "proxy/config_publisher.h"
#include "proxy/gateway_server.h"
#include "proxy/own_credential.h"
#include "proxy/secret_credentials.h"
#include "proxy/waypoint_listener.h"
#include "tls/spiffe_id.h"
#include "xds/certificate_manager.h"
#include "xds/control_plane_credential.h"
#include "store/local_store.h"
#include "xds/delta_client.h"

namespace weft::proxy {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// The proxy's own counters beside the request metrics, in Prometheus text.
std::string ownCountersText(const GatewayServer& server) {
  return fmt::format(
      "# HELP weft_proxy_upstream_tls_failures_total TLS handshakes to upstream endpoints that failed or met the wrong certificate.\n"
      "# TYPE weft_proxy_upstream_tls_failures_total counter\n"
      "weft_proxy_upstream_tls_failures_total {}\n"
      "# HELP weft_proxy_tls_passthrough_refused_total Connections to TLS-passthrough ports closed before a route: no well-formed "
      "ClientHello, or no route for its SNI.\n"
      "# TYPE weft_proxy_tls_passthrough_refused_total counter\n"
      "weft_proxy_tls_passthrough_refused_total {}\n",
      server.upstreamTlsFailures(), server.passthroughRefused());
}

// The pod's labels decide which Gateways this proxy serves. The runtime writes the pod
// before it starts its processes; a short wait covers a store that lags.
Result<Labels> ownPodLabels(const GatewaySettings& settings) {
  auto store = store::LocalStore::open(settings.store);
  if (!store) return store.error().wrap("the store");
  for (int i = 0; i < 50; ++i) {
    auto pod = store->get({"Pod", settings.podNamespace, settings.podName});
    if (!pod) return pod.error();
    if (*pod) {
      Labels labels;
      for (const auto& [key, value] : (*pod)->labels()) {
        if (value.is_string()) labels[std::string(key)] = std::string(value.get_string());
      }
      return labels;
    }
    std::this_thread::sleep_for(200ms);
  }
  return makeError("pod {}/{} is not in the store", settings.podNamespace, settings.podName);
}

// Runs `work` on the io thread and waits for it, unless the process is stopping.
template <class F>
Result<void> onIoThread(asio::io_context& io, const std::atomic<bool>& stopping, F work) {
  auto task = std::make_shared<std::packaged_task<Status()>>(std::move(work));
  auto result = task->get_future();
  asio::post(io, [task] { (*task)(); });
  while (result.wait_for(100ms) != std::future_status::ready) {
    if (stopping) return makeError("stopping");
  }
  return result.get();
}

// The mesh's trust domain from discovery's MeshConfig; "" until it arrived.
std::string trustDomainOf(const xds::HeldResources& held) {
  auto mesh = held.find(kMeshConfigType);
  if (mesh == held.end()) return "";
  for (const auto& [name, resource] : mesh->second) {
    if (resource.has_mesh_config() && !resource.mesh_config().trust_domain().empty()) return resource.mesh_config().trust_domain();
  }
  return "";
}

}  // namespace

int runGateway(const GatewaySettings& settings) {
  auto credential = xds::loadNodeCredential(settings.store, settings.credentialSecret);
  if (!credential) {
    spdlog::error("{}", credential.error().message);
    return 1;
  }
  auto labels = ownPodLabels(settings);
  if (!labels) {
    spdlog::error("{}", labels.error().message);
    return 1;
  }
  std::string selector;
  for (const auto& [k, v] : *labels) selector += fmt::format("{}{}={}", selector.empty() ? "" : ",", k, v);
  spdlog::info("gateway {}/{} on node {}: serving the Gateways that select {}", settings.podNamespace, settings.podName, settings.nodeName, selector);

  // One thread runs it and every socket and timer is used on it alone: asio can skip the
  // reactor's per-operation locking. Other threads only post to it (the scheduler still locks).
  asio::io_context io(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO);
  SourceWorkload source;
  source.workload = settings.workloadName;
  source.ns = settings.podNamespace;
  auto canonical = labels->find("service.istio.io/canonical-name");
  source.app = canonical != labels->end() ? canonical->second : settings.workloadName;
  const bool waypoint = settings.role == "waypoint";
  if (waypoint) source.reporter = "waypoint";
  RequestMetrics metrics(source);
  ServerOptions serverOptions;
  // An eighth of the descriptors for each kind of idle upstream connection leaves most of
  // them to clients and to connections in use.
  serverOptions.maxIdleUpstream = std::max<size_t>(64, raiseDescriptorLimit() / 8);
  GatewayServer server(io, metrics, serverOptions);
  std::atomic<bool> stopping{false};
  std::atomic<bool> applied{false};

  // Both roles hold a certificate of their own service account, which weftd signs for the
  // node's credential because the pod runs on this node (as for ztunnel): a waypoint
  // terminates HBONE with it, and both send HBONE with it to endpoints in the mesh. The
  // identity needs the trust domain, which arrives with MeshConfig.
  std::unique_ptr<WaypointListener> hboneListener;
  std::atomic<bool> certified{false};
  std::string wantedIdentity;  // discovery's thread only
  if (waypoint) {
    hboneListener = std::make_unique<WaypointListener>(io, server);
    if (auto bound = hboneListener->bind(); !bound) {
      spdlog::error("{}", bound.error().message);
      return 1;
    }
  }
  Labels podLabels = *labels;
  CredentialLoader credentials = secretCredentials(settings.store);
  OwnCredential ownCredential;  // ISTIO_MUTUAL servers present it
  ConfigPublisher publisher({podLabels, credentials, settings.podNamespace, {}, ownCredential.source()},
                            [&](std::shared_ptr<const ProxyConfig> config) {
                              for (const auto& note : config->skipped()) spdlog::warn("gateway: {}", note);
                              asio::post(io, [&server, &applied, config] {
                                server.setConfig(config);
                                applied = true;
                                spdlog::info("gateway: config applied: {} port(s), {} waypoint target(s)", config->ports().size(),
                                             config->waypointTargetCount());
                              });
                            });
  auto certificates = std::make_unique<xds::CertificateManager>(xds::controlPlaneChannel(settings.xdsAddress, *credential), systemClock());
  certificates->onIssued([&](const std::string& identity) {
    auto certificate = certificates->get(identity);
    auto id = tls::SpiffeId::parse(identity);
    if (!certificate || !id) return;
    hbone::TlsCredentials tlsCredentials{certificate->leafAndIntermediatesPem(), certificate->keyPem, certificate->rootPem()};
    // ISTIO_MUTUAL servers take it (and each renewal) on a rebuild; their ports are bound
    // already (proxy_config.h).
    ownCredential.set({tlsCredentials.certChainPem, tlsCredentials.keyPem, tlsCredentials.rootsPem});
    publisher.rebuild();
    asio::post(io, [&, tlsCredentials, identity, trustDomain = id->trustDomain] {
      if (hboneListener != nullptr) {
        if (auto set = hboneListener->setCredentials(tlsCredentials, trustDomain); !set) {
          spdlog::error("{}: {}", settings.role, set.error().message);
          return;
        }
        spdlog::info("waypoint: HBONE on :{} as {}", hboneListener->port(), identity);
      }
      if (auto set = server.setTunnelCredentials(tlsCredentials, identity); !set) {
        spdlog::error("{}: {}", settings.role, set.error().message);
        return;
      }
      metrics.setSourcePrincipal(identity);
      spdlog::info("{}: HBONE to mesh endpoints as {}", settings.role, identity);
      certified = true;
    });
  });
  certificates->start();

  weft::v1::ClientNode node;
  node.set_id(fmt::format("router~{}~{}.{}~{}.svc.cluster.local", settings.instanceIp, settings.podName, settings.podNamespace, settings.podNamespace));
  node.set_node_name(settings.nodeName);
  node.set_role(settings.role);
  xds::DeltaClient::Options options{{kListenerType, kRouteConfigurationType, kClusterType, kMeshConfigType, kRateLimitPolicyType, kHttpAuthorizationType,
                                   kJwtAuthenticationType},
                                  node};
  xds::DeltaClient discovery(
      xds::controlPlaneChannel(settings.xdsAddress, *credential), options,
      [&](const xds::HeldResources& candidate) -> Status {
        auto built = ProxyConfig::build(candidate, podLabels, credentials, settings.podNamespace, {}, ownCredential.source());
        if (!built) return built.error();
        // Binding is part of accepting: a port that cannot be bound NACKs the config.
        auto config = *built;
        return onIoThread(io, stopping, [&server, config] { return server.applyListeners(*config); });
      },
      [&](const xds::HeldResources& held) {
        {
          std::string trustDomain = trustDomainOf(held);
          auto id = tls::SpiffeId::make(trustDomain, settings.podNamespace, settings.serviceAccount);
          if (id && id->uri() != wantedIdentity) {
            wantedIdentity = id->uri();
            spdlog::info("{}: asking weftd for the certificate of {}", settings.role, wantedIdentity);
            certificates->setWanted({wantedIdentity});
          }
        }
        publisher.accepted(held);
      });

  // Ready once config is applied and the certificate is held: before it, mesh endpoints
  // would get plaintext (a gateway) or nothing (a waypoint's HBONE in).
  auto ready = [&] { return discovery.synced() && applied.load() && certified.load(); };
  auto status = admin::HttpEndpoints::bind("0.0.0.0", settings.statusPort,
                                           {{"/healthz/ready", [&] {
                                               return ready() ? admin::HttpAnswer{200, "text/plain", "ready\n"}
                                                              : admin::HttpAnswer{503, "text/plain", "not ready: config not synced or no certificate yet\n"};
                                             }}});
  auto stats = admin::HttpEndpoints::bind("0.0.0.0", settings.statsPort,
                                          {{"/stats/prometheus", [&] {
                                            return admin::HttpAnswer{200, "text/plain; version=0.0.4",
                                                                     metrics.prometheusText() + server.rateLimiter().metrics().prometheusText() +
                                                                         ownCountersText(server)};
                                          }}});
  if (!status || !stats) {
    spdlog::error("{}", (!status ? status.error() : stats.error()).message);
    return 1;
  }
  (*status)->start();
  (*stats)->start();
  discovery.start();

  auto stopNow = [&] {
    if (hboneListener) hboneListener->stop();
    server.stop();
    io.stop();
  };
  asio::signal_set signals(io, SIGTERM, SIGINT);
  asio::steady_timer drainTimer(io);
  auto drainDeadline = std::chrono::steady_clock::now();
  // Looks every 50 ms until the last client connection has gone or the drain time is up.
  std::function<void()> waitForDrain = [&] {
    if (server.openConnections() == 0 || std::chrono::steady_clock::now() >= drainDeadline) {
      spdlog::info("gateway: stopping ({} client connections left)", server.openConnections());
      stopNow();
      return;
    }
    drainTimer.expires_after(std::chrono::milliseconds(50));
    drainTimer.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) waitForDrain();
    });
  };
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    spdlog::info("gateway: draining for up to {} s", settings.terminationDrain.count());
    stopping = true;
    // A waypoint takes no new HBONE connection (clients' ztunnels go to other replicas);
    // tunnels on the open ones are drained with every other client connection.
    if (hboneListener) hboneListener->stop();
    server.drain();
    drainDeadline = std::chrono::steady_clock::now() + settings.terminationDrain;
    waitForDrain();
    // A second signal does not wait.
    signals.async_wait([&](const boost::system::error_code& again, int) {
      if (again) return;
      drainTimer.cancel();
      stopNow();
    });
  });
  spdlog::info("gateway: discovery from {}; readiness :{}, metrics :{}", settings.xdsAddress, settings.statusPort, settings.statsPort);
  io.run();
  // Let the HBONE connections that stop() closed run to their end, so none is destroyed with
  // the io_context after the server whose counters it updates (bounded: timers of other
  // work may keep the context busy).
  io.restart();
  io.run_for(std::chrono::milliseconds(500));
  stopping = true;
  discovery.stop();
  certificates->stop();
  (*status)->stop();
  (*stats)->stop();
  return 0;
}

}  // namespace weft::proxy
