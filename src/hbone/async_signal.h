#pragma once
// A wake-up flag for coroutines on one io_context: notify() wakes whoever waits now, or the
// next wait() if nobody does, so a notification between two checks is never lost. Several
// waiters may wait at once; one notify() wakes them all. Not thread-safe by design: it
// lives on the connection's io_context like everything it guards.

#include <chrono>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace weft::hbone {

class AsyncSignal {
 public:
  explicit AsyncSignal(const boost::asio::any_io_executor& executor) : timer_(executor) {}

  void notify() {
    pending_ = true;
    timer_.cancel();
  }

  // May return spuriously (another waiter started waiting): callers re-check their condition.
  boost::asio::awaitable<void> wait() {
    if (!pending_) {
      // Re-arming a timer cancels its waits, so only the first of several waiters arms it.
      if (waiters_++ == 0) timer_.expires_at(std::chrono::steady_clock::time_point::max());
      co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      --waiters_;
    }
    pending_ = false;
  }

 private:
  boost::asio::steady_timer timer_;
  bool pending_ = false;
  int waiters_ = 0;
};

}  // namespace weft::hbone
