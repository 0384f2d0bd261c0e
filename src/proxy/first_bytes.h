#pragma once
// A connection's first bytes, looked at without taking them (MSG_PEEK), so whichever side
// reads the connection afterwards still gets them: the HTTP/2 preface on a plain port, the
// ClientHello on a TLS-passthrough port, HTTP or not on a waypoint port that declares no
// protocol. One loop for the three: `decide` is asked each time more bytes are there; while
// it cannot tell, readiness would not change until more comes, so the socket is polled, less
// often the longer it takes (5 ms doubling to 100 ms: a stalled client costs one wake-up per
// 100 ms at most).

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string_view>
#include <vector>
#include <sys/socket.h>

namespace weft::proxy {

enum class FirstBytes {
  kDecided,   // `decide` said so
  kClosed,    // the client closed (or failed) before
  kFull,      // `maxBytes` came and `decide` still could not tell
  kSilent,    // no byte at all by `silentBy`
  kTimedOut,  // bytes, but no decision by `deadline`
};

// `decide(bytes)` returns true once it can tell from the bytes so far (its answer is the
// caller's to keep). `silentBy` (at most `deadline`) bounds the wait for the first byte.
template <class Socket, class Decide>
boost::asio::awaitable<FirstBytes> peekFirstBytes(Socket& socket, size_t maxBytes, std::chrono::steady_clock::time_point silentBy,
                                                  std::chrono::steady_clock::time_point deadline, Decide decide) {
  using namespace boost::asio::experimental::awaitable_operators;
  constexpr auto kUseTuple = boost::asio::as_tuple(boost::asio::use_awaitable);
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  std::vector<char> peeked(maxBytes);
  std::chrono::milliseconds pollEvery{5};
  while (std::chrono::steady_clock::now() < deadline) {
    ssize_t got = ::recv(socket.native_handle(), peeked.data(), peeked.size(), MSG_PEEK | MSG_DONTWAIT);
    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) co_return FirstBytes::kClosed;
    if (got > 0) {
      if (decide(std::string_view(peeked.data(), static_cast<size_t>(got)))) co_return FirstBytes::kDecided;
      if (static_cast<size_t>(got) == peeked.size()) co_return FirstBytes::kFull;
      timer.expires_after(pollEvery);
      pollEvery = std::min(pollEvery * 2, std::chrono::milliseconds(100));
      co_await timer.async_wait(kUseTuple);
      continue;
    }
    timer.expires_at(std::min(silentBy, deadline));
    auto readable = co_await (socket.async_wait(Socket::wait_read, kUseTuple) || timer.async_wait(kUseTuple));
    if (readable.index() == 1) co_return FirstBytes::kSilent;
  }
  co_return FirstBytes::kTimedOut;
}

}  // namespace weft::proxy
