#pragma once
// The gateway's HTTP/2 side towards clients: one connection (h2c with prior knowledge, or
// TLS that negotiated ALPN "h2"), its streams answered concurrently. Each stream's request,
// once whole (END_STREAM), becomes the same Beast request the HTTP/1.1 path builds, so
// routing, policy and telemetry do not know which protocol carried it; its answer goes back
// as HEADERS, DATA and, when it has trailers, a trailing HEADERS frame. An answer whose body
// comes in pieces (a large or unsized HTTP/1.1 upstream body, streamed_body.h) goes out as
// they come, at most kSendHighWater of it queued, paced by the client's flow control; a
// client that takes none of it for the stream idle timeout loses the stream (RST_STREAM
// CANCEL).
//
// Framing, HPACK and the protocol's own defences are nghttp2's, through hbone::H2Codec: a
// header list over 64 KiB, more than 100 concurrent streams (REFUSED_STREAM), a rapid-reset
// flood (GOAWAY ENHANCE_YOUR_CALM), SETTINGS/PING floods. This file adds what belongs to a
// proxy: request bodies are bounded per stream (16 MiB, 413) and per connection (32 MiB
// buffered at once, 503), a connection idle longer than the idle timeout is closed, and a
// request without :method, :scheme or :path (or with a connection-specific header) is
// answered 400 on its stream. With `streamRequestBodies`, a request whose body is large
// (a content-length over 64 KiB), unsized or gRPC and still arriving goes to the responder
// at once, its body following in pieces; each piece reopens the client's flow-control
// window only when taken, so a slow upstream holds the client back instead of filling
// memory.
//
// Threads: the caller's io_context only. Answers that finish after the connection ended
// are dropped (the session's state is shared with them).

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy/streamed_body.h"

namespace weft::proxy {

// The client connection preface (RFC 9113 §3.4) that starts every h2c prior-knowledge
// connection.
inline constexpr std::string_view kHttp2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// True when `bytes` (the start of a connection) can still be, or is, the preface.
bool mayBeHttp2Preface(std::string_view bytes);

// How the server asks one HTTP/2 connection to drain: serveHttp2 sets `goAway` for its
// life (a GOAWAY naming the last stream taken, then the connection ends once those streams
// are answered), and clears it when the connection ends.
struct H2Drain {
  std::function<void()> goAway;
};

struct H2DownstreamOptions {
  std::shared_ptr<H2Drain> drain;  // optional
  std::chrono::milliseconds idleTimeout{60000};
  // While streams are in flight: how long the client may send nothing (its streamed request
  // bodies included) before the connection is closed. Envoy's stream_idle_timeout, 5 min.
  std::chrono::milliseconds streamIdleTimeout{300000};
  uint32_t maxConcurrentStreams = 100;
  size_t maxBufferedBodyBytes = 32u << 20;  // all streams of the connection together
  bool streamRequestBodies = false;
};

struct H2DownstreamCounters {
  uint64_t streams = 0;
  uint64_t protocolErrors = 0;  // sessions ended by a framing/flood/reset failure
  uint64_t rejectedStreams = 0;  // answered 400/413/503 here
};

// A request from an HTTP/2 client carries version 20 (Beast's field is only a number), so
// what follows can tell the client's protocol (useClientProtocol); HTTP/1.1 writers render
// any version but 10 as HTTP/1.1.
inline constexpr unsigned kHttp2Version = 20;
using H2Request = boost::beast::http::request<boost::beast::http::string_body>;
using H2Response = boost::beast::http::response<boost::beast::http::string_body>;
// An answer and its trailers (gRPC's grpc-status, grpc-message), sent as a trailing
// HEADERS frame after the body; lower-case names.
struct H2Answer {
  H2Response response;
  std::vector<std::pair<std::string, std::string>> trailers;
  // When set, the body follows from here instead of response.body() (which is empty), and
  // `finished` is called once with how its sending ended. The body is owned by what
  // `finished` holds: valid until that call.
  StreamedBody* body = nullptr;
  std::function<void(RelayEnd)> finished;
};
// Bytes of a streamed answer body queued for one stream before the next piece is taken.
inline constexpr size_t kSendHighWater = 256u << 10;
// Answers one request; runs on the io_context, several at once. `body` is null when the
// body is in the request; else the request's body is empty and follows from `body`.
using H2Responder = std::function<boost::asio::awaitable<H2Answer>(H2Request, std::shared_ptr<StreamedBody> body)>;

// Serves the connection until the client goes, the session fails or it idles out.
// `alreadyRead` holds the bytes read before the protocol was known (the preface).
template <class Stream>
boost::asio::awaitable<void> serveHttp2(Stream& stream, boost::beast::flat_buffer& alreadyRead, H2Responder respond,
                                        H2DownstreamOptions options, H2DownstreamCounters& counters);

}  // namespace weft::proxy
