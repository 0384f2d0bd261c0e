#pragma once
// An upstream response's body passed on as it arrives, instead of held whole.
//
// Why: a body held whole costs its size in memory and its whole transfer time before the
// client sees a byte, and bodies over kMaxBodyBytes could not pass at all (503). Envoy
// streams bodies; so do we for HTTP/1.1 upstreams answering HTTP/1.1 clients, whenever the
// body is larger than kBufferedResponseBytes or its length is not known in advance
// (chunked or ended by the close). Smaller bodies with a Content-Length, the common case,
// are still read whole with the head: one read, one write, no relay loop.
//
// The retry decision is made on the head (status, grpc-status in headers), which is read
// before streaming starts, so streaming never loses a retry: once the body flows, the
// answer is final, as in Envoy.
//
// The connection goes back to its pool when the body ends cleanly with keep-alive, and is
// closed otherwise (an abandoned or failed body leaves it mid-message).

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "base/result.h"
#include "proxy/upstream_pool.h"

namespace weft::proxy {

// Bodies with a Content-Length up to this are read whole with the head.
inline constexpr uint64_t kBufferedResponseBytes = 64 * 1024;

class StreamedBody {
 public:
  virtual ~StreamedBody() = default;
  // The next piece of the body, or an empty view once it has ended. An error when the
  // upstream failed, stalled past its timeout or broke HTTP framing: the client's answer is
  // then cut short (its connection closed), as Envoy resets a stream mid-body.
  virtual boost::asio::awaitable<Result<std::string_view>> next() = 0;
  // The upstream's Content-Length, when it sent one.
  std::optional<uint64_t> length;
  bool timedOut = false;  // why next() failed, when it did: the deadline or the idle timeout
};

// The rest of one HTTP/1.1 response read from one pooled connection of `Connection`'s kind.
template <class Connection>
class UpstreamBody final : public StreamedBody {
 public:
  using Parser = boost::beast::http::response_parser<boost::beast::http::buffer_body>;
  using Clock = std::chrono::steady_clock;

  // `head` has read the head and none of the body (Beast's parsers are not movable, but one
  // that has read only a head converts to another body type). `deadline` is the route's
  // (the whole response must be in by then); `idleTimeout` bounds every wait for more bytes.
  template <class HeadParser>
  UpstreamBody(BasicUpstreamPool<Connection>& pool, std::string poolKey, Connection connection, HeadParser&& head,
               std::optional<Clock::time_point> deadline, std::chrono::milliseconds idleTimeout, bool reusable)
      : pool_(pool),
        poolKey_(std::move(poolKey)),
        connection_(std::move(connection)),
        parser_(std::move(head)),
        deadline_(deadline),
        idleTimeout_(idleTimeout),
        reusable_(reusable) {
    parser_.body_limit(boost::none);  // what passes through is never held
    length = parser_.content_length() ? std::optional<uint64_t>(*parser_.content_length()) : std::nullopt;
  }

  boost::asio::awaitable<Result<std::string_view>> next() override {
    namespace http = boost::beast::http;
    // A read may parse only framing (a chunk's size line): read on until body bytes come.
    while (!parser_.is_done()) {
      auto& body = parser_.get().body();
      body.data = chunk_.data();
      body.size = chunk_.size();
      auto& lowest = boost::beast::get_lowest_layer(connection_.stream);
      auto readBy = Clock::now() + idleTimeout_;
      lowest.expires_at(deadline_ ? std::min(*deadline_, readBy) : readBy);
      auto [error, ignored] =
          co_await http::async_read_some(connection_.stream, connection_.buffer, parser_, boost::asio::as_tuple(boost::asio::use_awaitable));
      if (error == http::error::need_buffer) error = {};
      if (error) {
        // A TimedSocket is shut down at its deadline and remembers it; Beast's streams say so.
        if constexpr (std::is_same_v<std::remove_cvref_t<decltype(lowest)>, TimedSocket>) {
          timedOut = lowest.expired();
        } else {
          timedOut = error == boost::beast::error::timeout;
        }
        co_return makeError("upstream body: {}", timedOut ? "timed out" : error.message());
      }
      size_t got = chunk_.size() - body.size;
      if (got > 0) co_return std::string_view(chunk_.data(), got);
    }
    giveBack();
    co_return std::string_view();
  }

 private:
  // A clean end with keep-alive: the connection carries the next request. Bytes after the
  // message are a peer out of step: closed.
  void giveBack() {
    if (returned_) return;
    returned_ = true;
    if (reusable_ && parser_.keep_alive() && connection_.buffer.size() == 0) pool_.put(poolKey_, std::move(connection_));
  }

  BasicUpstreamPool<Connection>& pool_;
  std::string poolKey_;
  Connection connection_;
  Parser parser_;
  std::optional<Clock::time_point> deadline_;
  std::chrono::milliseconds idleTimeout_;
  bool reusable_;
  bool returned_ = false;
  std::array<char, 64 * 1024> chunk_;
};

}  // namespace weft::proxy
