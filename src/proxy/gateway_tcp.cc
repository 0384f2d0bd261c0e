// The gateway's connections that are not HTTP: TCP routes (Gateway servers with protocol
// TCP, VirtualService tcp[]), TLS passthrough (tls mode PASSTHROUGH, VirtualService tls[] by
// SNI) and a waypoint's TCP Service ports, relayed as bytes to an endpoint of the route's
// cluster, as Envoy's tcp_proxy filter does behind Istio's gateways and waypoints. Mesh endpoints are reached over HBONE with
// the gateway's identity, so the TLS a passthrough client speaks travels inside mTLS.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <optional>
#include <type_traits>
#include <sys/socket.h>

#include "net/byte_relay.h"
#include "proxy/gateway_helpers.h"
#include "proxy/first_bytes.h"
#include "proxy/gateway_server.h"
#include "proxy/protocol_sniff.h"
#include "proxy/tls_relay_side.h"

namespace weft::proxy {

namespace asio = boost::asio;
using detail::hboneIdentityOf;
using detail::pickWeighted;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// Istio's connectionPool.tcp.idleTimeout when none is set.
constexpr auto kDefaultTcpIdleTimeout = std::chrono::hours(1);

// Room for the largest ClientHello taken and the headers of the records it may come in.
constexpr size_t kPeekBytes = kMaxClientHelloBytes + 1024;

}  // namespace

template <class Socket>
asio::awaitable<ClientHelloScan> GatewayServer::peekClientHello(Socket& socket, std::optional<Clock::duration> silentFor) {
  auto start = Clock::now();
  auto deadline = start + options_.headerTimeout;
  auto silentBy = silentFor ? std::min(deadline, start + *silentFor) : deadline;
  ClientHelloScan scan;
  auto decide = [&](std::string_view bytes) {  // named: see the GCC 12 note in gateway_server.cc
    scan = scanClientHello(bytes);
    return scan.state != ClientHelloScan::State::kNeedMore;
  };
  FirstBytes end = co_await peekFirstBytes(socket, kPeekBytes, silentBy, deadline, decide);
  if (end == FirstBytes::kClosed) co_return ClientHelloScan{ClientHelloScan::State::kRefused, "", "the client closed before its ClientHello ended"};
  if (end == FirstBytes::kFull) co_return ClientHelloScan{ClientHelloScan::State::kRefused, "", "ClientHello spread over too many records"};
  co_return scan;  // decided, or kNeedMore: the caller reports the timeout
}

template asio::awaitable<ClientHelloScan> GatewayServer::peekClientHello(tcp::socket&, std::optional<Clock::duration>);
template asio::awaitable<ClientHelloScan> GatewayServer::peekClientHello(asio::local::stream_protocol::socket&, std::optional<Clock::duration>);

asio::awaitable<bool> GatewayServer::tunnelSpeaksHttp(asio::local::stream_protocol::socket& socket) {
  auto start = Clock::now();
  SniffedProtocol sniffed = SniffedProtocol::kNeedMore;
  auto decide = [&](std::string_view bytes) {
    sniffed = sniffProtocol(bytes);
    return sniffed != SniffedProtocol::kNeedMore;
  };
  FirstBytes end = co_await peekFirstBytes(socket, kMaxSniffBytes, start + kFirstBytesWait, start + options_.headerTimeout, decide);
  switch (end) {
    case FirstBytes::kDecided:
      co_return sniffed == SniffedProtocol::kHttp;
    case FirstBytes::kClosed:  // closed before a byte: the HTTP reader ends it at once, with no upstream opened
    case FirstBytes::kFull:    // cannot happen: a full peek is decided (protocol_sniff.h)
      co_return true;
    default:  // nothing within a second (the server may speak first), or no decision in time
      co_return false;
  }
}

namespace {

using TlsClient = TlsRelaySide::Stream;

int descriptorOf(tcp::socket& socket) { return socket.native_handle(); }
int descriptorOf(asio::local::stream_protocol::socket& socket) { return socket.native_handle(); }
int descriptorOf(TlsClient& stream) { return stream.next_layer().socket().native_handle(); }

// The client's side as the relay takes it: a socket as it is, a terminated TLS stream
// through TlsRelaySide.
// Never throws: it runs raced (`||`) against the byte reporter, which only a relay that
// completes ends.
template <class Client, class Upstream>
asio::awaitable<void> relayClient(Client& client, Upstream& upstream, std::optional<Clock::duration> idleTimeout, net::RelayCounts& counts) {
  try {
    if constexpr (std::is_same_v<Client, TlsClient>) {
      TlsRelaySide side(client);
      co_await net::relayBytes(side, upstream, idleTimeout, counts);
    } else {
      co_await net::relayBytes(client, upstream, idleTimeout, counts);
    }
  } catch (const std::exception& e) {
    spdlog::warn("gateway: TCP relay ended by an exception: {}", e.what());
  }
}

}  // namespace

template <class Socket>
asio::awaitable<void> GatewayServer::relayConnection(Socket socket, std::shared_ptr<const ProxyConfig> config, const CompiledTcpRoute* route,
                                                     Downstream client, uint32_t port) {
  // The client's connection is registered by the session. A relayed connection carries no
  // request to finish: draining leaves it to run until the drain time is up (stop() then
  // shuts it down), as Envoy's tcp_proxy is left to drain.
  DrainHook drainHook(openConnections_, descriptorOf(socket), [] {});
  const std::string& peer = client.address;
  const bool atWaypoint = !client.waypointAuthority.empty();
  auto startSteady = Clock::now();
  RequestRecord record;
  record.start = std::chrono::system_clock::now();
  record.protocol = "-";
  record.requestedServerName = client.sni;  // the SNI a passthrough route was picked by
  record.upstreamServiceTime = "-";
  TcpConnectionRecord tcpRecord;
  if (atWaypoint) tcpRecord.sourcePrincipal = record.sourcePrincipal = client.identity;
  auto finish = [&](std::string flags) {
    record.responseFlags = tcpRecord.responseFlags = std::move(flags);
    record.destinationService = tcpRecord.destinationService;
    record.destinationServiceNamespace = tcpRecord.destinationServiceNamespace;
    record.durationMs = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - startSteady).count());
    metrics_.tcpClosed(tcpRecord);
    writeAccessLog(record);
  };
  // A connection closed before any byte is relayed: counted as opened and closed with `flags`.
  auto refuse = [&](const std::string& flags, const std::string& why) {
    tcpRecord.responseFlags = flags;
    metrics_.tcpOpened(tcpRecord);
    spdlog::info("gateway: TCP client {} closed: {}", peer, why);
    finish(flags);
  };

  // The upstream cluster is picked first only so that a refused connection is reported
  // against the Service it was for.
  std::string clusterName = route == nullptr ? "" : pickWeighted(route->spec.clusters(), route->totalWeight, random_);
  const weft::v1::Cluster* cluster = clusterName.empty() ? nullptr : config->cluster(clusterName);
  tcpRecord.destinationService = cluster != nullptr ? cluster->service_hostname() : "unknown";
  tcpRecord.destinationServiceNamespace = cluster != nullptr ? cluster->service_namespace() : "unknown";

  // AuthorizationPolicy, as Envoy's network RBAC filter runs before tcp_proxy: a denied
  // connection is closed before an endpoint is chosen.
  const WaypointTarget* waypoint = atWaypoint ? config->waypointTarget(client.waypointAuthority) : nullptr;
  const HttpAuthorizer& authorizer = waypoint != nullptr ? waypoint->authorizer : config->authorizer();
  if (!authorizer.empty()) {
    AuthorizationFacts facts{.port = port,
                             .sourceAddress = peer,
                             .destinationAddress = client.localAddress,
                             .peerIdentity = client.identity,
                             .sni = client.sni,
                             .connectionOnly = true};
    AuthorizationDecision decision = authorizer.decide(facts);
    for (const auto& audited : decision.audited) spdlog::info("gateway: AUDIT TCP connection from {} to port {} matched {}", peer, port, audited);
    if (!decision.allowed) {
      ++authorizationDenials_;
      // Counted and logged like any connection (Envoy's network RBAC filter sits after the
      // stats filter and sets no response flag).
      refuse("-", fmt::format("RBAC: access denied{} (port {})", decision.policy.empty() ? "" : " by " + decision.policy, port));
      co_return;
    }
  }

  if (route == nullptr || cluster == nullptr || cluster->endpoints().empty()) {
    refuse(route == nullptr ? "NR" : "UH",
           route == nullptr ? fmt::format("no route for SNI {:?}", client.sni) : "no healthy upstream in " + clusterName);
    co_return;
  }
  ClusterState& state = clusters_[clusterName];
  weft::v1::ConnectionPool limits = cluster->connection_pool();
  if (!state.admitRelay(limits.max_connections())) {
    refuse("UO", fmt::format("{} has its {} connections (connectionPool.tcp.maxConnections)", clusterName, limits.max_connections()));
    co_return;
  }
  struct RelaySlot {
    ClusterState& state;
    ~RelaySlot() { state.relayEnded(); }
  } slot{state};
  std::string endpoint = state.pick(*cluster, std::nullopt, random_, Clock::now());
  Target target;
  target.endpoint = endpoint;
  target.hboneIdentity = hboneIdentityOf(*cluster, endpoint);
  record.upstreamHost = endpoint;
  route = nullptr;

  state.started(endpoint);
  RelayUpstream upstream;
  std::string reason;
  TryStatus opened = co_await openForRelay(upstream, target, limits, reason);
  // The pinned snapshot keeps `cluster` valid across the connect; after it the snapshot is
  // let go, as a relayed connection may outlive many config pushes.
  state.finished(*cluster, endpoint, opened == TryStatus::kOk ? 200 : 503, Clock::now());
  cluster = nullptr;
  config.reset();
  if (opened != TryStatus::kOk) {
    refuse("UF", fmt::format("connecting to {}{} failed{}", endpoint, target.hboneIdentity.empty() ? "" : " (HBONE)",
                             reason.empty() ? "" : ": " + reason));
    co_return;
  }
  metrics_.tcpOpened(tcpRecord);
  // stop() shuts the upstream side down too: a backend that ignores the client's
  // half-close must not keep the relay (and the gateway's shutdown) waiting.
  int upstreamDescriptor = upstream.tunnel ? upstream.tunnel->stream.socket().native_handle() : upstream.tcp->stream.native_handle();
  OpenConnection upstreamRegistered(openConnections_, upstreamDescriptor);
  DrainHook upstreamDrain(openConnections_, upstreamDescriptor, [] {});
  // connectionPool.tcp.idleTimeout: Istio's default is an hour; 0s turns it off.
  std::optional<Clock::duration> idleTimeout;
  if (!limits.tcp_idle_timeout_disabled()) {
    idleTimeout = limits.tcp_idle_timeout_ms() > 0 ? Clock::duration(std::chrono::milliseconds(limits.tcp_idle_timeout_ms()))
                                                   : Clock::duration(kDefaultTcpIdleTimeout);
  }
  // The bytes so far go to the metrics every report interval while the relay runs; what is
  // left, when it ends. The access log line has the whole of it.
  net::RelayCounts counts;
  uint64_t reportedIn = 0, reportedOut = 0;
  auto report = [&]() -> asio::awaitable<void> {
    asio::steady_timer timer(io_);
    while (true) {
      timer.expires_after(options_.tcpReportInterval);
      auto [ec] = co_await timer.async_wait(kUseTuple);
      if (ec) co_return;  // the relay ended
      TcpConnectionRecord progress = tcpRecord;
      progress.bytesReceived = counts.aToB - reportedIn;
      progress.bytesSent = counts.bToA - reportedOut;
      reportedIn = counts.aToB;
      reportedOut = counts.bToA;
      metrics_.tcpBytes(progress);
    }
  };
  // connectionPool.tcp.maxConnectionDuration, counted from the client's connection as
  // Envoy's max_downstream_connection_duration is: when it passes, both sides close.
  bool outlived = false;
  auto lifetime = [&]() -> asio::awaitable<void> {
    asio::steady_timer timer(io_);
    if (limits.max_connection_duration_ms() == 0) {
      timer.expires_at(asio::steady_timer::time_point::max());
    } else {
      timer.expires_at(startSteady + std::chrono::milliseconds(limits.max_connection_duration_ms()));
    }
    auto [ec] = co_await timer.async_wait(kUseTuple);
    outlived = !ec;
  };
  if (upstream.tunnel) {
    co_await (relayClient(socket, upstream.tunnel->stream.socket(), idleTimeout, counts) || report() || lifetime());
  } else {
    co_await (relayClient(socket, static_cast<tcp::socket&>(upstream.tcp->stream), idleTimeout, counts) || report() || lifetime());
  }
  if (counts.idledOut) spdlog::debug("gateway: TCP client {} to {}: idle for the idle timeout: closed", peer, endpoint);
  if (outlived) spdlog::debug("gateway: TCP client {} to {}: open for maxConnectionDuration: closed", peer, endpoint);
  record.bytesReceived = counts.aToB;
  record.bytesSent = counts.bToA;
  tcpRecord.bytesReceived = counts.aToB - reportedIn;
  tcpRecord.bytesSent = counts.bToA - reportedOut;
  finish(outlived ? "DT" : "-");
}

template asio::awaitable<void> GatewayServer::relayConnection(tcp::socket, std::shared_ptr<const ProxyConfig>, const CompiledTcpRoute*,
                                                              Downstream, uint32_t);
template asio::awaitable<void> GatewayServer::relayConnection(asio::local::stream_protocol::socket, std::shared_ptr<const ProxyConfig>,
                                                              const CompiledTcpRoute*, Downstream, uint32_t);
template asio::awaitable<void> GatewayServer::relayConnection(TlsClient, std::shared_ptr<const ProxyConfig>, const CompiledTcpRoute*, Downstream,
                                                              uint32_t);

}  // namespace weft::proxy
