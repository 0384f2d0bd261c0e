#pragma once
// DestinationRule connectionPool limits for one cluster, Envoy's circuit breakers for
// HTTP/1.1 upstreams: a request needs a slot (one upstream connection carries one request
// at a time, so tcp.maxConnections and http.http2MaxRequests both bound the requests in
// flight); without one it waits in a queue of at most http1MaxPendingRequests, first come
// first served; past that it overflows and is answered 503 with the UO flag. 0 means no
// limit, Istio's default.
//
// A slot is handed straight from the request that leaves to the first waiter, so a
// waiter cannot be overtaken by a newcomer. io thread only.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <optional>

#include "weft/v1/discovery.pb.h"

namespace weft::proxy {

class ConnectionGate {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Entry { kAdmitted, kOverflow, kTimedOut };
  // The longest a request waits for a slot when its route has no timeout.
  static constexpr std::chrono::seconds kMaxQueueWait{30};

  // Every kAdmitted must be matched by one leave().
  boost::asio::awaitable<Entry> enter(const weft::v1::ConnectionPool& limits, std::optional<Clock::time_point> deadline);
  void leave();

  uint32_t inFlight() const { return inFlight_; }
  size_t waiting() const { return waiters_.size(); }

 private:
  struct Waiter {
    explicit Waiter(const boost::asio::any_io_executor& executor) : timer(executor) {}
    boost::asio::steady_timer timer;
    bool admitted = false;
  };

  uint32_t inFlight_ = 0;
  std::deque<std::shared_ptr<Waiter>> waiters_;
};

}  // namespace weft::proxy
