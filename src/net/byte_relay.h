#pragma once
// Copies bytes both ways between two connected stream sockets until both directions have
// ended, passing half-close along (EOF on one side becomes shutdown(SHUT_WR) on the
// other), so request/response protocols that shut down their sending side still get their
// answer. Buffers are bounded (below): a side that stops reading stops the other side's reading
// too. Any pair of Asio stream sockets: TCP to TCP (ztunnel's passthrough, the local
// cluster's port forwards), or TCP to one end of a socket pair (a gateway's TCP route to
// an HBONE tunnel); or a side that is not a plain socket and says how it is used (RelaySide,
// below: a TLS connection the gateway terminated).

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace weft::net {

struct RelayCounts {
  uint64_t aToB = 0;
  uint64_t bToA = 0;
  bool idledOut = false;  // ended by the idle timeout
};

// A side that is not a plain socket: readSome and writeSome (awaitables, with the error in
// `ec`; the end of the peer's sending is asio::error::eof), endSending() (an awaitable: no
// more bytes will be written, the peer is told so), stopReceiving(), and abort() (both
// ways, at once).
template <class S>
concept RelaySide = requires(S& side) {
  side.stopReceiving();
  side.abort();
};

namespace detail {

template <class S>
void stopReceiving(S& s) {
  if constexpr (RelaySide<S>) {
    s.stopReceiving();
  } else {
    boost::system::error_code ignored;
    s.shutdown(boost::asio::socket_base::shutdown_receive, ignored);
  }
}

template <class S>
void abort(S& s) {
  if constexpr (RelaySide<S>) {
    s.abort();
  } else {
    boost::system::error_code ignored;
    s.shutdown(boost::asio::socket_base::shutdown_both, ignored);
  }
}

// Each direction starts with 16 KiB (ztunnel's copy-buffer size), so an idle or chatty
// connection holds little, and grows to 64 KiB once a read fills it (and keeps it): a bulk
// transfer then moves four times as much per system call (through weft-proxy on the local
// cluster's veths, 1.29x haproxy's throughput rather than 0.80x, at 0.66x its CPU per GiB).
inline constexpr size_t kRelayBufferSize = 16 * 1024;
inline constexpr size_t kBulkRelayBufferSize = 64 * 1024;

// `activity` goes up with every read and every partial write, for the idle watchdog: a
// slow receiver taking a large write piece by piece is not idle.
template <class From, class To>
boost::asio::awaitable<void> copyBytes(From& from, To& to, uint64_t& count, uint64_t& activity) {
  namespace asio = boost::asio;
  std::vector<char> buffer(kRelayBufferSize);
  boost::system::error_code ec;
  while (true) {
    size_t n = 0;
    if constexpr (RelaySide<From>) {
      n = co_await from.readSome(asio::buffer(buffer), ec);
    } else {
      n = co_await from.async_read_some(asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec) break;
    ++activity;
    for (size_t written = 0; written < n && !ec;) {
      auto rest = asio::buffer(buffer.data() + written, n - written);
      if constexpr (RelaySide<To>) {
        written += co_await to.writeSome(rest, ec);
      } else {
        written += co_await to.async_write_some(rest, asio::redirect_error(asio::use_awaitable, ec));
      }
      ++activity;
    }
    if (ec) {
      // The receiver is gone: stop reading from the sender too, which ends the other
      // direction's wait for it.
      stopReceiving(from);
      co_return;
    }
    count += n;
    if (n == buffer.size() && buffer.size() < kBulkRelayBufferSize) buffer.resize(kBulkRelayBufferSize);
  }
  if (ec == asio::error::eof) {
    // The sender finished: tell the receiver no more is coming; the other direction goes on.
    if constexpr (RelaySide<To>) {
      co_await to.endSending();
    } else {
      to.shutdown(asio::socket_base::shutdown_send, ec);
    }
  } else {
    // The sender broke off (a reset): so does the receiver's side, in both directions, as
    // Envoy's tcp_proxy closes the upstream on a downstream reset.
    abort(to);
  }
}

}  // namespace detail

// Both sockets are borrowed: the caller keeps them alive until this returns. With
// `idleTimeout`, a relay with no read or write either way for that long is ended: both
// sockets are shut down both ways, and `idledOut` says so (Envoy's tcp_proxy idle_timeout).
// `counts` goes up as bytes are written, so the caller may read it while the relay runs
// (byte counts reported during a long connection); it must outlive the relay.
template <class A, class B>
boost::asio::awaitable<void> relayBytes(A& a, B& b, std::optional<std::chrono::steady_clock::duration> idleTimeout, RelayCounts& counts) {
  using namespace boost::asio::experimental::awaitable_operators;
  uint64_t activity = 0;
  if (!idleTimeout) {
    co_await (detail::copyBytes(a, b, counts.aToB, activity) && detail::copyBytes(b, a, counts.bToA, activity));
    co_return;
  }
  // The watchdog looks at the activity count four times per period, and ends the relay
  // after four quiet looks in a row: between 1 and 1.25 periods after the last byte, for a
  // wake-up every quarter period rather than a timer operation per read.
  auto watchdog = [&]() -> boost::asio::awaitable<void> {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    uint64_t seen = activity;
    for (int quiet = 0; quiet < 4;) {
      timer.expires_after(*idleTimeout / 4);
      auto [ec] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      if (ec) co_return;  // the relay ended first
      quiet = activity == seen ? quiet + 1 : 0;
      seen = activity;
    }
    counts.idledOut = true;
    detail::abort(a);
    detail::abort(b);
  };
  co_await ((detail::copyBytes(a, b, counts.aToB, activity) && detail::copyBytes(b, a, counts.bToA, activity)) || watchdog());
}

// The same, with the counts returned at the end.
template <class A, class B>
boost::asio::awaitable<RelayCounts> relayBytes(A& a, B& b, std::optional<std::chrono::steady_clock::duration> idleTimeout = std::nullopt) {
  RelayCounts counts;
  co_await relayBytes(a, b, idleTimeout, counts);
  co_return counts;
}

}  // namespace weft::net
