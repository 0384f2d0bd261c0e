#include "proxy/connection_gate.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace weft::proxy {

namespace asio = boost::asio;

namespace {

uint32_t slotLimit(const weft::v1::ConnectionPool& limits) {
  uint32_t a = limits.max_connections();
  uint32_t b = limits.max_requests();
  if (a == 0) return b;
  if (b == 0) return a;
  return std::min(a, b);
}

}  // namespace

asio::awaitable<ConnectionGate::Entry> ConnectionGate::enter(const weft::v1::ConnectionPool& limits, std::optional<Clock::time_point> deadline) {
  uint32_t limit = slotLimit(limits);
  if (limit == 0 || (inFlight_ < limit && waiters_.empty())) {
    ++inFlight_;
    co_return Entry::kAdmitted;
  }
  if (limits.max_pending_requests() != 0 && waiters_.size() >= limits.max_pending_requests()) co_return Entry::kOverflow;
  auto waiter = std::make_shared<Waiter>(co_await asio::this_coro::executor);
  auto latest = Clock::now() + kMaxQueueWait;
  waiter->timer.expires_at(deadline ? std::min(*deadline, latest) : latest);
  waiters_.push_back(waiter);
  co_await waiter->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (waiter->admitted) co_return Entry::kAdmitted;
  std::erase(waiters_, waiter);
  co_return Entry::kTimedOut;
}

void ConnectionGate::leave() {
  while (!waiters_.empty()) {
    auto next = waiters_.front();
    waiters_.pop_front();
    if (next->timer.expiry() <= Clock::now()) continue;  // timing out right now: it will not take the slot
    next->admitted = true;  // the slot moves to it; inFlight_ is unchanged
    next->timer.cancel();
    return;
  }
  if (inFlight_ > 0) --inFlight_;
}

}  // namespace weft::proxy
