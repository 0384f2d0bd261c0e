#include "proxy/gateway_server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <algorithm>
#include <cstdio>

#include <sys/socket.h>

#include "proxy/cors.h"
#include "proxy/gateway_helpers.h"
#include "proxy/loaned_body.h"
#include "tls/x509_info.h"
#include "proxy/fault_injection.h"
#include "proxy/first_bytes.h"
#include "proxy/grpc_status.h"
#include "proxy/h2_downstream.h"
#include "proxy/http1_writer.h"
#include "proxy/protocol_sniff.h"
#include "proxy/request_checks.h"
#include "proxy/trace_context.h"

namespace weft::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;

using namespace detail;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// Room for a typical request in one read (see serve()).
constexpr size_t kClientReadBytes = 8 * 1024;

// The SPIFFE identity of a client certificate (its first URI SAN), or "".
std::string peerIdentity(SSL* ssl) {
  X509* peer = SSL_get0_peer_certificate(ssl);
  if (peer == nullptr) return "";
  for (auto& uri : tls::uriSans(peer)) {
    if (uri.starts_with("spiffe://")) return uri;
  }
  return "";
}

// After an error answer (400, 413, 431...): stop sending, then read and drop what the
// client still sends, for a second and 64 KiB at most, before the socket closes. Closing
// with unread bytes makes the kernel send a reset, which can destroy the answer before the
// client has read it (a request body sent after a refused head, say). nginx calls this a
// lingering close, Envoy a delayed close.
template <class Lowest>
asio::awaitable<void> lingeringClose(Lowest& lowest) {
  beast::error_code ignored;
  lowest.socket().shutdown(tcp::socket::shutdown_send, ignored);
  lowest.expires_after(std::chrono::seconds(1));
  char sink[4096];
  for (size_t drained = 0; drained < 64 * 1024;) {
    auto [error, got] = co_await lowest.async_read_some(asio::buffer(sink), kUseTuple);
    if (error) break;
    drained += got;
  }
}

}  // namespace

GatewayServer::Response localResponse(unsigned status, std::string body, unsigned version) {
  GatewayServer::Response response{static_cast<http::status>(status), version};
  response.set(http::field::server, "istio-envoy");
  response.set(http::field::content_type, "text/plain");
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

GatewayServer::GatewayServer(asio::io_context& io, RequestMetrics& metrics, ServerOptions options)
    : io_(io), metrics_(metrics), options_(options) {}

Status GatewayServer::applyListeners(const ProxyConfig& config) {
  if (draining_) return {};  // a draining proxy opens no listener again
  std::map<uint32_t, std::shared_ptr<tcp::acceptor>> added;
  for (const auto& [port, routes] : config.ports()) {
    if (acceptors_.contains(port)) continue;
    auto acceptor = std::make_shared<tcp::acceptor>(io_);
    beast::error_code ec;
    tcp::endpoint at{asio::ip::address_v4::any(), static_cast<unsigned short>(port)};
    acceptor->open(at.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor->bind(at, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return makeError("listener {} on 0.0.0.0:{}: {}", routes.listeners.empty() ? "" : routes.listeners.front(), port, ec.message());
    added[port] = std::move(acceptor);
  }
  for (auto it = acceptors_.begin(); it != acceptors_.end();) {
    if (config.ports().contains(it->first)) {
      ++it;
      continue;
    }
    spdlog::info("gateway: listener on port {} removed", it->first);
    beast::error_code ignored;
    it->second->close(ignored);
    it = acceptors_.erase(it);
  }
  for (auto& [port, acceptor] : added) {
    spdlog::info("gateway: listening on 0.0.0.0:{}", port);
    asio::co_spawn(io_, acceptLoop(acceptor, port), asio::detached);
    acceptors_[port] = std::move(acceptor);
  }
  return {};
}

void GatewayServer::drain() {
  draining_ = true;
  for (auto& [port, acceptor] : acceptors_) {
    beast::error_code ignored;
    acceptor->close(ignored);
  }
  acceptors_.clear();
  // A copy: a drain callback may end its connection at once (not today: they only shut
  // sockets down or queue a GOAWAY, and sessions end later on the io_context).
  std::vector<std::function<void()>> drainers;
  for (const auto& [descriptor, drainOne] : openConnections_) drainers.push_back(drainOne);
  for (auto& drainOne : drainers) drainOne();
  spdlog::info("gateway: draining {} client connections", drainers.size());
}

void GatewayServer::stop() {
  for (auto& [port, acceptor] : acceptors_) {
    beast::error_code ignored;
    acceptor->close(ignored);
  }
  acceptors_.clear();
  for (const auto& [descriptor, drainOne] : openConnections_) ::shutdown(descriptor, SHUT_RDWR);
  pool_.clear();
  h2Pool_.clear();
  tunnelPool_.clear();
  tlsPool_.clear();
  if (tunnels_ != nullptr) tunnels_->stop();
}

asio::awaitable<void> GatewayServer::acceptLoop(std::shared_ptr<tcp::acceptor> acceptor, uint32_t port) {
  while (acceptor->is_open()) {
    auto [ec, socket] = co_await acceptor->async_accept(kUseTuple);
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
    if (ec) {
      spdlog::warn("gateway: accept on port {}: {}", port, ec.message());
      continue;
    }
    asio::co_spawn(io_, session(std::move(socket), port), asio::detached);
  }
}

template <class Socket>
asio::awaitable<bool> GatewayServer::opensWithHttp2Preface(Socket& socket) {
  // A client that sends nothing within the header timeout is left to the HTTP/1.1 reader,
  // which closes it.
  auto deadline = Clock::now() + options_.headerTimeout;
  bool preface = false;
  auto decide = [&](std::string_view bytes) {  // named: see the GCC 12 note below
    preface = bytes.size() == kHttp2Preface.size() && mayBeHttp2Preface(bytes);
    return preface || !mayBeHttp2Preface(bytes);
  };
  co_await peekFirstBytes(socket, kHttp2Preface.size(), deadline, deadline, decide);
  co_return preface;
}

asio::awaitable<void> GatewayServer::session(tcp::socket socket, uint32_t port) {
  OpenConnection registered(openConnections_, socket.native_handle());
  beast::error_code ignored;
  std::string peer = socket.remote_endpoint(ignored).address().to_string();
  std::string local = socket.local_endpoint(ignored).address().to_string();
  // The TLS servers are pinned for the handshake: the SNI callback reads them.
  std::shared_ptr<const ProxyConfig> config = config_;
  auto found = config->ports().find(port);
  std::shared_ptr<TlsListener> tls = found == config->ports().end() ? nullptr : found->second.tls;
  if (found != config->ports().end() && found->second.kind == PortRoutes::Kind::kTcp) {
    const CompiledTcpRoute* route = ProxyConfig::tcpRoute(found->second, "");
    // The snapshot moves into the relay, which lets it go once connected.
    Downstream client{.address = std::move(peer), .localAddress = std::move(local)};
    co_await relayConnection(std::move(socket), std::move(config), route, std::move(client), port);
    co_return;
  }
  if (found != config->ports().end() && found->second.kind == PortRoutes::Kind::kTls && (!found->second.tcpRoutes.empty() || tls == nullptr)) {
    // TLS passthrough: the SNI decides between relaying the TLS as it is and terminating it.
    ClientHelloScan hello = co_await peekClientHello(socket);
    if (hello.state != ClientHelloScan::State::kComplete) {
      ++passthroughRefused_;
      spdlog::info("gateway: TLS client {} on port {} closed: {}", peer, port,
                   hello.state == ClientHelloScan::State::kNeedMore ? "no whole ClientHello within the header timeout" : hello.error);
      co_return;
    }
    // A terminating server whose hosts match the name at least as well keeps it (Envoy
    // picks the most specific filter chain).
    const CompiledTcpRoute* route = ProxyConfig::tcpRoute(found->second, hello.sni);
    if (route != nullptr && (tls == nullptr || ProxyConfig::matchRank(*route, hello.sni) > tls->matchRank(hello.sni))) {
      tls.reset();
      Downstream client{.address = std::move(peer), .sni = std::move(hello.sni), .localAddress = std::move(local)};
      co_await relayConnection(std::move(socket), std::move(config), route, std::move(client), port);
      co_return;
    }
    if (tls == nullptr) {
      ++passthroughRefused_;
      // Logged (by the relay, flag NR) and counted as Envoy does a connection no filter chain takes.
      Downstream client{.address = std::move(peer), .sni = std::move(hello.sni), .localAddress = std::move(local)};
      co_await relayConnection(std::move(socket), std::move(config), nullptr, std::move(client), port);
      co_return;
    }
  }
  if (tls == nullptr) {
    TimedSocket plainSocket(std::move(socket));
    // A named local, moved: GCC 12 destroys a temporary argument of a coroutine call inside
    // co_await twice.
    Downstream plain{.address = std::move(peer), .localAddress = std::move(local)};
    if (co_await opensWithHttp2Preface(plainSocket)) {
      co_await serveHttp2Client(plainSocket, port, std::move(plain));
    } else {
      co_await serve(plainSocket, port, std::move(plain));
    }
    co_return;
  }
  beast::ssl_stream<beast::tcp_stream> secure(beast::tcp_stream(std::move(socket)), tls->initialContext());
  secure.next_layer().expires_after(options_.headerTimeout);
  auto [handshakeError] = co_await secure.async_handshake(asio::ssl::stream_base::server, kUseTuple);
  if (handshakeError) {
    ++tlsHandshakeFailures_;
    spdlog::debug("gateway: TLS handshake from {} on port {}: {}", peer, port, handshakeError.message());
    co_return;
  }
  if (auto accepted = tls->checkPeer(secure.native_handle()); !accepted) {
    ++tlsHandshakeFailures_;
    spdlog::info("gateway: TLS client {} on port {} refused: {}", peer, port, accepted.error().message);
    co_return;
  }
  const char* sni = SSL_get_servername(secure.native_handle(), TLSEXT_NAMETYPE_host_name);
  Downstream client{.address = std::move(peer),
                    .secure = true,
                    .identity = peerIdentity(secure.native_handle()),
                    .sni = sni == nullptr ? "" : sni,
                    .localAddress = std::move(local)};
  // A TLS server that is not HTTPS: what was inside the TLS goes on as bytes.
  if (const weft::v1::TlsServer* chosen = tls->handshakeServer(secure.native_handle()); chosen != nullptr && chosen->terminate_tcp()) {
    std::optional<CompiledTcpRoute> route;
    if (!chosen->tcp_routes().empty()) route = compileTcpRoute(chosen->tcp_routes(0));
    secure.next_layer().expires_never();  // the relay's own idle timeout takes over
    tls.reset();
    co_await relayConnection(std::move(secure), std::move(config), route ? &*route : nullptr, std::move(client), port);
    co_return;
  }
  const unsigned char* alpn = nullptr;
  unsigned alpnLength = 0;
  SSL_get0_alpn_selected(secure.native_handle(), &alpn, &alpnLength);
  if (std::string_view(reinterpret_cast<const char*>(alpn), alpnLength) == "h2") {
    co_await serveHttp2Client(secure, port, std::move(client));
  } else {
    co_await serve(secure, port, std::move(client));
  }
  // close_notify, bounded: a client that stopped reading must not hold the session.
  secure.next_layer().expires_after(std::chrono::seconds(1));
  co_await secure.async_shutdown(kUseTuple);
}

asio::awaitable<void> GatewayServer::serveTunnel(asio::local::stream_protocol::socket socket, TunnelPeer peer) {
  OpenConnection registered(openConnections_, socket.native_handle());
  // The target's Service port stands for the listener port (authorization's ports,
  // destination.port); the target itself is looked up per request in the current config.
  auto colon = peer.authority.rfind(':');
  uint32_t port = colon == std::string::npos ? 0 : static_cast<uint32_t>(std::atoi(peer.authority.c_str() + colon + 1));
  std::string targetAddress = peer.authority.substr(0, colon);
  Downstream tunnel{.address = std::move(peer.address),
                    .identity = std::move(peer.identity),
                    .waypointAuthority = std::move(peer.authority),
                    .localAddress = std::move(targetAddress)};
  std::shared_ptr<const ProxyConfig> config = config_;  // pinned while the protocol is told
  const WaypointTarget* target = config->waypointTarget(tunnel.waypointAuthority);
  bool relay = target != nullptr && target->kind == WaypointTarget::Kind::kTcp;
  if (target != nullptr && target->kind == WaypointTarget::Kind::kDetect) relay = !co_await tunnelSpeaksHttp(socket);
  if (relay) {
    // tls[] routes pick by the ClientHello's SNI; a client that sends none (not TLS, or
    // silent: the server may speak first) takes the routes for any name.
    if (ProxyConfig::routesBySni(target->tcpRoutes)) {
      std::optional<Clock::duration> silentFor = kFirstBytesWait;  // a named local: the GCC 12 note above
      ClientHelloScan hello = co_await peekClientHello(socket, silentFor);
      if (hello.state == ClientHelloScan::State::kComplete) tunnel.sni = std::move(hello.sni);
    }
    const CompiledTcpRoute* route = ProxyConfig::waypointTcpRoute(*target, tunnel.sni);
    co_await relayConnection(std::move(socket), std::move(config), route, std::move(tunnel), port);
    co_return;
  }
  config.reset();  // each request looks its target up again in the config of its time
  beast::basic_stream<asio::local::stream_protocol> stream(std::move(socket));
  // An h2c client's bytes arrive as they were sent (ztunnel carries TCP): HTTP/2 with prior
  // knowledge is told apart by its preface, as on a plain listener.
  if (co_await opensWithHttp2Preface(stream.socket())) {
    co_await serveHttp2Client(stream, port, std::move(tunnel));
  } else {
    co_await serve(stream, port, std::move(tunnel));
  }
}

RequestRecord GatewayServer::startRecord(Request& request, std::chrono::system_clock::time_point start, const char* protocol) {
  RequestRecord record;
  record.start = start;
  record.protocol = protocol;
  record.bytesReceived = request.body().size();
  record.grpc = isGrpcContentType(request[http::field::content_type]);
  if (request["x-request-id"].empty()) request.set("x-request-id", newRequestId(random_));
  // The access log's fields are copied only when there is an access log: the metrics need
  // none of them.
  if (config_->accessLog() != ProxyConfig::AccessLog::kOff) {
    record.method = std::string(request.method_string());
    record.path = std::string(request.target());
    record.userAgent = std::string(request[http::field::user_agent]);
    record.authority = std::string(request[http::field::host]);
    record.forwardedFor = std::string(request["x-forwarded-for"]);
    record.requestId = std::string(request["x-request-id"]);
  }
  return record;
}

void GatewayServer::finishRecord(RequestRecord& record, const Outcome& outcome, Clock::time_point startSteady, const Downstream& downstream) {
  record.responseCode = outcome.response.result_int();
  record.responseFlags = outcome.flags;
  record.bytesSent = outcome.response.body().size() + (outcome.body != nullptr ? outcome.body->taken : 0);
  record.durationMs = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - startSteady).count());
  record.upstreamHost = outcome.upstreamHost;
  record.upstreamServiceTime = outcome.upstreamTime;
  record.destinationService = outcome.service;
  record.destinationServiceNamespace = outcome.serviceNamespace;
  if (!downstream.waypointAuthority.empty()) record.sourcePrincipal = downstream.identity;
  record.requestedServerName = downstream.sni;
  if (record.grpc) record.grpcStatus = std::string(outcome.response["grpc-status"]);
  if (record.grpc && record.grpcStatus.empty()) record.grpcStatus = std::string(hbone::findHeader(outcome.trailers, "grpc-status").value_or(""));
  metrics_.record(record);
  writeAccessLog(record);
}

void GatewayServer::writeAccessLog(const RequestRecord& record) const {
  auto logFormat = config_->accessLog();
  if (logFormat != ProxyConfig::AccessLog::kOff) {
    std::fputs((logFormat == ProxyConfig::AccessLog::kJson ? accessLogJson(record) : accessLogLine(record)).c_str(), stdout);
    std::fflush(stdout);
  }
}

asio::awaitable<H2Answer> GatewayServer::answerStream(Request request, uint32_t port, Downstream downstream,
                                                     std::shared_ptr<StreamedBody> requestBody) {
  auto start = std::chrono::system_clock::now();
  auto startSteady = Clock::now();
  RequestRecord record = startRecord(request, start, "HTTP/2");
  Downstream client = downstream;
  // A large or unsized body streams to the HTTP/2 client too; a streamed request body flows
  // to the upstream as it comes (held for mirrors).
  // Named and moved in: GCC 12 can destroy a temporary made inside a co_await expression
  // twice, and this one holds a shared_ptr.
  BodyFlow flow{requestBody.get(), true, requestBody};
  Outcome outcome = co_await handle(std::move(request), port, std::move(client), std::move(flow));
  // The gateway's own answers to gRPC (no route, no healthy upstream, denied, limited...)
  // take gRPC's shape, as Envoy's local replies do (grpc_status.h).
  if (record.grpc && !outcome.fromUpstream) toGrpcLocalReply(outcome.response);
  if (outcome.body == nullptr) {
    if (requestBody != nullptr) record.bytesReceived += requestBody->taken;
    finishRecord(record, outcome, startSteady, downstream);
    co_return H2Answer{std::move(outcome.response), std::move(outcome.trailers)};
  }
  // The body follows in pieces: the request is recorded once they have been sent.
  H2Answer answer{outcome.response, std::move(outcome.trailers)};
  struct Streaming {
    RequestRecord record;
    Outcome outcome;
    std::shared_ptr<StreamedBody> requestBody;  // may still be flowing up (bidirectional)
  };
  auto streaming = std::make_shared<Streaming>(Streaming{std::move(record), std::move(outcome), requestBody});
  answer.body = streaming->outcome.body.get();
  answer.finished = [this, streaming, startSteady, downstream](RelayEnd end) {
    Outcome& outcome = streaming->outcome;
    if (outcome.trailers.empty()) outcome.trailers = outcome.body->trailers;  // an HTTP/2 upstream's grpc-status
    if (end == RelayEnd::kSourceFailed) {
      spdlog::info("gateway: HTTP/2 response cut short after {} body bytes", outcome.body->taken);
      const char* flag = outcome.body->timedOut ? "UT" : "UC";
      outcome.flags = outcome.flags == "-" ? flag : outcome.flags + "," + flag;
    }
    if (streaming->requestBody != nullptr) streaming->record.bytesReceived += streaming->requestBody->taken;
    finishRecord(streaming->record, outcome, startSteady, downstream);
  };
  co_return answer;
}

template <class Stream>
asio::awaitable<void> GatewayServer::serveHttp2Client(Stream& stream, uint32_t port, Downstream downstream) {
  // Not a coroutine itself: the answer may outlive the connection (and this lambda), so
  // everything it needs is copied into answerStream's frame.
  H2Responder respond = [this, port, downstream](Request request, std::shared_ptr<StreamedBody> body) {
    return answerStream(std::move(request), port, downstream, std::move(body));
  };
  H2DownstreamOptions h2Options;
  h2Options.streamRequestBodies = true;
  h2Options.streamIdleTimeout = options_.streamIdleTimeout;
  h2Options.idleTimeout = options_.bodyTimeout;
  h2Options.drain = std::make_shared<H2Drain>();
  DrainHook hook(openConnections_, descriptorOf(stream), [drain = h2Options.drain] {
    if (drain->goAway) drain->goAway();
  });
  if (draining_) co_return;  // drained while the preface was looked at
  beast::flat_buffer nothingReadYet;
  co_await serveHttp2(stream, nothingReadYet, std::move(respond), h2Options, http2Counters_);
}

template <class Stream>
asio::awaitable<void> GatewayServer::serve(Stream& stream, uint32_t port, Downstream downstream) {
  beast::error_code ignored;
  auto& lowest = beast::get_lowest_layer(stream);
  beast::flat_buffer buffer;
  // Beast reads as much as the buffer has room for (at least 512 bytes). Room for a whole
  // ordinary request means one recv() per request, and a short read tells asio the socket
  // is drained, so it waits for readiness instead of trying a recv() that says EAGAIN.
  buffer.reserve(kClientReadBytes);
  std::string head;  // every response's head is rendered here (see http1_writer.h)
  // Drained while waiting for a request with nothing read of it: closed at once (a client
  // that sent one meanwhile sees the close, as with any idle keep-alive connection, and
  // retries). Drained during a request: answered, with Connection: close.
  bool idle = false;
  int descriptor = descriptorOf(stream);
  DrainHook hook(openConnections_, descriptor, [&idle, descriptor] {
    if (idle) ::shutdown(descriptor, SHUT_RD);
  });
  auto answerAndClose = [&](const Rejection& rejection) -> asio::awaitable<void> {
    auto response = localResponse(rejection.status, rejection.body);
    response.keep_alive(false);
    lowest.expires_after(options_.headerTimeout);
    co_await asio::async_write(stream, gatherMessage(response, head), kUseTuple);
    co_await lingeringClose(lowest);
  };
  while (true) {
    RequestParser parser;
    configureParser(parser);
    // Beast judges a Content-Length against the body limit with the head; bodies that are
    // held are small (below), larger ones stream and are not held at all.
    parser.body_limit(boost::none);
    lowest.expires_after(options_.headerTimeout);
    if (draining_) co_return;
    idle = buffer.size() == 0;
    auto [headError, headBytes] = co_await http::async_read_header(stream, buffer, parser, kUseTuple);
    idle = false;
    if (headError) {
      // A client that went away, or sent nothing (more) in time, is simply closed.
      if (headError == http::error::end_of_stream || timedOut(stream, headError) || headError == asio::error::connection_reset ||
          headError == asio::error::eof) {
        co_return;
      }
      co_await answerAndClose(rejectionFor(headError));
      co_return;
    }
    if (auto rejected = checkRequestHead(parser.get().base())) {
      co_await answerAndClose(*rejected);
      co_return;
    }
    auto start = std::chrono::system_clock::now();
    auto startSteady = Clock::now();
    if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
      http::response<http::empty_body> proceed{http::status::continue_, 11};
      co_await http::async_write(stream, proceed, kUseTuple);
    }
    lowest.expires_after(options_.bodyTimeout);
    // A body over kBufferedBodyBytes, or of unknown length (chunked), is relayed to the
    // upstream as it arrives (streamed_body.h); a smaller one is read whole now. Most
    // requests have none: their head completed them, and reading on would only post a
    // completion.
    std::unique_ptr<ClientBody<Stream>> streamedBody;
    auto length = parser.content_length();
    if (!parser.is_done() && (!length || *length > kBufferedBodyBytes)) {
      streamedBody = std::make_unique<ClientBody<Stream>>(stream, buffer, std::move(parser), options_.bodyTimeout);
    } else if (!parser.is_done()) {
      auto [bodyError, bodyBytes] = co_await http::async_read(stream, buffer, parser, kUseTuple);
      if (bodyError) {
        if (!timedOut(stream, bodyError) && bodyError != http::error::end_of_stream) co_await answerAndClose(rejectionFor(bodyError));
        co_return;
      }
    }
    Request request;
    if (streamedBody != nullptr) {
      request.base() = streamedBody->head();
    } else {
      request = parser.release();
    }
    RequestRecord record = startRecord(request, start, request.version() == 10 ? "HTTP/1.0" : "HTTP/1.1");
    bool keepAlive = request.keep_alive();
    unsigned version = request.version();

    // Lent, so that an HTTP/2 upstream's sender may hold it too (loaned_body.h); recalled
    // once the answer is out.
    auto loan = streamedBody != nullptr ? std::make_shared<LoanedBody>(*streamedBody) : nullptr;
    BodyFlow flow{loan.get(), true, loan};  // named: see answerStream
    Outcome outcome = co_await handle(std::move(request), port, downstream, std::move(flow));
    // A request body not read to its end (a local answer, an upstream that answered early)
    // leaves unread bytes: the connection cannot carry another request.
    bool bodyLeft = streamedBody != nullptr && !streamedBody->ended();
    if (bodyLeft) keepAlive = false;
    outcome.response.version(version);
    // A streamed body of unknown length goes chunked to an HTTP/1.1 client; an HTTP/1.0
    // client knows its end by the close.
    bool chunked = outcome.body != nullptr && !outcome.body->length && version == 11;
    if (outcome.body != nullptr && !outcome.body->length && version != 11) keepAlive = false;
    if (chunked) outcome.response.chunked(true);  // (chunked(false) would drop a Content-Length too)
    outcome.response.keep_alive(keepAlive && !draining_);
    lowest.expires_after(options_.bodyTimeout);
    beast::error_code writeError;
    if (outcome.body == nullptr) {
      auto [error, written] = co_await asio::async_write(stream, gatherMessage(outcome.response, head), kUseTuple);
      writeError = error;
    } else {
      renderHead(outcome.response.base(), head);
      auto [error, written] = co_await asio::async_write(stream, asio::buffer(head), kUseTuple);
      writeError = error;
      if (!writeError) {
        RelayEnd relayed = co_await relayBody(*outcome.body, stream, chunked, [&] { lowest.expires_after(options_.bodyTimeout); });
        // The head is out: an upstream failing midway can only cut the client off, as Envoy
        // resets a stream whose upstream failed mid-body. The client sees a short body.
        if (relayed == RelayEnd::kSourceFailed) {
          spdlog::info("gateway: response cut short after {} body bytes", outcome.body->taken);
          const char* flag = outcome.body->timedOut ? "UT" : "UC";
          outcome.flags = outcome.flags == "-" ? flag : outcome.flags + "," + flag;
        }
        if (relayed != RelayEnd::kDone) writeError = asio::error::connection_aborted;
      }
    }

    if (loan != nullptr) co_await loan->recall([&] { lowest.socket().cancel(ignored); });
    if (streamedBody != nullptr) record.bytesReceived += streamedBody->taken;
    finishRecord(record, outcome, startSteady, downstream);
    if (bodyLeft && !writeError) {
      co_await lingeringClose(lowest);  // so the unread body does not make the kernel reset the answer away
      co_return;
    }
    if (writeError || !keepAlive || draining_) {
      lowest.socket().shutdown(tcp::socket::shutdown_both, ignored);
      co_return;
    }
  }
}

asio::awaitable<GatewayServer::Outcome> GatewayServer::handle(Request request, uint32_t port, Downstream downstream, BodyFlow flow) {
  std::string peer = downstream.address;
  bool secure = downstream.secure;
  std::shared_ptr<const ProxyConfig> config = config_;  // pinned for this request
  Outcome outcome;
  // A waypoint's request is for the Service its tunnel's authority names.
  const WaypointTarget* waypoint = nullptr;
  if (!downstream.waypointAuthority.empty()) {
    waypoint = config->waypointTarget(downstream.waypointAuthority);
    if (waypoint == nullptr) {
      outcome.response = localResponse(404, "no route");
      outcome.flags = "NR";
      co_return outcome;
    }
  }
  // RequestAuthentication (Envoy's jwt_authn runs before RBAC): a token that does not verify
  // is answered 401; a good one names the request principal and may edit the headers.
  JwtCheck jwt;
  const JwtAuthenticator& authenticator = waypoint != nullptr ? waypoint->authenticator : config->authenticator();
  if (!authenticator.empty()) {
    jwt = authenticator.check(request.base(), request.target(), std::chrono::system_clock::now());
    if (jwt.state == JwtCheck::State::kRefused) {
      outcome.response = localResponse(401, jwt.failure);
      std::string_view target = request.target();
      outcome.response.set(http::field::www_authenticate,
                           fmt::format(R"(Bearer realm="http{}://{}{}", error="invalid_token")", secure ? "s" : "", request[http::field::host],
                                       target.substr(0, target.find('?'))));
      co_return outcome;
    }
  }
  const HttpAuthorizer& authorizer = waypoint != nullptr ? waypoint->authorizer : config->authorizer();
  if (!authorizer.empty()) {
    std::string_view target = request.target();
    AuthorizationFacts facts{.host = request[http::field::host],
                             .method = request.method_string(),
                             .path = target.substr(0, target.find('?')),
                             .port = port,
                             .sourceAddress = peer,
                             .destinationAddress = downstream.localAddress,
                             .peerIdentity = downstream.identity,
                             .sni = downstream.sni,
                             .header = viewOf(request, secure).header,
                             .jwt = jwt.jwt ? &*jwt.jwt : nullptr};
    AuthorizationDecision decision = authorizer.decide(facts);
    for (const auto& audited : decision.audited) {
      spdlog::info("gateway: AUDIT {} {} {} from {} matched {}", request.method_string(), request.target(), request[http::field::host], peer, audited);
    }
    if (!decision.allowed) {
      Outcome denied;
      denied.response = localResponse(403, "RBAC: access denied");
      ++authorizationDenials_;
      co_return denied;
    }
  }
  const CompiledVirtualHost* vhost = waypoint != nullptr ? ProxyConfig::virtualHost(waypoint->virtualHosts, request[http::field::host])
                                                         : config->virtualHost(port, request[http::field::host]);
  if (vhost != nullptr && vhost->requireTls && !secure) {
    // Gateway tls.httpsRedirect (Envoy's require_tls ALL): the same URL over https.
    outcome.response = localResponse(301, "");
    outcome.response.set(http::field::location, fmt::format("https://{}{}", request[http::field::host], request.target()));
    co_return outcome;
  }
  const CompiledRoute* route = nullptr;
  if (vhost != nullptr) {
    RequestView view = viewOf(request, secure);
    view.jwt = jwt.jwt ? &*jwt.jwt : nullptr;
    route = ProxyConfig::route(*vhost, view);
  }
  if (route == nullptr) {
    outcome.response = localResponse(404, "no route");
    outcome.flags = "NR";
    co_return outcome;
  }
  RateLimitVerdict limit;
  RateLimitCheck limitCheck = rateLimitCheck(*config, *vhost, *route, request.base(), peer, downstream.identity);  // named: see session()
  // No rule applies (the common case): no coroutine frame, no Redis.
  if (!limitCheck.items.empty()) limit = co_await rateLimiter_.check(std::move(limitCheck));
  if (limit.limited) {
    outcome.response = rateLimitedResponse(limit);
    outcome.flags = "RL";
    co_return outcome;
  }
  if (route->spec.has_redirect()) {
    const auto& r = route->spec.redirect();
    std::string authority = r.authority().empty() ? normalizeHost(request[http::field::host]) : r.authority();
    if (r.port() != 0) authority += fmt::format(":{}", r.port());
    std::string location = fmt::format("{}://{}{}", r.scheme().empty() ? "http" : r.scheme(), authority,
                                       r.uri().empty() ? std::string(request.target()) : r.uri());
    outcome.response = localResponse(r.code() == 0 ? 301 : r.code(), "");
    outcome.response.set(http::field::location, location);
    applyHeaderEdits(outcome.response.base(), route->spec.response_headers());
    co_return outcome;
  }
  std::string origin(request[http::field::origin]);
  bool corsAllowed = corsOriginAllowed(*route, origin);
  if (corsAllowed && isCorsPreflight(request.method_string(), origin, request[http::field::access_control_request_method])) {
    outcome.response = localResponse(200, "");
    addPreflightHeaders(route->spec.cors(), origin, outcome.response.base());
    co_return outcome;
  }
  if (route->spec.has_direct_response()) {
    outcome.response = localResponse(route->spec.direct_response().status(), route->spec.direct_response().body());
  } else {
    FaultDecision fault = decideFault(route->spec.fault(), random_);
    if (fault.delayMs > 0) {
      asio::steady_timer delay(io_, std::chrono::milliseconds(fault.delayMs));
      co_await delay.async_wait(kUseTuple);
    }
    if (fault.abortGrpcStatus) {
      // Envoy's fault filter with grpc_status: HTTP 200, the status in a trailers-only head
      // (toGrpcLocalReply keeps it and gives a gRPC client its content-type).
      outcome.response = localResponse(200, "fault filter abort");
      outcome.response.set("grpc-status", std::to_string(*fault.abortGrpcStatus));
      outcome.response.set("grpc-message", "fault filter abort");
      outcome.response.set(http::field::content_type, "application/grpc");
      outcome.response.body().clear();
      outcome.response.prepare_payload();
      outcome.flags = "FI";
    } else if (fault.abortStatus > 0) {
      outcome.response = localResponse(fault.abortStatus, "fault filter abort");
      outcome.flags = "FI";
    } else {
      outcome = co_await forward(std::move(request), config, route, std::move(peer), secure, flow);
    }
    if (fault.delayMs > 0) outcome.flags = outcome.flags == "-" ? "DI" : outcome.flags + ",DI";
  }
  if (corsAllowed) addActualRequestHeaders(route->spec.cors(), origin, outcome.response.base());
  addRateLimitHeaders(outcome.response.base(), limit);
  applyHeaderEdits(outcome.response.base(), route->spec.response_headers());
  co_return outcome;
}

}  // namespace weft::proxy
