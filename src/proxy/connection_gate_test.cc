#include "proxy/connection_gate.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <vector>

namespace weft::proxy {
namespace {

namespace asio = boost::asio;
using Entry = ConnectionGate::Entry;

weft::v1::ConnectionPool limits(uint32_t connections, uint32_t pending) {
  weft::v1::ConnectionPool p;
  p.set_max_connections(connections);
  p.set_max_pending_requests(pending);
  return p;
}

// Each request enters, holds its slot for `hold`, and leaves; results in arrival order.
std::vector<Entry> run(const weft::v1::ConnectionPool& pool, int requests, std::chrono::milliseconds hold,
                       std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
  asio::io_context io;
  ConnectionGate gate;
  std::vector<Entry> results(static_cast<size_t>(requests));
  for (int i = 0; i < requests; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          std::optional<ConnectionGate::Clock::time_point> deadline;
          if (timeout) deadline = ConnectionGate::Clock::now() + *timeout;
          auto entry = co_await gate.enter(pool, deadline);
          results[static_cast<size_t>(i)] = entry;
          if (entry != Entry::kAdmitted) co_return;
          asio::steady_timer t(io, hold);
          co_await t.async_wait(asio::use_awaitable);
          gate.leave();
        },
        asio::detached);
  }
  io.run_for(std::chrono::seconds(10));
  EXPECT_EQ(gate.inFlight(), 0u);
  EXPECT_EQ(gate.waiting(), 0u);
  return results;
}

TEST(ConnectionGate, NoLimitsAdmitsEveryone) {
  for (auto e : run(limits(0, 0), 20, std::chrono::milliseconds(1))) EXPECT_EQ(e, Entry::kAdmitted);
}

TEST(ConnectionGate, OneConnectionOnePendingOverflowsTheThird) {
  auto results = run(limits(1, 1), 3, std::chrono::milliseconds(20));
  EXPECT_EQ(results[0], Entry::kAdmitted);
  EXPECT_EQ(results[1], Entry::kAdmitted);  // waited for the first to leave
  EXPECT_EQ(results[2], Entry::kOverflow);
}

TEST(ConnectionGate, WaitersPastTheirDeadlineTimeOut) {
  auto results = run(limits(1, 0), 3, std::chrono::milliseconds(300), std::chrono::milliseconds(50));
  EXPECT_EQ(results[0], Entry::kAdmitted);
  EXPECT_EQ(results[1], Entry::kTimedOut);
  EXPECT_EQ(results[2], Entry::kTimedOut);
}

TEST(ConnectionGate, Http2MaxRequestsBoundsTooAndTheSmallerLimitWins) {
  weft::v1::ConnectionPool pool = limits(5, 0);
  pool.set_max_requests(2);
  pool.set_max_pending_requests(1);
  auto results = run(pool, 4, std::chrono::milliseconds(20));
  EXPECT_EQ(std::count(results.begin(), results.end(), Entry::kAdmitted), 3);
  EXPECT_EQ(results[3], Entry::kOverflow);
}

}  // namespace
}  // namespace weft::proxy
