#include "ztunnel/inpod_proxy.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include "hbone/relay.h"
#include "hbone/tls_context.h"
#include "net/netns_socket.h"
#include "net/original_destination.h"
#include "ztunnel/l4_policy.h"
#include "ztunnel/outbound_route.h"
#include "ztunnel/peer_facts.h"
#include "net/byte_relay.h"

namespace weft::ztunnel {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::use_awaitable;

constexpr uint16_t kHbonePort = 15008;

// Sockets ztunnel owns must never be dialled by an app: a loop through ztunnel itself.
bool isZtunnelPort(uint32_t port) { return port == 15001 || port == 15006 || port == 15008; }

Result<tcp::acceptor> listenIn(asio::io_context& io, int netns, uint16_t port, net::Transparency transparent) {
  net::ListenOptions options;
  options.bind = {Ipv4Address{0}, port};
  options.transparent = transparent;
  auto fd = net::listenInNetns(netns, options);
  if (!fd) return fd.error().wrap(fmt::format("listening on {}", port));
  boost::system::error_code ec;
  tcp::acceptor acceptor(io);
  acceptor.assign(tcp::v4(), fd->release(), ec);
  if (ec) return makeError("listening on {}: {}", port, ec.message());
  return acceptor;
}

tcp::endpoint toEndpoint(Ipv4Address address, uint32_t port) {
  return {asio::ip::address_v4(address.value), static_cast<unsigned short>(port)};
}

Ipv4Address fromAsio(const asio::ip::address& address) {
  return address.is_v4() ? Ipv4Address{address.to_v4().to_uint()} : Ipv4Address{0};
}

std::string endpointText(const tcp::endpoint& e) { return fmt::format("{}:{}", e.address().to_string(), e.port()); }

// Ends the app's connection with a reset, as Istio's ztunnel does when it cannot proxy
// (the app already saw the connect succeed: only a reset tells it something went wrong).
void resetSocket(tcp::socket& socket) {
  boost::system::error_code ec;
  socket.set_option(asio::socket_base::linger(true, 0), ec);
  socket.close(ec);
}

}  // namespace

InpodProxy::InpodProxy(asio::io_context& io, ProxyContext& context, PodInfo pod, net::UniqueFd netns)
    : io_(io),
      context_(context),
      pod_(std::move(pod)),
      netns_(std::move(netns)),
      outbound_(io),
      inboundPlain_(io),
      inboundHbone_(io),
      pool_(io.get_executor(), hbone::PoolOptions{}, context.hbone) {}

InpodProxy::~InpodProxy() { stop(); }

Result<std::shared_ptr<InpodProxy>> InpodProxy::start(asio::io_context& io, ProxyContext& context, PodInfo pod, net::UniqueFd netns) {
  std::shared_ptr<InpodProxy> proxy(new InpodProxy(io, context, std::move(pod), std::move(netns)));
  // The capture rules are the node agent's (as istio-cni's are): it installs them before
  // handing the pod over and removes them when the pod leaves. Two writers of the same
  // rules would race.
  auto outbound = listenIn(io, proxy->netns_.get(), net::kOutboundPort, net::Transparency::kOff);
  if (!outbound) return outbound.error();
  auto plain = listenIn(io, proxy->netns_.get(), net::kInboundPlaintextPort, net::Transparency::kBestEffort);
  if (!plain) return plain.error();
  auto hbone = listenIn(io, proxy->netns_.get(), net::kInboundHbonePort, net::Transparency::kBestEffort);
  if (!hbone) return hbone.error();
  proxy->outbound_ = std::move(*outbound);
  proxy->inboundPlain_ = std::move(*plain);
  proxy->inboundHbone_ = std::move(*hbone);
  asio::co_spawn(io, proxy->acceptLoop(proxy->outbound_, &InpodProxy::handleOutbound), asio::detached);
  asio::co_spawn(io, proxy->acceptLoop(proxy->inboundPlain_, &InpodProxy::handleInboundPlaintext), asio::detached);
  asio::co_spawn(io, proxy->acceptLoop(proxy->inboundHbone_, &InpodProxy::handleHbone), asio::detached);
  return proxy;
}

void InpodProxy::stopAccepting() {
  boost::system::error_code ec;
  outbound_.close(ec);
  inboundPlain_.close(ec);
  inboundHbone_.close(ec);
  openHbone_->goAway();
}

void InpodProxy::stop() {
  if (stopped_) return;
  stopped_ = true;
  stopAccepting();
  auto cancels = std::move(cancels_);
  for (auto& [id, cancel] : cancels) cancel();
  pool_.closeAll();
}

uint64_t InpodProxy::track(std::function<void()> cancel) {
  uint64_t id = ++nextId_;
  cancels_.emplace(id, std::move(cancel));
  return id;
}

asio::awaitable<void> InpodProxy::acceptLoop(tcp::acceptor& acceptor, Handler handler) {
  auto self = shared_from_this();
  while (!stopped_) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec) {
      if (stopped_ || ec == asio::error::operation_aborted) co_return;
      spdlog::warn("pod {}/{}: accept: {}", pod_.ns, pod_.name, ec.message());
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(io_, (this->*handler)(std::move(socket)), asio::detached);
  }
}

PeerFacts InpodProxy::selfFacts(const ConfigSnapshot& config) const {
  if (const auto* self = config.workloadAt(pod_.address)) return workloadFacts(*self, pod_.address.str());
  PeerFacts facts = unknownPeer(pod_.address.str());
  facts.ns = pod_.ns;
  facts.workload = pod_.name;
  facts.principal = pod_.identity(config.trustDomain());
  return facts;
}

void InpodProxy::finish(ConnectionReport& report) {
  context_.metrics.closed(report);
  spdlog::info("access {}", accessLogLine(report));
}

asio::awaitable<std::shared_ptr<const WorkloadCertificate>> InpodProxy::certificate() {
  auto deadline = std::chrono::steady_clock::now() + context_.certificateWait;
  asio::steady_timer timer(io_);
  while (true) {
    if (auto cert = context_.certificates.get(pod_.identity(context_.config.get()->trustDomain()))) co_return cert;
    if (std::chrono::steady_clock::now() >= deadline) co_return nullptr;
    timer.expires_after(std::chrono::milliseconds(50));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
  }
}

Result<std::shared_ptr<asio::ssl::context>> InpodProxy::serverTls(const WorkloadCertificate& cert) {
  if (cert.serial != tlsSerial_ || !serverTls_ || !clientTls_) {
    hbone::TlsCredentials credentials{cert.leafAndIntermediatesPem(), cert.keyPem, cert.rootPem()};
    auto server = hbone::makeServerTlsContext(credentials);
    if (!server) return server.error();
    auto client = hbone::makeClientTlsContext(credentials);
    if (!client) return client.error();
    serverTls_ = *server;
    clientTls_ = *client;
    tlsSerial_ = cert.serial;
  }
  return serverTls_;
}

Result<std::shared_ptr<asio::ssl::context>> InpodProxy::clientTls(const WorkloadCertificate& cert) {
  if (auto made = serverTls(cert); !made) return made.error();
  return clientTls_;
}

asio::awaitable<Result<tcp::socket>> InpodProxy::connectFromPod(tcp::endpoint destination, std::optional<Ipv4Address> source) {
  net::ConnectOptions options;
  options.source = source;
  auto fd = net::connectSocketInNetns(netns_.get(), options);
  if (!fd && source) {
    // Without IP_TRANSPARENT the app sees ztunnel's own address instead of the client's:
    // worse telemetry in the app, but the connection still works.
    options.source.reset();
    fd = net::connectSocketInNetns(netns_.get(), options);
  }
  if (!fd) co_return fd.error();
  tcp::socket socket(io_);
  boost::system::error_code ec;
  socket.assign(tcp::v4(), fd->release(), ec);
  if (ec) co_return makeError("socket: {}", ec.message());
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(io_);
  timer.expires_after(context_.connectTimeout);
  boost::system::error_code timerEc;
  auto outcome = co_await (socket.async_connect(destination, asio::redirect_error(use_awaitable, ec)) ||
                           timer.async_wait(asio::redirect_error(use_awaitable, timerEc)));
  if (outcome.index() == 1) co_return makeError("connecting to {}: timed out", endpointText(destination));
  if (ec) co_return makeError("connecting to {}: {}", endpointText(destination), ec.message());
  socket.set_option(tcp::no_delay(true), ec);
  co_return std::move(socket);
}

asio::awaitable<void> InpodProxy::handleOutbound(tcp::socket socket) {
  auto self = shared_from_this();
  auto config = context_.config.get();
  boost::system::error_code ec;
  auto peer = socket.remote_endpoint(ec);
  auto original = net::originalDestination(socket.native_handle());
  if (!original || isZtunnelPort(original->port)) {
    context_.metrics.count("weft_ztunnel_outbound_refused_total", original ? "ztunnel_port" : "no_original_destination");
    resetSocket(socket);
    co_return;
  }
  ConnectionReport report;
  report.reporter = "source";
  report.direction = "outbound";
  report.source = selfFacts(*config);
  report.source.address = endpointText(peer);
  report.destination = unknownPeer(original->str());
  OutboundRoute route = routeOutbound(*config, original->address, original->port, context_.roundRobin++);
  if (route.workload != nullptr) report.destination = workloadFacts(*route.workload, fmt::format("{}:{}", route.address.str(), route.port));
  if (route.service != nullptr) {
    report.destinationService = route.service->service.hostname();
    report.destinationServiceName = route.service->service.name();
    report.destinationServiceNamespace = route.service->service.namespace_();
  }
  if (route.kind == OutboundRoute::Kind::kRefused) {
    report.responseFlags = route.responseFlag;
    report.error = route.reason;
    context_.metrics.count("weft_ztunnel_outbound_refused_total", route.responseFlag);
    context_.metrics.opened(report);
    finish(report);
    resetSocket(socket);
    co_return;
  }
  context_.metrics.opened(report);
  tcp::socket* app = &socket;
  if (route.kind == OutboundRoute::Kind::kPassthrough) {
    co_await relayPlain(socket, toEndpoint(route.address, route.port), std::nullopt, report);
    co_return;
  }
  auto cert = co_await certificate();
  if (!cert) {
    report.responseFlags = "CERT";
    report.error = fmt::format("no certificate for {} yet", pod_.identity(config->trustDomain()));
    finish(report);
    resetSocket(socket);
    co_return;
  }
  auto tls = clientTls(*cert);
  if (!tls) {
    report.error = tls.error().message;
    finish(report);
    resetSocket(socket);
    co_return;
  }
  hbone::ConnectTarget target;
  target.sourceIdentity = cert->identity;
  target.destinationIdentity = route.expectedIdentities.empty() ? "" : route.expectedIdentities.front();
  target.destinationIp = asio::ip::address_v4(route.address.value);
  target.peer = toEndpoint(route.address, kHbonePort);
  target.authority = route.authority;
  target.headers = hboneRequestHeaders(config->workloadAt(pod_.address), report.source.address, report.destinationService,
                                       context_.clusterName);
  target.tls = *tls;
  target.expectedServerIds = route.expectedIdentities;
  int netns = netns_.get();
  target.makeSocket = [netns](const asio::any_io_executor& executor, const tcp::endpoint&) -> Result<tcp::socket> {
    auto fd = net::connectSocketInNetns(netns, net::ConnectOptions{});
    if (!fd) return fd.error();
    tcp::socket s(executor);
    boost::system::error_code ec;
    s.assign(tcp::v4(), fd->release(), ec);
    if (ec) return makeError("socket: {}", ec.message());
    return s;
  };
  auto stream = co_await pool_.connect(std::move(target));
  if (!stream) {
    report.responseFlags = stream.status() == 401 ? "DENY" : "CONNECT";
    report.error = stream.error().message;
    finish(report);
    resetSocket(socket);
    co_return;
  }
  report.mutualTls = true;
  hbone::HboneStream* tunnel = stream.value().get();
  uint64_t id = track([app, tunnel] {
    boost::system::error_code ignored;
    app->close(ignored);
    tunnel->reset(0x8 /* CANCEL */);
  });
  auto result = co_await hbone::relay(socket, *tunnel);
  untrack(id);
  report.requestBytes = result.socketToStream;
  report.responseBytes = result.streamToSocket;
  if (!result.ok()) report.error = result.error;
  finish(report);
}

asio::awaitable<void> InpodProxy::handleInboundPlaintext(tcp::socket socket) {
  auto self = shared_from_this();
  auto config = context_.config.get();
  boost::system::error_code ec;
  auto peer = socket.remote_endpoint(ec);
  auto original = net::originalDestination(socket.native_handle());
  if (!original || isZtunnelPort(original->port)) {
    context_.metrics.count("weft_ztunnel_inbound_refused_total", "no_original_destination");
    resetSocket(socket);
    co_return;
  }
  ConnectionReport report;
  report.reporter = "destination";
  report.direction = "inbound";
  report.source = unknownPeer(endpointText(peer));
  if (const auto* source = config->workloadAt(fromAsio(peer.address()))) {
    report.source = workloadFacts(*source, endpointText(peer));
    report.source.principal = "unknown";  // plaintext proves no identity
  }
  report.destination = selfFacts(*config);
  report.destination.address = original->str();
  const auto* self_ = config->workloadAt(pod_.address);
  if (self_ != nullptr) {
    auto decision = evaluateL4Policy(*config, *self_, {"", fromAsio(peer.address()), original->address, original->port});
    if (!decision.allowed) {
      report.responseFlags = "DENY";
      report.error = decision.reason;
      context_.metrics.count("weft_ztunnel_inbound_refused_total", "policy");
      context_.metrics.opened(report);
      finish(report);
      resetSocket(socket);
      co_return;
    }
  }
  context_.metrics.opened(report);
  co_await relayPlain(socket, toEndpoint(original->address, original->port), fromAsio(peer.address()), report);
}

asio::awaitable<void> InpodProxy::relayPlain(tcp::socket& socket, tcp::endpoint destination, std::optional<Ipv4Address> source,
                                            ConnectionReport& report) {
  auto upstream = co_await connectFromPod(destination, source);
  if (!upstream) {
    report.responseFlags = "UF";
    report.error = upstream.error().message;
    finish(report);
    resetSocket(socket);
    co_return;
  }
  tcp::socket* app = &socket;
  tcp::socket* up = &*upstream;
  uint64_t id = track([app, up] {
    boost::system::error_code ignored;
    app->close(ignored);
    up->close(ignored);
  });
  auto counts = co_await net::relayBytes(socket, *upstream);
  untrack(id);
  report.requestBytes = counts.aToB;
  report.responseBytes = counts.bToA;
  finish(report);
}

asio::awaitable<void> InpodProxy::handleHbone(tcp::socket socket) {
  auto self = shared_from_this();
  auto cert = co_await certificate();
  if (!cert) {
    context_.metrics.count("weft_ztunnel_inbound_refused_total", "no_certificate");
    resetSocket(socket);
    co_return;
  }
  auto tls = serverTls(*cert);
  if (!tls) {
    spdlog::warn("pod {}/{}: TLS: {}", pod_.ns, pod_.name, tls.error().message);
    resetSocket(socket);
    co_return;
  }
  hbone::ServerOptions options;
  options.trustDomain = context_.config.get()->trustDomain();
  options.open = openHbone_;
  // Every argument is a named local moved in: GCC 12 can destroy a temporary made inside a
  // co_await expression twice, and a lambda holding `self` made that a premature free of
  // this proxy. Moved-from objects are empty, so a second destruction does nothing.
  hbone::ConnectHandler handler = [self](hbone::ConnectRequest request) { return self->decideConnect(std::move(request)); };
  std::shared_ptr<asio::ssl::context> context = *tls;
  co_await hbone::serveHboneConnection(std::move(socket), std::move(context), std::move(handler), std::move(options), context_.hbone);
}

asio::awaitable<hbone::ConnectDecision> InpodProxy::decideConnect(hbone::ConnectRequest request) {
  auto self = shared_from_this();
  auto config = context_.config.get();
  auto report = std::make_shared<ConnectionReport>();
  report->reporter = "destination";
  report->direction = "inbound";
  report->mutualTls = true;
  Ipv4Address sourceAddress = fromAsio(request.peerEndpoint.address());
  report->source = unknownPeer(endpointText(request.peerEndpoint));
  if (const auto* source = config->workloadAt(sourceAddress)) report->source = workloadFacts(*source, endpointText(request.peerEndpoint));
  report->source.principal = request.peerIdentity;
  report->destination = selfFacts(*config);
  report->destination.address = endpointText(request.target);
  auto refuse = [&](int status, std::string flag, std::string why) {
    report->responseFlags = std::move(flag);
    report->error = std::move(why);
    context_.metrics.count("weft_ztunnel_inbound_refused_total", report->responseFlags);
    context_.metrics.opened(*report);
    finish(*report);
    return hbone::ConnectDecision::refuse(status);
  };
  // The tunnel must be for this pod: anything else would let a peer use us as a relay.
  if (fromAsio(request.target.address()) != pod_.address || isZtunnelPort(request.target.port())) {
    co_return refuse(400, "BAD_TARGET", fmt::format("CONNECT to {} arrived at pod {}", request.authority, pod_.address.str()));
  }
  const auto* destination = config->workloadAt(pod_.address);
  if (destination == nullptr) co_return refuse(503, "CONNECT", "no workload information for this pod yet");
  auto decision = evaluateL4Policy(*config, *destination,
                                   {request.peerIdentity, sourceAddress, pod_.address, static_cast<uint32_t>(request.target.port())});
  if (!decision.allowed) co_return refuse(401, "DENY", decision.reason);
  auto upstream = co_await connectFromPod(request.target, sourceAddress);
  if (!upstream) co_return refuse(503, "CONNECT", upstream.error().message);
  context_.metrics.opened(*report);
  auto accepted = hbone::ConnectDecision::accept(std::move(*upstream));
  // Counted so a draining ztunnel waits for it; the HBONE connection owns the sockets.
  uint64_t id = track([] {});
  accepted.onFinished = [self, report, id](const hbone::StreamReport& stream) {
    self->untrack(id);
    report->requestBytes = stream.bytesFromPeer;
    report->responseBytes = stream.bytesToPeer;
    if (!stream.error.empty()) report->error = stream.error;
    self->finish(*report);
  };
  co_return accepted;
}

}  // namespace weft::ztunnel
