#include "proxy/gateway_server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <cstdio>

#include "proxy/request_checks.h"

namespace weft::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// Hop-by-hop headers (RFC 9110 7.6.1) are the connection's, never forwarded.
constexpr http::field kHopByHop[] = {http::field::connection, http::field::keep_alive, http::field::proxy_connection,
                                     http::field::te, http::field::trailer, http::field::transfer_encoding, http::field::upgrade};

template <class Fields>
void dropHopByHop(Fields& fields) {
  for (auto f : kHopByHop) fields.erase(f);
}

void applyHeaderEdits(http::fields& fields, const weft::v1::HeaderOperations& ops) {
  for (const auto& name : ops.remove()) fields.erase(name);
  for (const auto& [name, value] : ops.set()) fields.set(name, value);
  for (const auto& [name, value] : ops.add()) fields.insert(name, value);
}

bool retryOnHas(const std::string& list, std::string_view what) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string_view item = std::string_view(list).substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item == what) return true;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return false;
}

bool retriableStatus(const std::string& retryOn, unsigned status) {
  if (status >= 500 && retryOnHas(retryOn, "5xx")) return true;
  if ((status == 502 || status == 503 || status == 504) && retryOnHas(retryOn, "gateway-error")) return true;
  // Istio's default policy retries 503s through retriable-status-codes.
  return status == 503 && (retryOnHas(retryOn, "retriable-status-codes") || retryOnHas(retryOn, "503"));
}

std::string requestId(std::minstd_rand& random) {
  std::uniform_int_distribution<uint32_t> d;
  uint32_t a = d(random), b = d(random), c = d(random), e = d(random);
  return fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:04x}{:08x}", a, b >> 16, b & 0xfff, (c & 0x3fff) | 0x8000, c >> 16, e);
}

// The rewritten target: a prefix match's matched part replaced, any other match's whole path.
std::string rewriteTarget(const std::string& target, const CompiledRoute& route) {
  const auto& rewrite = route.spec.route().rewrite();
  if (rewrite.uri_prefix().empty()) return target;
  if (route.path.kind == CompiledMatch::Kind::kPrefix && target.size() >= route.path.value.size()) {
    return rewrite.uri_prefix() + target.substr(route.path.value.size());
  }
  auto query = target.find('?');
  return rewrite.uri_prefix() + (query == std::string::npos ? "" : target.substr(query));
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

void GatewayServer::stop() {
  for (auto& [port, acceptor] : acceptors_) {
    beast::error_code ignored;
    acceptor->close(ignored);
  }
  acceptors_.clear();
  pool_.clear();
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

asio::awaitable<void> GatewayServer::session(tcp::socket socket, uint32_t port) {
  beast::error_code ignored;
  auto remote = socket.remote_endpoint(ignored);
  std::string peer = remote.address().to_string();
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  auto answerAndClose = [&](const Rejection& rejection) -> asio::awaitable<void> {
    auto response = localResponse(rejection.status, rejection.body);
    response.keep_alive(false);
    stream.expires_after(options_.headerTimeout);
    co_await http::async_write(stream, response, kUseTuple);
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  };
  while (true) {
    RequestParser parser;
    configureParser(parser);
    stream.expires_after(options_.headerTimeout);
    auto [headError, headBytes] = co_await http::async_read_header(stream, buffer, parser, kUseTuple);
    if (headError) {
      // A client that went away, or sent nothing (more) in time, is simply closed.
      if (headError == http::error::end_of_stream || headError == beast::error::timeout || headError == asio::error::connection_reset ||
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
    stream.expires_after(options_.bodyTimeout);
    auto [bodyError, bodyBytes] = co_await http::async_read(stream, buffer, parser, kUseTuple);
    if (bodyError) {
      if (bodyError != beast::error::timeout && bodyError != http::error::end_of_stream) co_await answerAndClose(rejectionFor(bodyError));
      co_return;
    }
    Request request = parser.release();
    RequestRecord record;
    record.start = start;
    record.method = std::string(request.method_string());
    record.path = std::string(request.target());
    record.protocol = request.version() == 10 ? "HTTP/1.0" : "HTTP/1.1";
    record.bytesReceived = request.body().size();
    record.userAgent = std::string(request[http::field::user_agent]);
    record.authority = std::string(request[http::field::host]);
    record.forwardedFor = std::string(request["x-forwarded-for"]);
    if (request["x-request-id"].empty()) request.set("x-request-id", requestId(random_));
    record.requestId = std::string(request["x-request-id"]);
    bool keepAlive = request.keep_alive();
    unsigned version = request.version();

    Outcome outcome = co_await handle(std::move(request), port, peer);
    outcome.response.version(version);
    outcome.response.keep_alive(keepAlive);
    stream.expires_after(options_.bodyTimeout);
    auto [writeError, written] = co_await http::async_write(stream, outcome.response, kUseTuple);

    record.responseCode = outcome.response.result_int();
    record.responseFlags = outcome.flags;
    record.bytesSent = outcome.response.body().size();
    record.durationMs = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - startSteady).count());
    record.upstreamHost = outcome.upstreamHost;
    record.upstreamServiceTime = outcome.upstreamTime;
    record.destinationService = outcome.service;
    record.destinationServiceNamespace = outcome.serviceNamespace;
    metrics_.record(record);
    if (options_.accessLog) {
      std::fputs(accessLogLine(record).c_str(), stdout);
      std::fflush(stdout);
    }
    if (writeError || !keepAlive) {
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      co_return;
    }
  }
}

asio::awaitable<GatewayServer::Outcome> GatewayServer::handle(Request request, uint32_t port, std::string peer) {
  std::shared_ptr<const ProxyConfig> config = config_;  // pinned for this request
  Outcome outcome;
  const CompiledVirtualHost* vhost = config->virtualHost(port, request[http::field::host]);
  const CompiledRoute* route = nullptr;
  if (vhost != nullptr) {
    RequestView view{request[http::field::host], request.target(), [&request](std::string_view name) -> std::optional<std::string_view> {
                       auto found = request.find(name);
                       if (found == request.end()) return std::nullopt;
                       return found->value();
                     }};
    route = ProxyConfig::route(*vhost, view);
  }
  if (route == nullptr) {
    outcome.response = localResponse(404, "no route");
    outcome.flags = "NR";
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
  outcome = co_await forward(std::move(request), config, route, std::move(peer));
  applyHeaderEdits(outcome.response.base(), route->spec.response_headers());
  co_return outcome;
}

asio::awaitable<GatewayServer::Outcome> GatewayServer::forward(Request request, std::shared_ptr<const ProxyConfig> config,
                                                               const CompiledRoute* route, std::string peer) {
  Outcome outcome;
  const auto& action = route->spec.route();
  // Weighted pick among the route's clusters.
  uint32_t pick = std::uniform_int_distribution<uint32_t>(0, route->totalWeight - 1)(random_);
  std::string clusterName;
  for (const auto& c : action.clusters()) {
    if (pick < c.weight()) {
      clusterName = c.cluster();
      break;
    }
    pick -= c.weight();
  }
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

  dropHopByHop(request.base());
  request.target(rewriteTarget(std::string(request.target()), *route));
  if (!action.rewrite().authority().empty()) request.set(http::field::host, action.rewrite().authority());
  std::string forwardedFor(request["x-forwarded-for"]);
  request.set("x-forwarded-for", forwardedFor.empty() ? peer : forwardedFor + ", " + peer);
  request.set("x-forwarded-proto", "http");
  applyHeaderEdits(request.base(), route->spec.request_headers());
  request.version(11);
  request.keep_alive(true);
  request.prepare_payload();

  auto start = Clock::now();
  std::optional<Clock::time_point> deadline;
  if (action.timeout_ms() > 0) deadline = start + std::chrono::milliseconds(action.timeout_ms());
  uint32_t attempts = 1 + action.retries().attempts();
  const std::string& retryOn = action.retries().retry_on();
  for (uint32_t attempt = 1;; ++attempt) {
    bool last = attempt >= attempts;
    std::string endpoint = cluster->endpoints(static_cast<int>(roundRobin_++ % static_cast<uint64_t>(cluster->endpoints_size())));
    outcome.upstreamHost = endpoint;
    std::optional<Clock::time_point> tryDeadline = deadline;
    if (action.retries().per_try_timeout_ms() > 0) {
      auto perTry = Clock::now() + std::chrono::milliseconds(action.retries().per_try_timeout_ms());
      tryDeadline = deadline ? std::min(*deadline, perTry) : perTry;
    }
    TryResult result = co_await tryOnce(endpoint, request, tryDeadline);
    bool overallExpired = deadline && Clock::now() >= *deadline;
    switch (result.status) {
      case TryStatus::kOk:
        if (!last && !overallExpired && retriableStatus(retryOn, result.response.result_int())) continue;
        outcome.response = std::move(result.response);
        dropHopByHop(outcome.response.base());
        outcome.response.set(http::field::server, "istio-envoy");
        outcome.upstreamTime = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
        outcome.response.set("x-envoy-upstream-service-time", outcome.upstreamTime);
        outcome.response.prepare_payload();
        co_return outcome;
      case TryStatus::kConnectFailure:
        if (!last && !overallExpired && retryOnHas(retryOn, "connect-failure")) continue;
        outcome.response = localResponse(503, "upstream connect error or disconnect/reset before headers. reset reason: connection failure");
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

asio::awaitable<GatewayServer::TryResult> GatewayServer::tryOnce(std::string endpoint, Request request,
                                                                 std::optional<Clock::time_point> deadline) {
  TryResult result;
  auto colon = endpoint.rfind(':');
  beast::error_code parseError;
  auto address = asio::ip::make_address(endpoint.substr(0, colon == std::string::npos ? 0 : colon), parseError);
  if (colon == std::string::npos || parseError) {
    result.status = TryStatus::kConnectFailure;
    co_return result;
  }
  tcp::endpoint target{address, static_cast<unsigned short>(std::atoi(endpoint.c_str() + colon + 1))};
  auto setExpiry = [&](beast::tcp_stream& s) {
    if (deadline) {
      s.expires_at(*deadline);
    } else {
      s.expires_never();
    }
  };
  // A pooled connection first; if it turns out dead before any response byte, a fresh one.
  for (int round = 0; round < 2; ++round) {
    std::optional<beast::tcp_stream> pooled = round == 0 ? pool_.take(endpoint) : std::nullopt;
    bool reused = pooled.has_value();
    beast::tcp_stream stream = reused ? std::move(*pooled) : beast::tcp_stream(io_);
    if (!reused) {
      auto connectBy = Clock::now() + options_.connectTimeout;
      stream.expires_at(deadline ? std::min(*deadline, connectBy) : connectBy);
      auto [connectError] = co_await stream.async_connect(target, kUseTuple);
      if (connectError) {
        result.status = connectError == beast::error::timeout && deadline && Clock::now() >= *deadline ? TryStatus::kTimeout
                                                                                                    : TryStatus::kConnectFailure;
        co_return result;
      }
    }
    setExpiry(stream);
    auto [writeError, written] = co_await http::async_write(stream, request, kUseTuple);
    if (writeError) {
      if (writeError == beast::error::timeout) {
        result.status = TryStatus::kTimeout;
        co_return result;
      }
      if (reused) continue;
      result.status = TryStatus::kReset;
      co_return result;
    }
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxBodyBytes);
    if (request.method() == http::verb::head) parser.skip(true);
    auto [readError, read] = co_await http::async_read(stream, buffer, parser, kUseTuple);
    if (readError) {
      if (readError == beast::error::timeout) {
        result.status = TryStatus::kTimeout;
        co_return result;
      }
      if (reused && !parser.got_some()) continue;
      result.status = TryStatus::kReset;
      co_return result;
    }
    result.response = parser.release();
    if (result.response.keep_alive()) pool_.put(endpoint, std::move(stream));
    co_return result;
  }
  result.status = TryStatus::kReset;
  co_return result;
}

}  // namespace weft::proxy
