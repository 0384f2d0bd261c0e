#include "proxy/gateway_server.h"

#include <re2/re2.h>
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>

#include "proxy/fault_injection.h"
#include "proxy/gateway_helpers.h"
#include "proxy/grpc_status.h"
#include "proxy/hash_key.h"
#include "proxy/http1_writer.h"
#include "proxy/request_checks.h"
#include "proxy/retry_on.h"
#include "proxy/streamed_body.h"
#include "proxy/trace_context.h"

// The gateway's upstream half: a routed request forwarded to one of its cluster's endpoints,
// with the route's timeout, retries and mirrors, over pooled HTTP/1.1 connections (plain TCP
// or inside HBONE) or HTTP/2 (h2_upstream.h).

namespace weft::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
using namespace detail;
using Clock = std::chrono::steady_clock;

namespace {

// connectionPool.tcp.maxConnectionDuration for an HTTP upstream: a connection this old
// takes no new request; the one it carries is answered, then it closes (Envoy drains it).
template <class Stream>
bool outlived(const BasicPooledConnection<Stream>& connection, const weft::v1::ConnectionPool& limits) {
  return limits.max_connection_duration_ms() != 0 &&
         std::chrono::steady_clock::now() - connection.opened >= std::chrono::milliseconds(limits.max_connection_duration_ms());
}

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// The rewritten target: a prefix match's matched part replaced, any other match's whole path;
// or with uriRegexRewrite every match in the path replaced (the query kept, as Envoy's
// regex_rewrite leaves it).
std::string rewriteTarget(const std::string& target, const CompiledRoute& route) {
  const auto& rewrite = route.spec.route().rewrite();
  if (route.rewriteRegex != nullptr) {
    auto query = target.find('?');
    std::string path = target.substr(0, query);
    RE2::GlobalReplace(&path, *route.rewriteRegex, rewrite.uri_regex_substitution());
    return path + (query == std::string::npos ? "" : target.substr(query));
  }
  if (rewrite.uri_prefix().empty()) return target;
  if (route.path.kind == CompiledMatch::Kind::kPrefix && target.size() >= route.path.value.size()) {
    return rewrite.uri_prefix() + target.substr(route.path.value.size());
  }
  auto query = target.find('?');
  return rewrite.uri_prefix() + (query == std::string::npos ? "" : target.substr(query));
}

// Room for a typical response head with a small body in one read.
constexpr size_t kUpstreamReadBytes = 16 * 1024;

// A mirrored copy gets this long, since nobody waits for it.
constexpr auto kMirrorTimeout = std::chrono::seconds(15);

// Reads the rest of a streamed request body into `into`: 0, or the status that answers a
// body over kMaxBodyBytes (413) or one the client broke off (400).
asio::awaitable<unsigned> holdWhole(StreamedBody& body, std::string& into) {
  while (true) {
    auto piece = co_await body.next();
    if (!piece) co_return 400;
    if (piece->empty()) co_return 0;
    if (into.size() + piece->size() > kMaxBodyBytes) co_return 413;
    into.append(*piece);
  }
}

}  // namespace

asio::awaitable<GatewayServer::Outcome> GatewayServer::forward(Request request, std::shared_ptr<const ProxyConfig> config,
                                                               const CompiledRoute* route, std::string peer, bool secure, BodyFlow flow) {
  Outcome outcome;
  const auto& action = route->spec.route();
  std::string clusterName = pickWeighted(action.clusters(), route->totalWeight, random_);
  const weft::v1::Cluster* cluster = config->cluster(clusterName);
  if (cluster != nullptr) {
    outcome.service = cluster->service_hostname();
    outcome.serviceNamespace = cluster->service_namespace();
  }
  if (cluster == nullptr || cluster->endpoints().empty()) {
    outcome.response = localResponse(503, "no healthy upstream");
    outcome.flags = "UH";
    co_return outcome;
  }
  // Held whole after all where it is sent more than once at the same time (mirrors).
  if (flow.request != nullptr && !route->spec.mirrors().empty()) {
    unsigned refused = co_await holdWhole(*flow.request, request.body());
    if (refused != 0) {
      outcome.response = localResponse(refused, refused == 413 ? "Payload Too Large" : "bad request");
      outcome.flags = refused == 413 ? "-" : "DC";
      co_return outcome;
    }
    flow.request = nullptr;
    flow.requestOwner = nullptr;
  }

  HashKey hashKey = hashKeyFor(cluster->load_balancer(), viewOf(request, secure), peer, random_);
  dropHopByHop(request.base());
  request.target(rewriteTarget(std::string(request.target()), *route));
  if (!action.rewrite().authority().empty()) request.set(http::field::host, action.rewrite().authority());
  std::string forwardedFor(request["x-forwarded-for"]);
  request.set("x-forwarded-for", forwardedFor.empty() ? peer : forwardedFor + ", " + peer);
  request.set("x-forwarded-proto", secure ? "https" : "http");
  propagateTraceContext(request.base(), random_);
  applyHeaderEdits(request.base(), route->spec.request_headers());
  // HTTP/1.1 upstream, but an HTTP/2 client's request keeps its mark for useClientProtocol.
  if (request.version() != kHttp2Version) request.version(11);
  request.keep_alive(true);
  if (flow.request == nullptr) {
    request.prepare_payload();
  } else if (!flow.request->length) {
    request.chunked(true);  // the client's chunked body, framed again on this hop
  }  // else the client's Content-Length stands
  for (const auto& m : route->spec.mirrors()) {
    if (drawPercent(m.percent(), random_)) asio::co_spawn(io_, mirror(request, config, m.cluster()), asio::detached);
  }

  auto start = Clock::now();
  std::optional<Clock::time_point> deadline;
  if (action.timeout_ms() > 0) deadline = start + std::chrono::milliseconds(action.timeout_ms());
  ClusterState& state = clusters_[clusterName];
  // The connection-pool slot is held across every attempt, as Envoy's router holds its
  // upstream request; the guard gives it back on every way out.
  auto entry = co_await state.gate().enter(cluster->connection_pool(), deadline);
  if (entry != ConnectionGate::Entry::kAdmitted) {
    bool timedOut = entry == ConnectionGate::Entry::kTimedOut && deadline && Clock::now() >= *deadline;
    outcome.response = timedOut ? localResponse(504, "upstream request timeout")
                                : localResponse(503, "upstream connect error or disconnect/reset before headers. reset reason: overflow");
    outcome.flags = timedOut ? "UT" : "UO";
    co_return outcome;
  }
  struct SlotGuard {
    ConnectionGate& gate;
    ~SlotGuard() { gate.leave(); }
  } slot{state.gate()};

  uint32_t attempts = 1 + action.retries().attempts();
  const std::string& retryOn = action.retries().retry_on();
  std::optional<std::string_view> key;
  if (hashKey.key) key = *hashKey.key;
  for (uint32_t attempt = 1;; ++attempt) {
    std::string endpoint = state.pick(*cluster, key, random_, Clock::now());
    outcome.upstreamHost = endpoint;
    std::optional<Clock::time_point> tryDeadline = deadline;
    if (action.retries().per_try_timeout_ms() > 0) {
      auto perTry = Clock::now() + std::chrono::milliseconds(action.retries().per_try_timeout_ms());
      tryDeadline = deadline ? std::min(*deadline, perTry) : perTry;
    }
    state.started(endpoint);
    Target target = targetFor(clusterName, *cluster, endpoint, request, *config);
    TryResult result = co_await tryOnce(std::move(target), request, tryDeadline, cluster->connection_pool(), flow);
    // A request whose body has started to flow cannot be sent again: nothing keeps it.
    bool last = attempt >= attempts || (flow.request != nullptr && (flow.request->taken > 0 || result.requestBodyClaimed));
    unsigned observed = result.clientBodyFailed            ? 400  // the client's doing, not the endpoint's
                        : result.status == TryStatus::kOk ? result.response.result_int()
                        : result.status == TryStatus::kTimeout ? 504
                                                               : 503;
    if (state.finished(*cluster, endpoint, observed, Clock::now())) {
      spdlog::warn("gateway: outlier detection ejected {} from {} after consecutive errors", endpoint, clusterName);
    }
    bool overallExpired = deadline && Clock::now() >= *deadline;
    if (result.clientBodyFailed) {
      outcome.response = localResponse(400, "bad request");
      outcome.flags = "DC";  // Envoy's downstream connection termination
      co_return outcome;
    }
    switch (result.status) {
      case TryStatus::kOk:
        if (!last && !overallExpired &&
            (retriableStatus(retryOn, result.response.result_int()) || retriableGrpcStatus(retryOn, result.response.base()))) {
          continue;
        }
        outcome.response = std::move(result.response);
        outcome.trailers = std::move(result.trailers);
        outcome.body = std::move(result.body);
        outcome.fromUpstream = true;
        dropHopByHop(outcome.response.base());
        outcome.response.set(http::field::server, "istio-envoy");
        outcome.upstreamTime = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
        outcome.response.set("x-envoy-upstream-service-time", outcome.upstreamTime);
        if (!hashKey.setCookie.empty()) outcome.response.insert(http::field::set_cookie, hashKey.setCookie);
        // A streamed body keeps the upstream's length, or none (the client's session frames it).
        if (outcome.body == nullptr) outcome.response.prepare_payload();
        co_return outcome;
      case TryStatus::kConnectFailure:
        if (!last && !overallExpired && retryOnHas(retryOn, "connect-failure")) continue;
        // With the transport's reason (a TLS error, say), as Envoy words it.
        outcome.response = localResponse(503, result.failureReason.empty()
                                                  ? "upstream connect error or disconnect/reset before headers. reset reason: connection failure"
                                                  : "upstream connect error or disconnect/reset before headers. reset reason: connection failure, "
                                                    "transport failure reason: " + result.failureReason);
        outcome.flags = "UF";
        co_return outcome;
      case TryStatus::kReset:
        if (!last && !overallExpired && (retryOnHas(retryOn, "reset") || retryOnHas(retryOn, "5xx"))) continue;
        outcome.response = localResponse(503, "upstream connect error or disconnect/reset before headers. reset reason: connection termination");
        outcome.flags = "UC";
        co_return outcome;
      case TryStatus::kTimeout:
        if (!last && !overallExpired) continue;  // a per-try timeout is retried, as Envoy does
        outcome.response = localResponse(504, "upstream request timeout");
        outcome.flags = "UT";
        co_return outcome;
    }
  }
}

asio::awaitable<void> GatewayServer::mirror(Request request, std::shared_ptr<const ProxyConfig> config, std::string clusterName) {
  const weft::v1::Cluster* cluster = config->cluster(clusterName);
  if (cluster == nullptr || cluster->endpoints().empty()) co_return;
  std::string host(request[http::field::host]);
  auto colon = host.rfind(':');
  bool hasPort = colon != std::string::npos && host.find(']', colon) == std::string::npos;
  request.set(http::field::host, hasPort ? host.substr(0, colon) + "-shadow" + host.substr(colon) : host + "-shadow");
  ClusterState& state = clusters_[clusterName];
  std::string endpoint = state.pick(*cluster, std::nullopt, random_, Clock::now());
  Target target = targetFor(clusterName, *cluster, endpoint, request, *config);
  BodyFlow none;  // named: see answerStream
  TryResult ignored = co_await tryOnce(std::move(target), request, Clock::now() + kMirrorTimeout, cluster->connection_pool(), std::move(none));
  (void)ignored;
}

GatewayServer::Target GatewayServer::targetFor(const std::string& clusterName, const weft::v1::Cluster& cluster, std::string endpoint,
                                               const Request& request, const ProxyConfig& config) {
  Target target;
  target.hboneIdentity = hboneIdentityOf(cluster, endpoint);
  target.endpoint = std::move(endpoint);
  // A mesh endpoint's mTLS is HBONE's, whatever the rule says.
  if (!target.hboneIdentity.empty()) return target;
  if (const ClusterTls* tls = config.clusterTls(clusterName)) {
    target.tls = tls->tls.get();
    target.tlsError = tls->error;
  } else if (cluster.tls().mode() == weft::v1::UpstreamTls::ISTIO_MUTUAL) {
    auto made = istioMutualTls(clusterName, cluster, config);
    if (made) {
      target.tls = *made;
    } else {
      target.tlsError = made.error().message;
    }
  }
  if (target.tls != nullptr) target.sni = target.tls->sniFor(request[http::field::host]);
  return target;
}

Result<const UpstreamTls*> GatewayServer::istioMutualTls(const std::string& clusterName, const weft::v1::Cluster& cluster,
                                                         const ProxyConfig& config) {
  if (!workloadCredentials_) return makeError("tls ISTIO_MUTUAL: no workload certificate yet");
  auto found = istioMutual_.find(clusterName);
  if (found != istioMutual_.end()) {
    IstioMutual& entry = found->second;
    if (entry.seen == &cluster.tls()) return entry.tls.get();
    // A new config snapshot: the rule is compared once, and remade only if it changed.
    if (entry.spec.SerializeAsString() == cluster.tls().SerializeAsString()) {
      entry.seen = &cluster.tls();
      entry.seenIn = config.shared_from_this();
      return entry.tls.get();
    }
  }
  UpstreamTlsMaterial material{workloadCredentials_->rootsPem, workloadCredentials_->certChainPem, workloadCredentials_->keyPem, ""};
  auto made = UpstreamTls::make(cluster.tls(), material);
  if (!made) return made.error().wrap("tls ISTIO_MUTUAL");
  auto& entry = istioMutual_[clusterName];
  entry = IstioMutual{cluster.tls(), std::move(*made), &cluster.tls(), config.shared_from_this()};
  return entry.tls.get();
}

asio::awaitable<GatewayServer::TryResult> GatewayServer::tryOnce(Target target, const Request& request, std::optional<Clock::time_point> deadline,
                                                                 const weft::v1::ConnectionPool& limits, BodyFlow flow) {
  // A rule that cannot be used fails the attempt: plaintext would skip the TLS it asks for.
  if (!target.tlsError.empty()) {
    spdlog::debug("gateway: {} not tried: {}", target.endpoint, target.tlsError);
    co_return TryResult{TryStatus::kConnectFailure, {}, {}, target.tlsError};
  }
  // HTTP/2 to endpoints whose cluster speaks it, or follows a client that spoke it: h2c,
  // h2 over TLS with ALPN, or inside HBONE streams with the proxy's certificate, and to a
  // mesh endpoint without one yet not at all (h2_upstream.h).
  if (usesHttp2Upstream(limits, request.version())) {
    H2UpstreamPool::Limits h2Limits = h2LimitsOf(limits);  // named: see session()
    h2Limits.responseMayStream = flow.responseMayStream;
    if (flow.request != nullptr) h2Limits.requestBody = flow.requestOwner;  // both directions at once
    H2Destination destination{std::move(target.endpoint), std::move(target.hboneIdentity), tunnels_.get(), target.tls, std::move(target.sni)};
    H2Exchange answered = co_await h2Pool_.exchange(std::move(destination), request, deadline, h2Limits);
    if (answered.tlsFailed) ++upstreamTlsFailures_;
    TryResult result{answered.status, std::move(answered.response), std::move(answered.trailers), std::move(answered.failureReason),
                     std::move(answered.body)};
    result.requestBodyClaimed = answered.requestBodyClaimed;
    co_return result;
  }
  // A mesh endpoint is reached through its ztunnel (HBONE) with the proxy's own certificate;
  // without one yet, not at all: plaintext would skip the endpoint's mTLS.
  if (!target.hboneIdentity.empty()) {
    if (tunnels_ == nullptr) {
      spdlog::info("gateway: no workload certificate yet for HBONE to {}", target.endpoint);
      co_return TryResult{TryStatus::kConnectFailure};
    }
    std::string key = target.endpoint;
    co_return co_await exchange(tunnelPool_, std::move(key), target, request, deadline, limits, flow);
  }
  if (target.tls != nullptr) {
    std::string key = target.tls->poolKey(target.endpoint, target.sni, false);
    co_return co_await exchange(tlsPool_, std::move(key), target, request, deadline, limits, flow);
  }
  std::string key = target.endpoint;
  co_return co_await exchange(pool_, std::move(key), target, request, deadline, limits, flow);
}

asio::awaitable<GatewayServer::TryStatus> GatewayServer::connectTcp(TimedSocket& socket, const std::string& endpoint, Clock::time_point connectBy,
                                                                    std::optional<Clock::time_point> deadline) {
  auto colon = endpoint.rfind(':');
  beast::error_code parseError;
  auto address = asio::ip::make_address(endpoint.substr(0, colon == std::string::npos ? 0 : colon), parseError);
  if (colon == std::string::npos || parseError) co_return TryStatus::kConnectFailure;
  tcp::endpoint to{address, static_cast<unsigned short>(std::atoi(endpoint.c_str() + colon + 1))};
  // A connect is cancelled at its deadline (shutting down a socket still connecting would
  // not end the attempt).
  asio::steady_timer connectTimer(io_, deadline ? std::min(*deadline, connectBy) : connectBy);
  auto connected = co_await (socket.async_connect(to, kUseTuple) || connectTimer.async_wait(kUseTuple));
  if (connected.index() == 0 && !std::get<0>(std::get<0>(connected))) co_return TryStatus::kOk;
  bool timedOutOverall = connected.index() == 1 && deadline && Clock::now() >= *deadline;
  co_return timedOutOverall ? TryStatus::kTimeout : TryStatus::kConnectFailure;
}

asio::awaitable<GatewayServer::TryStatus> GatewayServer::openForRelay(RelayUpstream& into, const Target& target,
                                                                      const weft::v1::ConnectionPool& limits, std::string& reason) {
  if (target.hboneIdentity.empty()) co_return co_await open(into.tcp, target, std::nullopt, limits, reason);
  if (tunnels_ == nullptr) {
    reason = "no workload certificate yet for HBONE";
    co_return TryStatus::kConnectFailure;
  }
  co_return co_await open(into.tunnel, target, std::nullopt, limits, reason);
}

template <class Connection>
asio::awaitable<GatewayServer::TryStatus> GatewayServer::open(std::optional<Connection>& into, const Target& target,
                                                              std::optional<Clock::time_point> deadline,
                                                              const weft::v1::ConnectionPool& limits, std::string& reason) {
  if constexpr (std::is_same_v<Connection, PooledTunnel>) {
    // Bounded by the HBONE pool's connect and handshake timeouts (the connect timeout).
    auto opened = co_await tunnels_->open(target.endpoint, target.hboneIdentity);
    if (!opened) {
      spdlog::info("waypoint: {}", opened.error().message);
      co_return TryStatus::kConnectFailure;
    }
    into.emplace(Connection{TunnelStream(std::move(*opened))});
  } else {
    auto connectTimeout = limits.connect_timeout_ms() > 0 ? std::chrono::milliseconds(limits.connect_timeout_ms()) : options_.connectTimeout;
    auto connectBy = Clock::now() + connectTimeout;
    TimedSocket socket(io_.get_executor());
    TryStatus connected = co_await connectTcp(socket, target.endpoint, connectBy, deadline);
    if (connected != TryStatus::kOk) co_return connected;
    if constexpr (std::is_same_v<Connection, PooledTlsConnection>) {
      // The handshake counts as connecting (Envoy's connect timeout covers it too).
      into.emplace(Connection{TlsStream(std::move(socket), target.tls->context())});
      TlsStream& stream = into->stream;
      if (auto prepared = target.tls->prepare(stream.native_handle(), target.sni, false); !prepared) {
        reason = prepared.error().message;
        co_return TryStatus::kConnectFailure;
      }
      beast::get_lowest_layer(stream).expires_at(deadline ? std::min(*deadline, connectBy) : connectBy);
      auto [handshakeError] = co_await stream.async_handshake(asio::ssl::stream_base::client, kUseTuple);
      Status peerChecked = handshakeError ? Status() : target.tls->checkPeer(stream.native_handle());
      if (handshakeError || !peerChecked) {
        ++upstreamTlsFailures_;
        bool late = beast::get_lowest_layer(stream).expired();
        if (late && deadline && Clock::now() >= *deadline) co_return TryStatus::kTimeout;
        reason = late ? "TLS handshake timed out" : handshakeError ? "TLS error: " + describeHandshakeFailure(stream.native_handle(), handshakeError)
                                                                     : "TLS error: " + peerChecked.error().message;
        spdlog::debug("gateway: TLS to {} (SNI {}): {}", target.endpoint, target.sni, reason);
        co_return TryStatus::kConnectFailure;
      }
    } else {
      into.emplace(Connection{std::move(socket)});
    }
  }
  into->buffer.reserve(kUpstreamReadBytes);  // one read per typical response, as the client's in serve()
  co_return TryStatus::kOk;
}

template <class Connection>
asio::awaitable<GatewayServer::TryResult> GatewayServer::exchange(BasicUpstreamPool<Connection>& pool, std::string poolKey, const Target& target,
                                                                  const Request& request, std::optional<Clock::time_point> deadline,
                                                                  const weft::v1::ConnectionPool& limits, BodyFlow flow) {
  TryResult result;
  // A pooled connection first; if it turns out dead before any response byte, a fresh one.
  for (int round = 0; round < 2; ++round) {
    std::optional<Connection> pooled = round == 0 ? pool.take(poolKey) : std::nullopt;
    if (pooled && outlived(*pooled, limits)) pooled.reset();  // closed, not reused
    bool reused = pooled.has_value();
    if (!reused) {
      result.status = co_await open(pooled, target, deadline, limits, result.failureReason);
      if (result.status != TryStatus::kOk) co_return result;
    }
    Connection& connection = *pooled;
    auto& lowest = beast::get_lowest_layer(connection.stream);
    if (deadline) {
      lowest.expires_at(*deadline);
    } else {
      lowest.expires_never();
    }
    beast::error_code writeError;
    if (flow.request == nullptr) {
      auto [error, written] = co_await asio::async_write(connection.stream, gatherMessage(request, connection.head), kUseTuple);
      writeError = error;
    } else {
      // The head, then the client's body as it arrives; each write within the idle timeout
      // (and the deadline), since a stalled upstream must not hold the client forever.
      renderHead(request.base(), connection.head);
      auto [error, written] = co_await asio::async_write(connection.stream, asio::buffer(connection.head), kUseTuple);
      writeError = error;
      if (!writeError) {
        auto armWrite = [&] {
          auto writeBy = Clock::now() + options_.bodyTimeout;
          lowest.expires_at(deadline ? std::min(*deadline, writeBy) : writeBy);
        };
        RelayEnd relayed = co_await relayBody(*flow.request, connection.stream, !flow.request->length, armWrite);
        if (relayed == RelayEnd::kSourceFailed) {
          spdlog::debug("gateway: client body to {} broke off after {} bytes", target.endpoint, flow.request->taken);
          result.status = TryStatus::kReset;
          result.clientBodyFailed = true;
          co_return result;
        }
        if (relayed == RelayEnd::kSinkFailed) writeError = asio::error::broken_pipe;
        if (deadline) {
          lowest.expires_at(*deadline);
        } else {
          lowest.expires_never();
        }
      }
    }
    // Again on a fresh connection only while none of a streamed body was taken.
    bool resendable = flow.request == nullptr || flow.request->taken == 0;
    if (writeError) {
      if (timedOut(connection.stream, writeError)) {
        result.status = TryStatus::kTimeout;
        co_return result;
      }
      if (reused && resendable) continue;
      result.status = TryStatus::kReset;
      co_return result;
    }
    http::response_parser<http::string_body> parser;
    // Beast judges a Content-Length against the limit with the head: set once the body is
    // known to be held (a streamed one has none).
    parser.body_limit(boost::none);
    if (request.method() == http::verb::head) parser.skip(true);
    // The head first: it decides whether the body is read whole or streamed (streamed_body.h).
    auto [readError, read] = co_await http::async_read_header(connection.stream, connection.buffer, parser, kUseTuple);
    if (readError) {
      if (timedOut(connection.stream, readError)) {
        result.status = TryStatus::kTimeout;
        co_return result;
      }
      if (reused && resendable && !parser.got_some()) continue;
      result.status = TryStatus::kReset;
      co_return result;
    }
    ++connection.requests;
    bool spent = (limits.max_requests_per_connection() != 0 && connection.requests >= limits.max_requests_per_connection()) ||
                 outlived(connection, limits);
    const std::chrono::milliseconds keepIdleFor(limits.idle_timeout_ms());  // 0: the pool's default
    auto length = parser.content_length();
    if (flow.responseMayStream && !parser.is_done() && !(length && *length <= kBufferedBodyBytes)) {
      result.response.base() = parser.get().base();
      result.body = std::make_unique<UpstreamBody<Connection>>(pool, std::move(poolKey), std::move(connection), std::move(parser), deadline,
                                                               options_.bodyTimeout, spent ? std::nullopt : std::optional(keepIdleFor));
      co_return result;
    }
    if (length && *length > kMaxBodyBytes) {
      result.status = TryStatus::kReset;  // too large to hold, for a client that cannot take it in pieces
      co_return result;
    }
    parser.body_limit(kMaxBodyBytes);
    // The rest of a small body usually came with the head: parsed here, without another
    // trip through the reactor.
    beast::error_code bodyError = parseBuffered(parser, connection.buffer);
    if (!bodyError && !parser.is_done()) {
      auto [error, bodyRead] = co_await http::async_read(connection.stream, connection.buffer, parser, kUseTuple);
      bodyError = error;
    }
    if (bodyError) {
      result.status = timedOut(connection.stream, bodyError) ? TryStatus::kTimeout : TryStatus::kReset;
      co_return result;
    }
    result.response = parser.release();
    // Bytes after the response are a peer out of step: that connection is not reused.
    if (result.response.keep_alive() && !spent && connection.buffer.size() == 0) pool.put(poolKey, std::move(connection), keepIdleFor);
    co_return result;
  }
  result.status = TryStatus::kReset;
  co_return result;
}

Status GatewayServer::setTunnelCredentials(const hbone::TlsCredentials& credentials, std::string identity) {
  // ISTIO_MUTUAL rules are remade with the new certificate on their next use.
  workloadCredentials_ = credentials;
  istioMutual_.clear();
  auto tunnels = tunnels_ != nullptr ? std::move(tunnels_) : std::make_unique<TunnelUpstream>(io_, options_.connectTimeout, options_.hboneServerPort);
  Status set = tunnels->setCredentials(credentials, std::move(identity));
  // A first certificate that does not load leaves the proxy without tunnels (503 UF to
  // mesh endpoints), never with plaintext to them.
  tunnels_ = std::move(tunnels);
  return set;
}

}  // namespace weft::proxy
