#include "proxy/h2_downstream.h"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <deque>
#include <map>
#include <memory>
#include <set>

#include "base/ascii.h"
#include "hbone/async_signal.h"
#include "hbone/h2_codec.h"
#include "proxy/request_checks.h"
#include "proxy/request_telemetry.h"
#include "proxy/timed_socket.h"

namespace weft::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

class H2RequestBody;

// A stream whose request is still arriving: held here whole, or passed on in pieces.
struct Incoming {
  hbone::Headers headers;
  std::string body;
  bool refused = false;  // already answered here; the rest of its body is dropped
  std::shared_ptr<H2RequestBody> streamed;  // set when its body goes to the responder in pieces
};

// A stream whose answer's body is being sent in pieces: the sender waits on `waiting`
// while its queue is full, and is woken (the timer cancelled) when the writer wrote, the
// stream closed or the session ended.
struct SendingBody {
  bool closed = false;
  asio::steady_timer* waiting = nullptr;
};

// What the reader, the writer and the answers in flight share. Answers hold it by
// shared_ptr, so one that finishes after the connection ended touches nothing freed.
struct Session {
  explicit Session(const asio::any_io_executor& executor) : executor(executor), wake(executor) {}
  asio::any_io_executor executor;
  std::unique_ptr<hbone::H2Codec> codec;
  std::map<int32_t, Incoming> incoming;
  std::map<int32_t, size_t> answering;  // stream -> its buffered body bytes, until answered
  size_t bufferedBodyBytes = 0;
  std::map<int32_t, SendingBody> sending;
  hbone::AsyncSignal wake;  // the codec may have output
  bool ended = false;

  void wakeSenders() {
    for (auto& [id, body] : sending) {
      if (body.waiting != nullptr) body.waiting->cancel();
    }
  }
};

bool isConnectionSpecific(std::string_view name) {
  return name == "connection" || name == "keep-alive" || name == "proxy-connection" || name == "transfer-encoding" || name == "upgrade";
}

hbone::Headers headersOf(const H2Response& response) {
  hbone::Headers headers;
  headers.reserve(std::distance(response.begin(), response.end()));
  for (const auto& field : response) {
    std::string name = asciiLower(field.name_string());
    if (isConnectionSpecific(name)) continue;
    headers.emplace_back(std::move(name), std::string(field.value()));
  }
  return headers;
}

void answer(Session& session, int32_t streamId, const H2Response& response, const hbone::Headers& trailers = {}) {
  hbone::Headers headers = headersOf(response);
  const std::string& body = response.body();
  bool endStream = body.empty() && trailers.empty();
  if (auto sent = session.codec->submitResponse(streamId, static_cast<int>(response.result_int()), headers, endStream); !sent) {
    spdlog::debug("gateway h2: stream {}: {}", streamId, sent.error().message);
    return;
  }
  if (!endStream) {
    (void)session.codec->submitData(streamId, {reinterpret_cast<const uint8_t*>(body.data()), body.size()});
    if (auto ended = session.codec->submitEnd(streamId, trailers); !ended) {
      // Trailers HTTP/2 cannot carry (upper case, connection-specific): end without them.
      spdlog::debug("gateway h2: stream {}: {}", streamId, ended.error().message);
      (void)session.codec->submitEnd(streamId);
    }
  }
  session.wake.notify();
}

// A request body that streams: the reader queues the client's DATA here, the responder
// takes it, and each piece is consume()d (the client's window reopened) only then. Once
// the answer is out, release() gives back what is left, and DATA arriving later goes by.
class H2RequestBody final : public StreamedBody {
 public:
  H2RequestBody(const std::shared_ptr<Session>& session, int32_t streamId, std::chrono::milliseconds idleTimeout)
      : session_(session), streamId_(streamId), idleTimeout_(idleTimeout), signal_(session->executor) {}

  void push(std::string piece) {
    if (released_) return giveBack(piece.size());
    pieces_.push_back(std::move(piece));
    signal_.notify();
  }
  void end() {
    endSeen_ = true;
    signal_.notify();
  }
  void fail() {
    failed_ = true;
    signal_.notify();
  }
  void release() {
    released_ = true;
    for (const auto& piece : pieces_) giveBack(piece.size());
    pieces_.clear();
    signal_.notify();  // a reader waiting for more (an upstream's sender) stops now
  }

  asio::awaitable<Result<std::string_view>> next() override {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (pieces_.empty() && !endSeen_ && !failed_ && !released_) {
      const auto wakeAt = std::chrono::steady_clock::now() + idleTimeout_;
      timer.expires_at(wakeAt);
      auto woke = co_await (signal_.wait() || timer.async_wait(kUseTuple));
      (void)woke;  // either way, look again
      if (pieces_.empty() && !endSeen_ && !failed_ && std::chrono::steady_clock::now() >= wakeAt) {
        timedOut = true;
        co_return makeError("HTTP/2 request body: timed out");
      }
    }
    if (!pieces_.empty()) {
      current_ = std::move(pieces_.front());
      pieces_.pop_front();
      giveBack(current_.size());
      taken += current_.size();
      co_return std::string_view(current_);
    }
    if (failed_ || released_) co_return makeError("HTTP/2 request body: the client reset the stream");
    done_ = true;
    co_return std::string_view();
  }
  bool ended() const override { return done_; }

 private:
  void giveBack(size_t bytes) {
    auto session = session_.lock();
    if (session == nullptr || session->ended) return;
    session->codec->consume(streamId_, bytes);
    session->wake.notify();  // a WINDOW_UPDATE to send
  }

  std::weak_ptr<Session> session_;  // the session holds this body: no cycle
  int32_t streamId_;
  std::chrono::milliseconds idleTimeout_;
  hbone::AsyncSignal signal_;
  std::deque<std::string> pieces_;
  std::string current_;
  bool endSeen_ = false, failed_ = false, released_ = false, done_ = false;
};

bool requestWorthStreaming(const hbone::Headers& headers) {
  return worthStreaming(hbone::findHeader(headers, "content-type").value_or(""), hbone::findHeader(headers, "content-length"));
}

H2Response plainAnswer(unsigned status, std::string_view body) {
  H2Response response{static_cast<http::status>(status), 11};
  response.set(http::field::content_type, "text/plain");
  response.body() = std::string(body);
  response.prepare_payload();
  return response;
}

// An answer with a streamed body that will not be sent (the client reset the stream, or the
// connection is gone): its owner still hears how it ended.
void abandon(H2Answer& answered) {
  if (answered.finished) answered.finished(RelayEnd::kSinkFailed);
}

// Sends a streamed answer: the head now, then each piece of the body as it comes, waiting
// while more than kSendHighWater of the stream is queued. Ends the stream with the body (or
// resets it when the body failed), tells the answer's owner how it went, and lets go of
// what is left of the request's streamed body, if any.
asio::awaitable<void> sendBody(std::shared_ptr<Session> session, int32_t streamId, H2Answer answered, std::chrono::milliseconds stallTimeout,
                               std::shared_ptr<H2RequestBody> requestBody) {
  session->sending[streamId] = SendingBody{};
  auto gone = [&] {
    auto found = session->sending.find(streamId);
    return session->ended || found == session->sending.end() || found->second.closed;
  };
  RelayEnd end = RelayEnd::kSinkFailed;
  if (auto sent = session->codec->submitResponse(streamId, static_cast<int>(answered.response.result_int()), headersOf(answered.response), false);
      !sent) {
    spdlog::debug("gateway h2: stream {}: {}", streamId, sent.error().message);
  } else {
    session->wake.notify();
    asio::steady_timer stall(session->executor);
    while (!gone()) {
      auto piece = co_await answered.body->next();
      if (gone()) break;
      if (!piece) {
        end = RelayEnd::kSourceFailed;
        session->codec->submitReset(streamId, 0x2);  // INTERNAL_ERROR: the client must not take a short body for whole
        break;
      }
      if (piece->empty()) {
        // With what followed the body (an HTTP/2 upstream's trailers: gRPC's status). A client
        // still sending is then told to stop (RST_STREAM NO_ERROR, once the end is out).
        const auto& trailers = answered.body->trailers.empty() ? answered.trailers : answered.body->trailers;
        session->codec->resetOnceAnswered(streamId);
        auto ended = session->codec->submitEnd(streamId, trailers);
        if (!ended) {
          spdlog::debug("gateway h2: stream {}: {}", streamId, ended.error().message);
          ended = session->codec->submitEnd(streamId);  // trailers HTTP/2 cannot carry: end without them
        }
        end = ended ? RelayEnd::kDone : RelayEnd::kSinkFailed;
        break;
      }
      if (!session->codec->submitData(streamId, {reinterpret_cast<const uint8_t*>(piece->data()), piece->size()})) break;
      session->wake.notify();
      const auto until = std::chrono::steady_clock::now() + stallTimeout;
      while (!gone() && session->codec->queuedToSend(streamId) > kSendHighWater) {
        if (std::chrono::steady_clock::now() >= until) {
          spdlog::debug("gateway h2: stream {}: the client took none of the body for {} ms", streamId, stallTimeout.count());
          session->codec->submitReset(streamId, 0x8);  // CANCEL
          session->sending.erase(streamId);
          break;
        }
        session->sending[streamId].waiting = &stall;
        stall.expires_at(until);
        co_await stall.async_wait(kUseTuple);
        if (auto found = session->sending.find(streamId); found != session->sending.end()) found->second.waiting = nullptr;
      }
    }
    session->wake.notify();
  }
  session->sending.erase(streamId);
  if (requestBody != nullptr) requestBody->release();
  answered.finished(end);
}

// The Beast request for a whole stream, or the status to answer instead.
std::variant<H2Request, unsigned> requestOf(Incoming& in) {
  H2Request request;
  request.version(kHttp2Version);
  bool hasMethod = false, hasPath = false, hasScheme = false;
  std::string_view authority;
  for (const auto& [name, value] : in.headers) {
    if (name == ":method") {
      request.method_string(value);
      hasMethod = true;
    } else if (name == ":path") {
      request.target(value);
      hasPath = !value.empty();
    } else if (name == ":scheme") {
      hasScheme = true;
    } else if (name == ":authority") {
      authority = value;
    } else if (!name.empty() && name[0] == ':') {
      return 400u;  // nghttp2 refuses unknown pseudo-headers already; kept for clarity
    } else if (isConnectionSpecific(name)) {
      return 400u;  // RFC 9113 §8.2.2 (nghttp2 checks this too)
    } else {
      request.insert(name, value);
    }
  }
  if (!hasMethod || !hasPath || !hasScheme) return 400u;  // CONNECT (no :path) is not proxied here
  // HTTP/2's :authority stands for Host (RFC 9113 §8.3.1): the routes match on Host.
  if (!authority.empty()) request.set(http::field::host, authority);
  if (request[http::field::host].empty()) return 400u;
  request.body() = std::move(in.body);
  return request;
}

// Hands the request to the responder: whole (`streamed` null), or with its body to follow.
void startAnswer(const std::shared_ptr<Session>& session, int32_t streamId, Incoming in, const H2Responder& respond,
                 const H2DownstreamOptions& options, H2DownstreamCounters& counters, std::shared_ptr<H2RequestBody> streamed = nullptr) {
  auto built = requestOf(in);
  if (auto* status = std::get_if<unsigned>(&built)) {
    ++counters.rejectedStreams;
    if (streamed != nullptr) streamed->release();
    answer(*session, streamId, plainAnswer(*status, "bad request"));
    return;
  }
  if (streamed != nullptr) {
    if (auto length = hbone::findHeader(in.headers, "content-length")) streamed->length = contentLengthOf(*length);
  }
  session->answering[streamId] = std::get<H2Request>(built).body().size();
  asio::co_spawn(session->executor, respond(std::move(std::get<H2Request>(built)), streamed),
                 [session, streamId, stallTimeout = options.streamIdleTimeout, streamed](std::exception_ptr failed, H2Answer answered) {
                   // An answer that is whole (or never sent) ends the request's part too.
                   auto releaseRequest = [&] {
                     if (streamed != nullptr) streamed->release();
                   };
                   auto found = session->answering.find(streamId);
                   if (found == session->answering.end()) {  // reset by the client meanwhile
                     releaseRequest();
                     return abandon(answered);
                   }
                   session->bufferedBodyBytes -= found->second;
                   session->answering.erase(found);
                   if (session->ended) {
                     releaseRequest();
                     return abandon(answered);
                   }
                   if (failed) {
                     releaseRequest();
                     answer(*session, streamId, plainAnswer(500, "internal error"));
                   } else if (answered.body != nullptr) {
                     asio::co_spawn(session->executor, sendBody(session, streamId, std::move(answered), stallTimeout, streamed), asio::detached);
                   } else {
                     releaseRequest();
                     answer(*session, streamId, answered.response, answered.trailers);
                   }
                 });
}

void onEvents(const std::shared_ptr<Session>& session, const H2Responder& respond, const H2DownstreamOptions& options,
              H2DownstreamCounters& counters) {
  auto events = session->codec->takeEvents();
  // Requests that end among these events are whole already: held, the common case.
  std::set<int32_t> endingNow;
  for (const auto& event : events) {
    if (auto* end = std::get_if<hbone::StreamEndEvent>(&event)) endingNow.insert(end->streamId);
  }
  for (auto& event : events) {
    if (auto* headers = std::get_if<hbone::StreamHeadersEvent>(&event)) {
      auto& in = session->incoming[headers->streamId];
      if (in.headers.empty()) {
        ++counters.streams;
        in.headers = std::move(headers->headers);
        if (options.streamRequestBodies && !endingNow.contains(headers->streamId) && requestWorthStreaming(in.headers)) {
          in.streamed = std::make_shared<H2RequestBody>(session, headers->streamId, options.streamIdleTimeout);
          Incoming head{in.headers, {}, false, nullptr};
          startAnswer(session, headers->streamId, std::move(head), respond, options, counters, in.streamed);
        }
      }  // else trailers: dropped, as Beast's string body drops them on HTTP/1.1
    } else if (auto* data = std::get_if<hbone::StreamDataEvent>(&event)) {
      auto found = session->incoming.find(data->streamId);
      if (found != session->incoming.end() && found->second.streamed != nullptr) {
        found->second.streamed->push(std::move(data->data));  // consumed as it is taken
        continue;
      }
      session->codec->consume(data->streamId, data->data.size());
      if (found == session->incoming.end() || found->second.refused) continue;
      Incoming& in = found->second;
      unsigned refuse = 0;
      if (in.body.size() + data->data.size() > kMaxBodyBytes) refuse = 413;
      else if (session->bufferedBodyBytes + data->data.size() > options.maxBufferedBodyBytes) refuse = 503;
      if (refuse != 0) {
        ++counters.rejectedStreams;
        session->bufferedBodyBytes -= in.body.size();
        in.body.clear();
        in.refused = true;
        answer(*session, data->streamId, plainAnswer(refuse, refuse == 413 ? "payload too large" : "overloaded"));
        continue;
      }
      in.body += data->data;
      session->bufferedBodyBytes += data->data.size();
    } else if (auto* end = std::get_if<hbone::StreamEndEvent>(&event)) {
      auto found = session->incoming.find(end->streamId);
      if (found == session->incoming.end()) continue;
      Incoming in = std::move(found->second);
      session->incoming.erase(found);
      if (in.streamed != nullptr) {
        in.streamed->end();
      } else if (!in.refused) {
        startAnswer(session, end->streamId, std::move(in), respond, options, counters);
      }
    } else if (auto* closed = std::get_if<hbone::StreamClosedEvent>(&event)) {
      if (auto found = session->incoming.find(closed->streamId); found != session->incoming.end()) {
        if (!found->second.refused) session->bufferedBodyBytes -= found->second.body.size();
        if (found->second.streamed != nullptr) found->second.streamed->fail();
        session->incoming.erase(found);
      }
      if (auto found = session->answering.find(closed->streamId); found != session->answering.end()) {
        session->bufferedBodyBytes -= found->second;
        session->answering.erase(found);
      }
      if (auto found = session->sending.find(closed->streamId); found != session->sending.end()) {
        found->second.closed = true;
        if (found->second.waiting != nullptr) found->second.waiting->cancel();
      }
    }
  }
  session->wake.notify();
}

template <class Stream>
asio::awaitable<void> readLoop(Stream& stream, std::shared_ptr<Session> session, H2Responder respond, H2DownstreamOptions options,
                               H2DownstreamCounters& counters) {
  // Only the reader sets the stream's expiry: a connection with nothing to read for the
  // idle timeout is closed, which also ends a write to a client that stopped reading.
  co_await asio::this_coro::throw_if_cancelled(false);
  auto& lowest = beast::get_lowest_layer(stream);
  char chunk[16384];
  while (true) {
    // A quiet client with streams in flight (a long gRPC stream, a slow answer) is not idle.
    const bool streamsInFlight = !session->incoming.empty() || !session->answering.empty() || !session->sending.empty();
    lowest.expires_after(streamsInFlight ? options.streamIdleTimeout : options.idleTimeout);
    auto [error, got] = co_await stream.async_read_some(asio::buffer(chunk), kUseTuple);
    if (error) co_return;  // gone, reset, idle, or the writer ended first
    auto failure = session->codec->receive({reinterpret_cast<const uint8_t*>(chunk), got});
    onEvents(session, respond, options, counters);
    if (failure != hbone::H2Failure::kNone) {
      spdlog::debug("gateway h2: session ended: {}", hbone::describe(failure));
      co_return;  // the GOAWAY the codec queued is flushed on the way out
    }
  }
}

template <class Stream>
asio::awaitable<void> writeLoop(Stream& stream, std::shared_ptr<Session> session) {
  co_await asio::this_coro::throw_if_cancelled(false);
  while (true) {
    while (session->codec->wantsWrite()) {
      std::string out = session->codec->takeOutput();
      if (out.empty()) break;
      auto [error, written] = co_await asio::async_write(stream, asio::buffer(out), kUseTuple);
      if (error) co_return;
      if (!session->sending.empty()) session->wakeSenders();  // their queues may have room now
    }
    if (session->codec->finished()) co_return;
    co_await session->wake.wait();
    // The reader ended first: stop here rather than wait for output that cannot come.
    asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none) co_return;
  }
}

}  // namespace

bool mayBeHttp2Preface(std::string_view bytes) {
  size_t n = std::min(bytes.size(), kHttp2Preface.size());
  return bytes.substr(0, n) == kHttp2Preface.substr(0, n);
}

template <class Stream>
asio::awaitable<void> serveHttp2(Stream& stream, beast::flat_buffer& alreadyRead, H2Responder respond, H2DownstreamOptions options,
                                 H2DownstreamCounters& counters) {
  auto session = std::make_shared<Session>(stream.get_executor());
  auto settings = hbone::H2Settings::server();
  settings.maxConcurrentStreams = options.maxConcurrentStreams;
  auto codec = hbone::H2Codec::make(hbone::H2Role::kServer, settings);
  if (!codec) {
    spdlog::error("gateway h2: {}", codec.error().message);
    co_return;
  }
  session->codec = std::move(*codec);
  auto early = alreadyRead.data();
  auto failure = session->codec->receive({static_cast<const uint8_t*>(early.data()), early.size()});
  alreadyRead.consume(alreadyRead.size());
  onEvents(session, respond, options, counters);
  if (options.drain) {
    options.drain->goAway = [weak = std::weak_ptr<Session>(session)] {
      auto alive = weak.lock();
      if (alive == nullptr || alive->ended) return;
      alive->codec->submitGoaway(0);  // NO_ERROR: the streams taken so far are still answered
      alive->wake.notify();
    };
  }
  // Either side ending ends both: a client that went cannot read answers, and a session
  // that failed has nothing more to read.
  if (failure == hbone::H2Failure::kNone) co_await (readLoop(stream, session, respond, options, counters) || writeLoop(stream, session));
  // One last flush (a GOAWAY after a protocol failure), bounded.
  if (session->codec->wantsWrite()) {
    std::string out = session->codec->takeOutput();
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(1));
    co_await asio::async_write(stream, asio::buffer(out), kUseTuple);
  }
  session->ended = true;
  session->wakeSenders();
  for (auto& [id, in] : session->incoming) {
    if (in.streamed != nullptr) in.streamed->fail();  // the client is gone mid-body
  }
  if (options.drain) options.drain->goAway = nullptr;
  // A failure the codec reported, or one nghttp2 answered itself with a GOAWAY carrying an
  // error (a malformed frame is the latter).
  auto goaway = session->codec->sentGoawayCode();
  if (session->codec->failure() != hbone::H2Failure::kNone || (goaway && *goaway != 0)) ++counters.protocolErrors;
}

template asio::awaitable<void> serveHttp2(beast::tcp_stream&, beast::flat_buffer&, H2Responder, H2DownstreamOptions, H2DownstreamCounters&);
// The gateway's plain listeners (h2c with prior knowledge).
template asio::awaitable<void> serveHttp2(TimedSocket&, beast::flat_buffer&, H2Responder, H2DownstreamOptions, H2DownstreamCounters&);
// A waypoint's tunnel: one end of a socket pair.
template asio::awaitable<void> serveHttp2(beast::basic_stream<asio::local::stream_protocol>&, beast::flat_buffer&, H2Responder,
                                         H2DownstreamOptions, H2DownstreamCounters&);
template asio::awaitable<void> serveHttp2(beast::ssl_stream<beast::tcp_stream>&, beast::flat_buffer&, H2Responder, H2DownstreamOptions,
                                          H2DownstreamCounters&);

}  // namespace weft::proxy
