#pragma once
// A TCP socket with one deadline that is cheap to move: the plain HTTP/1.1 connections'
// stream, on both sides of the proxy.
//
// Why not Beast's tcp_stream: it arms a timer for every read and write and cancels it when
// the operation completes, so each operation costs a timer-queue insert and removal plus a
// cancelled wait's completion handler. Here the deadline is a time point; setting it is a
// clock read and a compare. One timer per socket is armed only when the deadline moves
// earlier than the timer; when the timer fires at a deadline that has since moved later, it
// re-arms for the new one. A keep-alive connection whose deadline moves on with every
// request therefore wakes once per timeout period, not once per operation.
//
// At the deadline the socket is shut down (both directions), which ends a pending read
// (end of stream) or write (broken pipe); `expired()` then tells a timeout from a peer that
// went away. Shutting down rather than closing keeps the descriptor valid for the owner,
// who closes it by destroying the socket, so no descriptor is ever closed under Asio.
//
// The timer's state lives on the heap, shared with its pending wait, so the socket can be
// moved (idle upstream connections sit in a vector); the descriptor a move keeps is the one
// the timer shuts down. Closing or destroying the socket disarms it first.
//
// Threads: the io_context's thread only.

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <type_traits>

namespace weft::proxy {

class TimedSocket : public boost::asio::ip::tcp::socket {
 public:
  using Clock = std::chrono::steady_clock;

  explicit TimedSocket(boost::asio::ip::tcp::socket socket);
  explicit TimedSocket(const executor_type& executor);
  TimedSocket(TimedSocket&&) noexcept = default;
  TimedSocket& operator=(TimedSocket&& other) noexcept;
  ~TimedSocket();

  // Beast's stream vocabulary, so the gateway's code reads the same for TLS streams.
  void expires_after(Clock::duration after) { expires_at(Clock::now() + after); }
  void expires_at(Clock::time_point at);
  void expires_never();
  bool expired() const;
  TimedSocket& socket() { return *this; }

  // Disarms the deadline, then closes (hides the socket's own close: the timer must never
  // shut down a descriptor number that has been closed and reused).
  void close();
  void close(boost::system::error_code& ec);

  struct Deadline;  // timed_socket.cc

 private:
  void disarm();

  std::shared_ptr<Deadline> deadline_;  // made on the first finite deadline
};

// Whether an operation on `stream` (a TimedSocket, or anything layered on one, or one of
// Beast's timed streams) failed because its deadline passed: Beast's streams say so in the
// error; a TimedSocket is shut down at its deadline and remembers it.
template <class Stream>
bool timedOut(Stream& stream, const boost::system::error_code& ec) {
  if constexpr (std::is_same_v<std::remove_cvref_t<decltype(boost::beast::get_lowest_layer(stream))>, TimedSocket>) {
    return ec && boost::beast::get_lowest_layer(stream).expired();
  } else {
    return ec == boost::beast::error::timeout;
  }
}

}  // namespace weft::proxy
