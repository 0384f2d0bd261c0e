// The idle pool of the HTTP/1.1 upstream paths with real loopback connections: which
// connection comes back, when an idle one is closed instead, and how the pool stays
// bounded when keys are many (auto SNI makes one per client Host).
#include "proxy/upstream_pool.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <deque>
#include <thread>
#include <vector>

namespace weft::proxy {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

class UpstreamPoolTest : public ::testing::Test {
 protected:
  // A connected upstream connection whose `requests` field names it; the far end is kept
  // so a test can see the pool close it.
  PooledConnection connection(uint32_t name) {
    PooledConnection c{TimedSocket(io_.get_executor())};
    c.stream.connect(acceptor_.local_endpoint());
    farEnds_.emplace_back(io_);
    acceptor_.accept(farEnds_.back());
    c.requests = name;
    return c;
  }

  // The far end of connection `index` (in the order made) saw the connection closed.
  bool closedByThePool(size_t index) {
    char byte;
    boost::system::error_code ec;
    farEnds_.at(index).non_blocking(true);
    farEnds_.at(index).read_some(asio::buffer(&byte, 1), ec);
    return ec == asio::error::eof;
  }

  asio::io_context io_;
  tcp::acceptor acceptor_{io_, {asio::ip::address_v4::loopback(), 0}};
  std::deque<tcp::socket> farEnds_;
};

TEST_F(UpstreamPoolTest, GivesBackTheNewestIdleConnectionOfTheKey) {
  UpstreamPool pool;
  EXPECT_FALSE(pool.take("10.0.0.1:80"));
  pool.put("10.0.0.1:80", connection(1));
  pool.put("10.0.0.1:80", connection(2));
  pool.put("10.0.0.2:80", connection(3));
  auto newest = pool.take("10.0.0.1:80");
  ASSERT_TRUE(newest);
  EXPECT_EQ(newest->requests, 2u);
  EXPECT_EQ(pool.take("10.0.0.1:80")->requests, 1u);
  EXPECT_FALSE(pool.take("10.0.0.1:80"));
  EXPECT_EQ(pool.idleCount(), 1u);
}

TEST_F(UpstreamPoolTest, AConnectionIdlePastItsTimeoutIsClosedNotReused) {
  UpstreamPool pool;
  pool.put("10.0.0.1:80", connection(1), 30ms);
  pool.put("10.0.0.1:80", connection(2), 0ms);  // 0: the default hour
  std::this_thread::sleep_for(60ms);
  auto kept = pool.take("10.0.0.1:80");
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->requests, 2u);
  EXPECT_FALSE(pool.take("10.0.0.1:80")) << "the expired one must not be handed out";
  EXPECT_TRUE(closedByThePool(0));
  EXPECT_EQ(pool.idleCount(), 0u);
}

TEST_F(UpstreamPoolTest, GivenAnExecutorItClosesExpiredConnectionsWithoutAnyRequest) {
  UpstreamPool pool(io_.get_executor(), UpstreamPool::kDefaultMaxIdle, 20ms);
  pool.put("10.0.0.1:80", connection(1), 10ms);
  pool.put("10.0.0.1:80", connection(2), 0ms);  // the default hour
  // No take() or put() from here on: only the pool's own timer can close the first.
  io_.run_for(100ms);
  EXPECT_TRUE(closedByThePool(0));
  EXPECT_FALSE(closedByThePool(1));
  EXPECT_EQ(pool.idleCount(), 1u);
  pool.clear();
  io_.restart();
  io_.run_for(100ms);  // the last tick finds the pool empty
  io_.restart();
  EXPECT_EQ(io_.run_for(100ms), 0u) << "an empty pool lets its timer lapse: nothing wakes an idle proxy";
}

TEST_F(UpstreamPoolTest, TheSweepClosesExpiredConnectionsAndForgetsEmptyKeys) {
  UpstreamPool pool(UpstreamPool::kDefaultMaxIdle, 20ms);
  pool.put("expires", connection(1), 10ms);
  pool.put("taken", connection(2));
  ASSERT_TRUE(pool.take("taken"));
  EXPECT_EQ(pool.keyCount(), 2u);
  std::this_thread::sleep_for(40ms);
  pool.put("fresh", connection(3));  // the first put after the interval sweeps
  EXPECT_EQ(pool.keyCount(), 1u);
  EXPECT_EQ(pool.idleCount(), 1u);
  EXPECT_TRUE(closedByThePool(0)) << "nobody asked for it again, and it is closed anyway";
  EXPECT_FALSE(closedByThePool(2));
}

TEST_F(UpstreamPoolTest, PastItsLimitThePoolClosesTheOldestEighth) {
  UpstreamPool pool(16);
  for (uint32_t i = 0; i < 16; ++i) {
    pool.put("host-" + std::to_string(i), connection(i));
    std::this_thread::sleep_for(1ms);  // distinct idle times, so "oldest" is well defined
  }
  EXPECT_EQ(pool.idleCount(), 16u);
  pool.put("host-16", connection(16));
  // 16 is the limit: the oldest 16/8 + 1 went, then the new one came in.
  EXPECT_EQ(pool.idleCount(), 14u);
  for (uint32_t gone : {0u, 1u, 2u}) {
    EXPECT_FALSE(pool.take("host-" + std::to_string(gone))) << gone;
    EXPECT_TRUE(closedByThePool(gone)) << gone;
  }
  EXPECT_TRUE(pool.take("host-3"));
  EXPECT_TRUE(pool.take("host-16"));
  EXPECT_EQ(pool.keyCount(), 14u) << "keys emptied by take() stay until the next sweep";
}

}  // namespace
}  // namespace weft::proxy
