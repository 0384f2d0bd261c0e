#pragma once
// HTTP/1.1 bodies passed on as they arrive, instead of held whole: an upstream's response
// body towards the client (UpstreamBody), and a client's request body towards the upstream
// (ClientBody).
//
// Why: a body held whole costs its size in memory and its whole transfer time before the
// other side sees a byte, and bodies over kMaxBodyBytes could not pass at all. Envoy
// streams bodies; so do we between HTTP/1.1 clients and HTTP/1.1 upstreams, whenever a
// body is larger than 64 KiB or its length is not known in advance (chunked, or a response
// ended by the close). Smaller bodies with a Content-Length, the common case, are still
// read whole with the head: one read, one write, no relay loop.
//
// Retries: a response's retry decision is made on its head (status, grpc-status in
// headers), read before its body flows, so streaming a response never loses a retry. A
// request whose body has started to flow cannot be sent again (nothing keeps it): such a
// request is not retried once any of its body was taken, as Envoy stops retrying once a
// request body outgrows its retry buffer.
//
// Connections: an upstream connection goes back to its pool when the response body ends
// cleanly with keep-alive, and is closed otherwise (left mid-message). A client connection
// whose request body was not read to its end is closed after the answer.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "hbone/h2_codec.h"
#include "proxy/request_telemetry.h"
#include "proxy/timed_socket.h"
#include "proxy/upstream_pool.h"

namespace weft::proxy {

// Bodies with a Content-Length up to this are read whole with the head.
inline constexpr uint64_t kBufferedBodyBytes = 64 * 1024;

// A Content-Length field's value, when it is one.
inline std::optional<uint64_t> contentLengthOf(std::string_view text) {
  uint64_t length = 0;
  auto parsed = std::from_chars(text.data(), text.data() + text.size(), length);
  if (text.empty() || parsed.ec != std::errc() || parsed.ptr != text.data() + text.size()) return std::nullopt;
  return length;
}

// Whether a body is worth passing on in pieces rather than holding: large, of unknown
// length, or gRPC (a stream of messages whose end the sender chooses). HTTP/2 decides
// with this on both sides; HTTP/1.1 by its parser's view of the framing.
inline bool worthStreaming(std::string_view contentType, std::optional<std::string_view> contentLength) {
  if (isGrpcContentType(contentType)) return true;
  auto length = contentLength ? contentLengthOf(*contentLength) : std::nullopt;
  return !length || *length > kBufferedBodyBytes;
}

class StreamedBody {
 public:
  virtual ~StreamedBody() = default;
  // The next piece of the body, or an empty view once it has ended. An error when the
  // sender failed, stalled past its timeout or broke HTTP framing.
  virtual boost::asio::awaitable<Result<std::string_view>> next() = 0;
  // Whether the whole body has been read.
  virtual bool ended() const = 0;
  // The sender's Content-Length, when it sent one.
  std::optional<uint64_t> length;
  uint64_t taken = 0;     // body bytes handed out by next() so far
  bool timedOut = false;  // why next() failed, when it did: a deadline or the idle timeout
  // What followed the body (an HTTP/2 upstream's trailing HEADERS: gRPC's grpc-status),
  // lower case; complete once next() said the body ended.
  hbone::Headers trailers;
};

namespace detail {

// Reads until `parser` (a buffer_body parser past its head) yields body bytes into `into`
// or ends, within the deadline already set on the stream's lowest layer. A read may parse
// only framing (a chunk's size line), hence the loop.
template <class Stream, class Parser, size_t N>
boost::asio::awaitable<Result<std::string_view>> readBodyPiece(Stream& stream, boost::beast::flat_buffer& buffer, Parser& parser,
                                                               std::array<char, N>& into, bool& expired) {
  namespace http = boost::beast::http;
  while (!parser.is_done()) {
    auto& body = parser.get().body();
    body.data = into.data();
    body.size = into.size();
    auto [error, ignored] = co_await http::async_read_some(stream, buffer, parser, boost::asio::as_tuple(boost::asio::use_awaitable));
    if (error == http::error::need_buffer) error = {};
    if (error) {
      expired = timedOut(stream, error);
      co_return makeError("{}", expired ? "timed out" : error.message());
    }
    size_t got = into.size() - body.size;
    if (got > 0) co_return std::string_view(into.data(), got);
  }
  co_return std::string_view();
}

}  // namespace detail

// The rest of one HTTP/1.1 response read from one pooled connection of `Connection`'s kind.
template <class Connection>
class UpstreamBody final : public StreamedBody {
 public:
  using Parser = boost::beast::http::response_parser<boost::beast::http::buffer_body>;
  using Clock = std::chrono::steady_clock;

  // `head` has read the head and none of the body (Beast's parsers are not movable, but one
  // that has read only a head converts to another body type). `deadline` is the route's
  // (the whole response must be in by then); `idleTimeout` bounds every wait for more bytes.
  // After a clean end the connection idles in the pool for `keepIdleFor` (the cluster's
  // idle timeout); without it, it is closed.
  template <class HeadParser>
  UpstreamBody(BasicUpstreamPool<Connection>& pool, std::string poolKey, Connection connection, HeadParser&& head,
               std::optional<Clock::time_point> deadline, std::chrono::milliseconds idleTimeout,
               std::optional<std::chrono::milliseconds> keepIdleFor)
      : pool_(pool),
        poolKey_(std::move(poolKey)),
        connection_(std::move(connection)),
        parser_(std::move(head)),
        deadline_(deadline),
        idleTimeout_(idleTimeout),
        keepIdleFor_(keepIdleFor) {
    parser_.body_limit(boost::none);  // what passes through is never held
    if (parser_.content_length()) length = *parser_.content_length();
  }

  boost::asio::awaitable<Result<std::string_view>> next() override {
    auto readBy = Clock::now() + idleTimeout_;
    boost::beast::get_lowest_layer(connection_.stream).expires_at(deadline_ ? std::min(*deadline_, readBy) : readBy);
    auto piece = co_await detail::readBodyPiece(connection_.stream, connection_.buffer, parser_, chunk_, timedOut);
    if (!piece) co_return piece.error().wrap("upstream body");
    if (piece->empty()) giveBack();
    taken += piece->size();
    co_return piece;
  }
  bool ended() const override { return parser_.is_done(); }

 private:
  // A clean end with keep-alive: the connection carries the next request. Bytes after the
  // message are a peer out of step: closed.
  void giveBack() {
    if (returned_) return;
    returned_ = true;
    if (keepIdleFor_ && parser_.keep_alive() && connection_.buffer.size() == 0) pool_.put(poolKey_, std::move(connection_), *keepIdleFor_);
  }

  BasicUpstreamPool<Connection>& pool_;
  std::string poolKey_;
  Connection connection_;
  Parser parser_;
  std::optional<Clock::time_point> deadline_;
  std::chrono::milliseconds idleTimeout_;
  std::optional<std::chrono::milliseconds> keepIdleFor_;
  bool returned_ = false;
  std::array<char, 64 * 1024> chunk_;
};

// The rest of a client's HTTP/1.1 request body, read from its connection as the upstream
// takes it. The session's read buffer is shared: bytes after the body (a pipelined next
// request) stay in it.
template <class Stream>
class ClientBody final : public StreamedBody {
 public:
  using Parser = boost::beast::http::request_parser<boost::beast::http::buffer_body>;

  template <class HeadParser>
  ClientBody(Stream& stream, boost::beast::flat_buffer& buffer, HeadParser&& head, std::chrono::milliseconds idleTimeout)
      : stream_(stream), buffer_(buffer), parser_(std::move(head)), idleTimeout_(idleTimeout) {
    parser_.body_limit(boost::none);
    if (parser_.content_length()) length = *parser_.content_length();
  }

  const boost::beast::http::request_header<>& head() const { return parser_.get().base(); }

  boost::asio::awaitable<Result<std::string_view>> next() override {
    boost::beast::get_lowest_layer(stream_).expires_after(idleTimeout_);
    auto piece = co_await detail::readBodyPiece(stream_, buffer_, parser_, chunk_, timedOut);
    if (!piece) co_return piece.error().wrap("client body");
    taken += piece->size();
    co_return piece;
  }
  bool ended() const override { return parser_.is_done(); }

 private:
  Stream& stream_;
  boost::beast::flat_buffer& buffer_;
  Parser parser_;
  std::chrono::milliseconds idleTimeout_;
  std::array<char, 64 * 1024> chunk_;
};

// How a relay from a StreamedBody to a stream ended.
enum class RelayEnd { kDone, kSourceFailed, kSinkFailed };

// Copies `from` into `to` piece by piece, in chunked coding when `chunked` (then ending with
// the last chunk), else as is. `armWrite()` sets the sink's deadline before each write.
template <class Stream, class ArmWrite>
boost::asio::awaitable<RelayEnd> relayBody(StreamedBody& from, Stream& to, bool chunked, ArmWrite armWrite) {
  namespace asio = boost::asio;
  constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
  char sizeLine[24];
  while (true) {
    auto piece = co_await from.next();
    if (!piece) co_return RelayEnd::kSourceFailed;
    armWrite();
    if (piece->empty()) {
      if (!chunked) co_return RelayEnd::kDone;
      auto [error, written] = co_await asio::async_write(to, asio::buffer("0\r\n\r\n", 5), kUseTuple);
      co_return error ? RelayEnd::kSinkFailed : RelayEnd::kDone;
    }
    std::array<asio::const_buffer, 3> buffers{asio::const_buffer(), asio::buffer(piece->data(), piece->size()), asio::const_buffer()};
    if (chunked) {
      int n = std::snprintf(sizeLine, sizeof sizeLine, "%zx\r\n", piece->size());
      buffers[0] = asio::buffer(sizeLine, static_cast<size_t>(n));
      buffers[2] = asio::buffer("\r\n", 2);
    }
    auto [error, written] = co_await asio::async_write(to, buffers, kUseTuple);
    if (error) co_return RelayEnd::kSinkFailed;
  }
}

}  // namespace weft::proxy
