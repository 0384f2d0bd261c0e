#include "proxy/h2_upstream.h"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <deque>

#include "base/ascii.h"
#include "hbone/async_signal.h"
#include "proxy/h2_downstream.h"
#include "proxy/request_checks.h"
#include "proxy/request_telemetry.h"
#include "proxy/tunnel_upstream.h"
#include "proxy/upstream_tls.h"

namespace weft::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Socket = asio::generic::stream_protocol::socket;  // TCP, or a socket-pair end relayed into HBONE
using Clock = std::chrono::steady_clock;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr uint32_t kCancel = 0x8;  // RFC 9113 §7 CANCEL

bool isConnectionSpecific(std::string_view name) {
  return name == "connection" || name == "keep-alive" || name == "proxy-connection" || name == "transfer-encoding" || name == "upgrade" ||
         name == "te" || name == "host";
}

// "ip:port" as an address, or nothing.
std::optional<tcp::endpoint> parseEndpoint(const std::string& endpoint) {
  auto colon = endpoint.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  beast::error_code parseError;
  auto address = asio::ip::make_address(endpoint.substr(0, colon), parseError);
  if (parseError) return std::nullopt;
  return tcp::endpoint{address, static_cast<unsigned short>(std::atoi(endpoint.c_str() + colon + 1))};
}

// One request in flight: what the reader has gathered, and the waiting exchange's wake-up
// (or, once the body streams, the body's).
struct PendingStream {
  explicit PendingStream(const asio::any_io_executor& executor) : done(executor) {}
  bool gotHead = false;
  bool finished = false;
  bool mayStream = false;  // the caller takes a body in pieces
  bool streaming = false;  // the head is in and the body goes to `pieces`, not into the response
  bool requestEnded = true;  // our END_STREAM is queued (false while a request body is still being sent)
  std::deque<std::string> pieces;  // DATA not yet taken, not yet consume()d
  H2Exchange result;
  hbone::AsyncSignal done;
};

}  // namespace

// One HTTP/2 connection to an endpoint. `reserved` counts the exchanges that chose it
// (waiting for the connect or with a stream open); new ones are admitted while it is below
// the peer's stream limit.
struct H2UpstreamPool::Connection {
  Connection(asio::io_context& io, std::shared_ptr<H2UpstreamCounters> counters)
      : socket(io), wake(io.get_executor()), connected(io.get_executor()), drained(io.get_executor()), idleTimer(io), counters(std::move(counters)) {}

  enum class State { kConnecting, kReady, kClosed };
  Socket socket;  // closed until connected; a TCP connect in progress is cancelled by close()
  // TLS over `socket` (DestinationRule tls, ALPN h2), or null for h2c. Reads and writes go
  // through it; closing `socket` ends its operations too.
  std::unique_ptr<asio::ssl::stream<Socket&>> tls;
  std::unique_ptr<hbone::H2Codec> codec;
  State state = State::kConnecting;
  bool draining = false;  // GOAWAY received or request budget spent: no new streams
  bool settingsReceived = false;
  size_t reserved = 0;
  uint32_t requests = 0;  // streams opened, for maxRequestsPerConnection
  Clock::time_point opened = Clock::now();  // for maxConnectionDuration
  std::map<int32_t, std::shared_ptr<PendingStream>> streams;
  hbone::AsyncSignal wake;       // the codec may have output
  hbone::AsyncSignal connected;  // the connect finished, either way
  hbone::AsyncSignal drained;    // written, or a stream ended: request bodies' senders look again
  size_t sendingBodies = 0;      // request bodies being sent (the writer wakes them only then)
  asio::steady_timer idleTimer;
  Clock::time_point lastActive = Clock::now();
  std::shared_ptr<H2UpstreamCounters> counters;
  // Why connecting failed, for every exchange that waited on it (a TLS error, say).
  std::string failureReason;
  H2Exchange::Status failedAs = H2Exchange::Status::kConnectFailure;

  // Until the peer's SETTINGS arrive its stream limit is unknown: `limitUntilSettings` is
  // what a sibling connection learned (nghttp2's 100 when none has).
  bool accepting(uint32_t limitUntilSettings) const {
    uint32_t limit = settingsReceived ? codec->peerMaxConcurrentStreams() : limitUntilSettings;
    return state != State::kClosed && !draining && codec->canOpenStreams() && reserved < limit;
  }

  // Ends the connection; every stream still waiting fails as a reset.
  void close() {
    if (state == State::kClosed) return;
    state = State::kClosed;
    beast::error_code ignored;
    socket.shutdown(Socket::shutdown_both, ignored);
    socket.close(ignored);
    for (auto& [id, pending] : streams) {
      if (pending->finished) continue;
      pending->result.status = H2Exchange::Status::kReset;
      pending->finished = true;
      pending->done.notify();
    }
    streams.clear();
    connected.notify();
    wake.notify();
    drained.notify();
    idleTimer.cancel();
  }

  void finish(PendingStream& pending, H2Exchange::Status status) {
    if (pending.finished) return;
    pending.result.status = status;
    pending.finished = true;
    pending.done.notify();
  }

  void onHeaders(int32_t id, hbone::Headers headers) {
    auto found = streams.find(id);
    if (found == streams.end()) return;
    PendingStream& pending = *found->second;
    if (pending.gotHead) {  // trailers
      for (auto& header : headers) {
        if (!header.first.starts_with(':')) pending.result.trailers.push_back(std::move(header));
      }
      return;
    }
    auto statusText = hbone::findHeader(headers, ":status").value_or("");
    unsigned status = 0;
    auto parsed = std::from_chars(statusText.data(), statusText.data() + statusText.size(), status);
    if (parsed.ec != std::errc() || status < 100 || status > 999) {
      codec->submitReset(id, 0x1);  // PROTOCOL_ERROR; nghttp2 checks this already
      finish(pending, H2Exchange::Status::kReset);
      return;
    }
    if (status < 200) return;  // 1xx: informational, the final head follows
    pending.gotHead = true;
    auto& response = pending.result.response;
    response.version(11);
    response.result(status);
    for (auto& [name, value] : headers) {
      if (!name.starts_with(':')) response.insert(name, value);
    }
    auto length = response.find(http::field::content_length);
    if (pending.mayStream && worthStreaming(response[http::field::content_type],
                                            length == response.end() ? std::nullopt : std::optional(length->value()))) {
      pending.streaming = true;
      pending.done.notify();  // the exchange returns with the head
    }
  }

  void onData(int32_t id, std::string data) {
    auto found = streams.find(id);
    if (found == streams.end() || found->second->finished) {
      codec->consume(id, data.size());
      return;
    }
    PendingStream& pending = *found->second;
    if (pending.streaming) {  // consumed as the body takes it: the window paces the peer
      pending.pieces.push_back(std::move(data));
      pending.done.notify();
      return;
    }
    codec->consume(id, data.size());  // buffered whole, bounded below
    if (pending.result.response.body().size() + data.size() > kMaxBodyBytes) {
      codec->submitReset(id, kCancel);
      finish(pending, H2Exchange::Status::kReset);
      return;
    }
    pending.result.response.body() += data;
  }

  void onEvents() {
    for (auto& event : codec->takeEvents()) {
      if (auto* headers = std::get_if<hbone::StreamHeadersEvent>(&event)) {
        onHeaders(headers->streamId, std::move(headers->headers));
      } else if (auto* data = std::get_if<hbone::StreamDataEvent>(&event)) {
        onData(data->streamId, std::move(data->data));
      } else if (auto* end = std::get_if<hbone::StreamEndEvent>(&event)) {
        if (auto found = streams.find(end->streamId); found != streams.end()) {
          finish(*found->second, found->second->gotHead ? H2Exchange::Status::kOk : H2Exchange::Status::kReset);
        }
      } else if (auto* closed = std::get_if<hbone::StreamClosedEvent>(&event)) {
        // A reset (REFUSED_STREAM after a GOAWAY included) before the answer was whole.
        if (auto found = streams.find(closed->streamId); found != streams.end()) {
          finish(*found->second, H2Exchange::Status::kReset);
          streams.erase(found);
        }
        if (sendingBodies > 0) drained.notify();
        lastActive = Clock::now();
      } else if (std::holds_alternative<hbone::SettingsEvent>(event)) {
        settingsReceived = true;
      } else if (std::holds_alternative<hbone::GoawayEvent>(event)) {
        ++counters->goaways;
        draining = true;
      }
    }
    if (draining && streams.empty() && reserved == 0) close();
    wake.notify();
  }
};

namespace {

using Connection = H2UpstreamPool::Connection;

asio::awaitable<void> readLoop(std::shared_ptr<Connection> connection) {
  char chunk[16384];
  while (connection->state != Connection::State::kClosed) {
    auto [error, got] = connection->tls ? co_await connection->tls->async_read_some(asio::buffer(chunk), kUseTuple)
                                        : co_await connection->socket.async_read_some(asio::buffer(chunk), kUseTuple);
    if (error) break;
    auto failure = connection->codec->receive({reinterpret_cast<const uint8_t*>(chunk), got});
    connection->onEvents();
    if (failure != hbone::H2Failure::kNone) {
      ++connection->counters->protocolErrors;
      spdlog::debug("gateway h2 upstream: session ended: {}", hbone::describe(failure));
      break;
    }
  }
  connection->close();
}

asio::awaitable<void> writeLoop(std::shared_ptr<Connection> connection) {
  while (connection->state != Connection::State::kClosed) {
    while (connection->codec->wantsWrite()) {
      std::string out = connection->codec->takeOutput();
      if (out.empty()) break;
      auto [error, written] = connection->tls ? co_await asio::async_write(*connection->tls, asio::buffer(out), kUseTuple)
                                              : co_await asio::async_write(connection->socket, asio::buffer(out), kUseTuple);
      if (error) {
        connection->close();
        co_return;
      }
      if (connection->sendingBodies > 0) connection->drained.notify();  // their queues may have room
    }
    if (connection->state == Connection::State::kClosed) co_return;
    co_await connection->wake.wait();
  }
}

// Closes the connection once it has carried no stream for the idle timeout.
asio::awaitable<void> idleLoop(std::shared_ptr<Connection> connection, std::chrono::milliseconds idleTimeout) {
  while (connection->state != Connection::State::kClosed) {
    // While streams are open, lastActive does not move: waking at a deadline already past
    // would spin, so a busy connection is looked at again one idle timeout from now.
    bool busy = !connection->streams.empty() || connection->reserved != 0;
    connection->idleTimer.expires_at((busy ? std::max(Clock::now(), connection->lastActive) : connection->lastActive) + idleTimeout);
    co_await connection->idleTimer.async_wait(kUseTuple);
    if (connection->state == Connection::State::kClosed) co_return;
    if (connection->streams.empty() && connection->reserved == 0 && Clock::now() >= connection->lastActive + idleTimeout) {
      ++connection->counters->idleClosed;
      connection->close();
    }
  }
}

// Gives back an exchange's claim on a connection on every way out.
struct Reservation {
  std::shared_ptr<Connection> connection;
  ~Reservation() {
    --connection->reserved;
    connection->lastActive = Clock::now();
    if (connection->draining && connection->streams.empty() && connection->reserved == 0) connection->close();
  }
};

// Sends a request's body on stream `id` as the client's pieces come, at most kSendHighWater
// queued, and ends the stream with it. Stops when the stream is gone (answered, reset,
// timed out, connection lost); a client body that breaks off, or an upstream that takes
// nothing for `stallTimeout`, resets the stream.
asio::awaitable<void> sendRequestBody(std::shared_ptr<Connection> connection, int32_t id, std::shared_ptr<PendingStream> pending,
                                      std::shared_ptr<StreamedBody> body, std::chrono::milliseconds stallTimeout) {
  ++connection->sendingBodies;
  auto live = [&] { return connection->state != Connection::State::kClosed && !pending->finished && connection->streams.contains(id); };
  auto resetStream = [&] {
    connection->codec->submitReset(id, kCancel);
    connection->finish(*pending, H2Exchange::Status::kReset);
    connection->wake.notify();
    pending->requestEnded = true;
  };
  asio::steady_timer stall(co_await asio::this_coro::executor);
  while (live()) {
    auto piece = co_await body->next();
    if (!live()) break;
    if (!piece) {
      spdlog::debug("gateway h2 upstream: stream {}: the client's body broke off: {}", id, piece.error().message);
      resetStream();
      break;
    }
    if (piece->empty()) {
      (void)connection->codec->submitEnd(id);
      connection->wake.notify();
      pending->requestEnded = true;
      break;
    }
    (void)connection->codec->submitData(id, {reinterpret_cast<const uint8_t*>(piece->data()), piece->size()});
    connection->wake.notify();
    const auto until = Clock::now() + stallTimeout;
    while (live() && connection->codec->queuedToSend(id) > kSendHighWater) {
      if (Clock::now() >= until) {
        resetStream();
        break;
      }
      stall.expires_at(until);
      auto woke = co_await (connection->drained.wait() || stall.async_wait(kUseTuple));
      (void)woke;  // either way, look again
    }
  }
  // Left with our half still open (the answer ended first, or the stream was given up): a
  // stream nobody will end would hold one of the peer's concurrent streams for good.
  if (!pending->requestEnded && connection->state != Connection::State::kClosed) {
    connection->codec->submitReset(id, kCancel);
    connection->wake.notify();
    pending->requestEnded = true;
  }
  --connection->sendingBodies;
}

// The rest of a streamed response: DATA as the reader queued it, each piece consume()d as it
// is taken. Holds a claim on the connection until it is dropped; dropped before its end,
// it resets the stream.
class H2UpstreamBody final : public StreamedBody {
 public:
  H2UpstreamBody(std::shared_ptr<Connection> connection, std::shared_ptr<PendingStream> pending, int32_t id,
                 std::optional<Clock::time_point> deadline, std::chrono::milliseconds idleTimeout)
      : claim_{std::move(connection)}, pending_(std::move(pending)), id_(id), deadline_(deadline), idleTimeout_(idleTimeout) {
    ++claim_.connection->reserved;
  }

  ~H2UpstreamBody() override {
    Connection& connection = *claim_.connection;
    if (connection.state == Connection::State::kClosed) return;
    if (!pending_->finished || !pending_->requestEnded) connection.codec->submitReset(id_, kCancel);
    // Untaken DATA still counts against the connection's window: give it back.
    for (const auto& piece : pending_->pieces) connection.codec->consume(id_, piece.size());
    pending_->requestEnded = true;  // reset above if it was not: a sender stops here
    connection.streams.erase(id_);
    connection.wake.notify();
    connection.drained.notify();
  }

  asio::awaitable<Result<std::string_view>> next() override {
    Connection& connection = *claim_.connection;
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (pending_->pieces.empty() && !pending_->finished) {
      auto wakeAt = Clock::now() + idleTimeout_;
      if (deadline_) wakeAt = std::min(wakeAt, *deadline_);
      timer.expires_at(wakeAt);
      auto woke = co_await (pending_->done.wait() || timer.async_wait(kUseTuple));
      (void)woke;  // either way, look again
      if (pending_->pieces.empty() && !pending_->finished && Clock::now() >= wakeAt) {
        timedOut = true;
        co_return makeError("HTTP/2 response body: timed out");
      }
    }
    if (!pending_->pieces.empty()) {
      current_ = std::move(pending_->pieces.front());
      pending_->pieces.pop_front();
      if (connection.state != Connection::State::kClosed) {
        connection.codec->consume(id_, current_.size());
        connection.wake.notify();  // a WINDOW_UPDATE to send
      }
      taken += current_.size();
      co_return std::string_view(current_);
    }
    if (pending_->result.status != H2Exchange::Status::kOk) co_return makeError("HTTP/2 response body: the stream was reset");
    ended_ = true;
    trailers = pending_->result.trailers;
    co_return std::string_view();
  }

  bool ended() const override { return ended_; }

 private:
  Reservation claim_;
  std::shared_ptr<PendingStream> pending_;
  int32_t id_;
  std::optional<Clock::time_point> deadline_;
  std::chrono::milliseconds idleTimeout_;
  std::string current_;
  bool ended_ = false;
};

}  // namespace

hbone::Headers http2RequestHeaders(const H2UpstreamPool::Request& request, hbone::H2Codec::RequestHead& head) {
  head.method = std::string(request.method_string());
  head.scheme = "http";
  head.authority = std::string(request[http::field::host]);
  head.path = request.target().empty() ? "/" : std::string(request.target());
  hbone::Headers headers;
  for (const auto& field : request) {
    std::string name = asciiLower(field.name_string());
    if (isConnectionSpecific(name)) continue;
    headers.emplace_back(std::move(name), std::string(field.value()));
  }
  if (isGrpcContentType(request[http::field::content_type])) headers.emplace_back("te", "trailers");
  return headers;
}

bool usesHttp2Upstream(const weft::v1::ConnectionPool& pool, unsigned requestVersion) {
  switch (pool.upstream_protocol()) {
    case weft::v1::ConnectionPool::HTTP2: return true;
    case weft::v1::ConnectionPool::CLIENT: return requestVersion == kHttp2Version;
    default: return false;
  }
}

H2UpstreamPool::Limits h2LimitsOf(const weft::v1::ConnectionPool& pool) {
  H2UpstreamPool::Limits limits{std::chrono::milliseconds(pool.connect_timeout_ms()), pool.max_requests_per_connection(),
                                std::chrono::milliseconds(pool.idle_timeout_ms())};
  limits.maxConnectionDuration = std::chrono::milliseconds(pool.max_connection_duration_ms());
  return limits;
}

H2UpstreamPool::H2UpstreamPool(asio::io_context& io, H2UpstreamOptions options)
    : io_(io), options_(options), counters_(std::make_shared<H2UpstreamCounters>()) {}

H2UpstreamPool::~H2UpstreamPool() { clear(); }

void H2UpstreamPool::clear() {
  for (auto& [endpoint, list] : connections_) {
    for (auto& connection : list) connection->close();
  }
  connections_.clear();
}

std::string H2Destination::poolKey() const {
  if (!hboneIdentity.empty()) return endpoint + " hbone " + hboneIdentity;
  if (tls != nullptr) return tls->poolKey(endpoint, sni, true);
  return endpoint;
}

size_t H2UpstreamPool::connectionCount(const std::string& poolKey) const {
  auto found = connections_.find(poolKey);
  if (found == connections_.end()) return 0;
  return std::count_if(found->second.begin(), found->second.end(),
                       [](const auto& c) { return c->state != Connection::State::kClosed; });
}

std::shared_ptr<Connection> H2UpstreamPool::pick(const std::string& poolKey, std::chrono::milliseconds maxConnectionDuration) {
  auto& list = connections_[poolKey];
  if (maxConnectionDuration.count() != 0) {
    auto now = Clock::now();
    for (auto& connection : list) {
      if (connection->draining || now - connection->opened < maxConnectionDuration) continue;
      connection->draining = true;
      if (connection->streams.empty() && connection->reserved == 0) connection->close();
    }
  }
  std::erase_if(list, [](const auto& c) { return c->state == Connection::State::kClosed; });
  uint32_t known = 100;
  for (const auto& connection : list) {
    if (connection->settingsReceived) known = connection->codec->peerMaxConcurrentStreams();
  }
  for (auto& connection : list) {
    if (connection->accepting(known)) return connection;
  }
  return nullptr;
}

asio::awaitable<H2Exchange::Status> H2UpstreamPool::connect(std::shared_ptr<Connection> connection, H2Destination destination,
                                                            std::optional<Clock::time_point> deadline, Limits limits,
                                                            std::string& failureReason) {
  if (!destination.hboneIdentity.empty()) {
    // Bounded by the HBONE pool's connect and handshake timeouts (the connect timeout), not
    // by the deadline: cancelling a half-open HBONE connection other callers share is the
    // HBONE pool's business (to do there, for both protocols).
    auto opened = co_await destination.tunnels->open(destination.endpoint, destination.hboneIdentity);
    if (!opened) {
      spdlog::info("gateway h2 upstream: {}", opened.error().message);
      co_return H2Exchange::Status::kConnectFailure;
    }
    // Closed meanwhile (the pool cleared): the stream ends as the socket-pair end goes.
    if (connection->state == Connection::State::kClosed) co_return H2Exchange::Status::kConnectFailure;
    connection->socket = Socket(std::move(*opened));
    ++counters_->tunnelled;
    co_return H2Exchange::Status::kOk;
  }
  std::optional<tcp::endpoint> target = parseEndpoint(destination.endpoint);
  if (!target) co_return H2Exchange::Status::kConnectFailure;  // exchange() looked already
  auto connectTimeout = limits.connectTimeout.count() > 0 ? limits.connectTimeout : options_.connectTimeout;
  auto connectBy = Clock::now() + connectTimeout;
  asio::steady_timer timer(io_);
  timer.expires_at(deadline ? std::min(*deadline, connectBy) : connectBy);
  // The timer winning cancels the connect; so does close() (the socket is closed under it).
  auto woke = co_await (connection->socket.async_connect(Socket::endpoint_type(*target), kUseTuple) || timer.async_wait(kUseTuple));
  if (woke.index() == 1) co_return deadline && Clock::now() >= *deadline ? H2Exchange::Status::kTimeout : H2Exchange::Status::kConnectFailure;
  auto [connectError] = std::get<0>(woke);
  if (connectError || connection->state == Connection::State::kClosed) co_return H2Exchange::Status::kConnectFailure;
  beast::error_code ignored;
  connection->socket.set_option(tcp::no_delay(true), ignored);
  if (destination.tls == nullptr) co_return H2Exchange::Status::kOk;
  co_return co_await handshake(connection, destination, deadline ? std::min(*deadline, connectBy) : connectBy, failureReason);
}

asio::awaitable<H2Exchange::Status> H2UpstreamPool::handshake(std::shared_ptr<Connection> connection, const H2Destination& destination,
                                                              Clock::time_point by, std::string& failureReason) {
  connection->tls = std::make_unique<asio::ssl::stream<Socket&>>(connection->socket, destination.tls->context());
  SSL* ssl = connection->tls->native_handle();
  if (auto prepared = destination.tls->prepare(ssl, destination.sni, true); !prepared) {
    failureReason = prepared.error().message;
    co_return H2Exchange::Status::kConnectFailure;
  }
  // The handshake counts as connecting, so the same bound ends it: the socket is shut down
  // under it (TLS operations are not cancelled one by one).
  // Shared with the timer's handler, which may run after this frame is gone.
  struct Race {
    bool finished = false;
    bool late = false;
  };
  auto race = std::make_shared<Race>();
  asio::steady_timer guard(io_);
  guard.expires_at(by);
  guard.async_wait([weak = std::weak_ptr<Connection>(connection), race](const beast::error_code& error) {
    auto alive = weak.lock();
    if (error || race->finished || alive == nullptr) return;
    race->late = true;
    beast::error_code ignored;
    alive->socket.shutdown(Socket::shutdown_both, ignored);
  });
  auto [handshakeError] = co_await connection->tls->async_handshake(asio::ssl::stream_base::client, kUseTuple);
  race->finished = true;
  guard.cancel();
  bool late = race->late;
  Status peerChecked = handshakeError ? Status() : destination.tls->checkPeer(ssl);
  if (!handshakeError && peerChecked) co_return H2Exchange::Status::kOk;
  ++counters_->tlsFailures;
  failureReason = late ? "TLS handshake timed out" : handshakeError ? "TLS error: " + describeHandshakeFailure(ssl, handshakeError)
                                                                     : "TLS error: " + peerChecked.error().message;
  spdlog::debug("gateway h2 upstream: TLS to {} (SNI {}): {}", destination.endpoint, destination.sni, failureReason);
  co_return H2Exchange::Status::kConnectFailure;
}

asio::awaitable<H2Exchange> H2UpstreamPool::exchange(H2Destination destination, const Request& request,
                                                      std::optional<Clock::time_point> deadline, Limits limits) {
  H2Exchange failed;
  hbone::H2Codec::RequestHead head;
  hbone::Headers headers = http2RequestHeaders(request, head);
  std::string body = request.body();

  std::string key = destination.poolKey();
  std::shared_ptr<Connection> connection = pick(key, limits.maxConnectionDuration);
  const bool opened = connection == nullptr;  // this exchange starts the connection
  if (opened) {
    if (!parseEndpoint(destination.endpoint)) {
      failed.status = H2Exchange::Status::kConnectFailure;
      co_return failed;
    }
    // A mesh endpoint without the proxy's certificate: never plaintext (its mTLS would be
    // skipped), so not at all.
    if (!destination.hboneIdentity.empty() && destination.tunnels == nullptr) {
      spdlog::info("gateway: no workload certificate yet for HBONE to {}", destination.endpoint);
      failed.status = H2Exchange::Status::kConnectFailure;
      co_return failed;
    }
    connection = std::make_shared<Connection>(io_, counters_);
    auto codec = hbone::H2Codec::make(hbone::H2Role::kClient, hbone::H2Settings::client());
    if (!codec) {
      spdlog::error("gateway h2 upstream: {}", codec.error().message);
      failed.status = H2Exchange::Status::kConnectFailure;
      co_return failed;
    }
    connection->codec = std::move(*codec);
    connections_[key].push_back(connection);
    // Connecting is the connection's, not this exchange's: bounded by the connect timeout
    // alone, so a short route timeout here does not fail the exchanges that join it. This
    // one then waits like any of them, within its own deadline.
    asio::co_spawn(io_, establish(connection, std::move(destination), limits), asio::detached);
  }
  Reservation claim{connection};
  ++connection->reserved;
  if (connection->state == Connection::State::kConnecting) {
    asio::steady_timer timer(io_);
    timer.expires_at(deadline.value_or(Clock::time_point::max()));
    while (connection->state == Connection::State::kConnecting) {
      auto woke = co_await (connection->connected.wait() || timer.async_wait(kUseTuple));
      if (woke.index() == 1 && connection->state == Connection::State::kConnecting) {
        failed.status = H2Exchange::Status::kTimeout;
        co_return failed;
      }
    }
    if (connection->state == Connection::State::kClosed) {
      failed.status = connection->failedAs;
      failed.failureReason = connection->failureReason;
      failed.tlsFailed = opened && connection->tls != nullptr;  // counted once per connection
      co_return failed;
    }
  }
  co_return co_await send(connection, std::move(headers), std::move(head), std::move(body), deadline, limits);
}

asio::awaitable<void> H2UpstreamPool::establish(std::shared_ptr<Connection> connection, H2Destination destination, Limits limits) {
  H2Exchange::Status connected = co_await connect(connection, std::move(destination), std::nullopt, limits, connection->failureReason);
  if (connected == H2Exchange::Status::kOk && connection->state == Connection::State::kClosed) connected = H2Exchange::Status::kConnectFailure;
  if (connected != H2Exchange::Status::kOk) {
    ++counters_->connectFailures;
    connection->failedAs = connected;
    connection->close();  // wakes every exchange waiting on it
    co_return;
  }
  ++counters_->connections;
  connection->state = Connection::State::kReady;
  asio::co_spawn(io_, readLoop(connection), asio::detached);
  asio::co_spawn(io_, writeLoop(connection), asio::detached);
  const auto idleTimeout = limits.idleTimeout.count() > 0 ? limits.idleTimeout : options_.idleTimeout;
  asio::co_spawn(io_, idleLoop(connection, idleTimeout), asio::detached);
  connection->connected.notify();
}

asio::awaitable<H2Exchange> H2UpstreamPool::send(std::shared_ptr<Connection> connection, hbone::Headers headers,
                                                  hbone::H2Codec::RequestHead head, std::string body,
                                                  std::optional<Clock::time_point> deadline, Limits limits) {
  H2Exchange failed;
  failed.status = H2Exchange::Status::kReset;
  if (connection->state != Connection::State::kReady) co_return failed;
  const bool bodyFollows = limits.requestBody != nullptr;
  auto opened = connection->codec->submitRequest(head, headers, body.empty() && !bodyFollows);
  if (!opened) {
    spdlog::debug("gateway h2 upstream: {}", opened.error().message);
    co_return failed;
  }
  const int32_t id = *opened;
  if (!body.empty()) {
    (void)connection->codec->submitData(id, {reinterpret_cast<const uint8_t*>(body.data()), body.size()});
    (void)connection->codec->submitEnd(id);
  }
  auto pending = std::make_shared<PendingStream>(io_.get_executor());
  pending->mayStream = limits.responseMayStream;
  pending->requestEnded = !bodyFollows;
  connection->streams[id] = pending;
  ++counters_->streams;
  if (limits.maxRequestsPerConnection != 0 && ++connection->requests >= limits.maxRequestsPerConnection) connection->draining = true;
  connection->wake.notify();
  if (bodyFollows) asio::co_spawn(io_, sendRequestBody(connection, id, pending, limits.requestBody, options_.bodyTimeout), asio::detached);
  const bool claimed = bodyFollows;  // every answer from here on says so

  asio::steady_timer timer(io_);
  timer.expires_at(deadline.value_or(Clock::time_point::max()));
  while (!pending->finished && !pending->streaming) {
    auto woke = co_await (pending->done.wait() || timer.async_wait(kUseTuple));
    if (woke.index() == 1 && !pending->finished && !pending->streaming && deadline && Clock::now() >= *deadline) {
      // Nobody waits for this answer any more: tell the peer, and forget the stream.
      if (connection->state != Connection::State::kClosed) {
        connection->codec->submitReset(id, kCancel);
        connection->streams.erase(id);
        connection->wake.notify();
        connection->drained.notify();
      }
      pending->requestEnded = true;  // reset: nothing more goes on this stream
      H2Exchange late;
      late.status = H2Exchange::Status::kTimeout;
      late.requestBodyClaimed = claimed;
      co_return late;
    }
  }
  if (pending->streaming && !pending->finished) {
    H2Exchange streamed;
    streamed.requestBodyClaimed = claimed;
    streamed.response = std::move(pending->result.response);  // the head alone
    auto body = std::make_unique<H2UpstreamBody>(connection, pending, id, deadline, options_.bodyTimeout);
    body->length = contentLengthOf(streamed.response[http::field::content_length]);
    streamed.body = std::move(body);
    co_return streamed;
  }
  // It all came before this exchange woke (a small answer in one read): held after all.
  for (auto& piece : pending->pieces) {
    if (connection->state != Connection::State::kClosed) connection->codec->consume(id, piece.size());
    pending->result.response.body() += piece;
  }
  if (!pending->pieces.empty()) connection->wake.notify();
  // Answered before the request body ended: our half is given up now, not whenever the
  // sender next wakes (it may be waiting for the client for minutes).
  if (!pending->requestEnded && connection->state != Connection::State::kClosed) {
    connection->codec->submitReset(id, kCancel);
    connection->wake.notify();
    pending->requestEnded = true;
  }
  connection->streams.erase(id);
  connection->drained.notify();  // a sender still waiting for room sees the stream gone
  pending->result.requestBodyClaimed = claimed;
  co_return std::move(pending->result);
}

}  // namespace weft::proxy
