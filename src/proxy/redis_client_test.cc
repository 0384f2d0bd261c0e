#include "proxy/redis_client.h"

#include <gtest/gtest.h>

#include "proxy/redis_test_support.h"

namespace weft::proxy {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::FakeRedis;
using testing::RedisServer;
using testing::runToEnd;

RedisClientOptions fast() {
  RedisClientOptions o;
  o.timeout = 300ms;
  o.backoff = 60s;
  return o;
}

TEST(RedisClient, MalformedReplyIsAProtocolFailureAndTheConnectionIsDropped) {
  asio::io_context io;
  FakeRedis server(io, FakeRedis::Mode::kReply, "?garbage\r\n");
  RedisClient client(io, "127.0.0.1", server.port(), fast());
  auto reply = runToEnd(io, client.execute({{"INCR", "k"}}));
  EXPECT_EQ(reply.failure, RedisFailure::kProtocol);
  EXPECT_NE(reply.message.find("malformed reply: unknown RESP type byte 0x3f"), std::string::npos) << reply.message;
  EXPECT_EQ(client.openConnections(), 0u);
}

TEST(RedisClient, RepliesOverTheLimitAreRefused) {
  asio::io_context io;
  // A bulk string that claims 400 KiB and sends them: well-formed, but no INCR answers that.
  std::string big = "$409600\r\n" + std::string(409600, 'x') + "\r\n";
  FakeRedis server(io, FakeRedis::Mode::kReply, big);
  RedisClient client(io, "127.0.0.1", server.port(), fast());
  auto reply = runToEnd(io, client.execute({{"GET", "k"}}));
  EXPECT_EQ(reply.failure, RedisFailure::kProtocol);
}

TEST(RedisClient, ExtraBytesAfterTheRepliesAreAProtocolFailure) {
  asio::io_context io;
  FakeRedis server(io, FakeRedis::Mode::kReply, ":1\r\n:2\r\n");
  RedisClient client(io, "127.0.0.1", server.port(), fast());
  auto reply = runToEnd(io, client.execute({{"INCR", "k"}}));
  // The two replies may arrive in one read or two; one INCR got two answers either way,
  // unless the second is still in flight, when the call succeeds and the next one fails.
  if (reply.failure == RedisFailure::kNone) reply = runToEnd(io, client.execute({{"INCR", "k"}}));
  EXPECT_EQ(reply.failure, RedisFailure::kProtocol);
}

TEST(RedisClient, NoReplyTimesOut) {
  asio::io_context io;
  FakeRedis server(io, FakeRedis::Mode::kSilent);
  auto options = fast();
  options.timeout = 100ms;
  RedisClient client(io, "127.0.0.1", server.port(), options);
  auto start = std::chrono::steady_clock::now();
  auto reply = runToEnd(io, client.execute({{"INCR", "k"}}));
  EXPECT_EQ(reply.failure, RedisFailure::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(RedisClient, AServerThatClosesIsAFailure) {
  asio::io_context io;
  FakeRedis server(io, FakeRedis::Mode::kClose);
  RedisClient client(io, "127.0.0.1", server.port(), fast());
  auto reply = runToEnd(io, client.execute({{"INCR", "k"}}));
  EXPECT_EQ(reply.failure, RedisFailure::kClosed);
}

TEST(RedisClient, UnreachableThenBacksOffWithoutTrying) {
  asio::io_context io;
  RedisClient client(io, "127.0.0.1", testing::closedPort(), fast());
  auto first = runToEnd(io, client.execute({{"INCR", "k"}}));
  EXPECT_EQ(first.failure, RedisFailure::kUnavailable);
  auto second = runToEnd(io, client.execute({{"INCR", "k"}}));
  EXPECT_EQ(second.failure, RedisFailure::kUnavailable);
  EXPECT_NE(second.message.find("not retried for 60000 ms"), std::string::npos) << second.message;
}

TEST(RedisClient, UnresolvableNameIsUnavailable) {
  asio::io_context io;
  RedisClient client(io, "no-such-host.invalid", "6379", fast());
  auto reply = runToEnd(io, client.execute({{"INCR", "k"}}));
  EXPECT_EQ(reply.failure, RedisFailure::kUnavailable);
}

TEST(RedisClient, ReusesItsConnectionAndWaitsForABusyOne) {
  asio::io_context io;
  FakeRedis server(io, FakeRedis::Mode::kReply, ":1\r\n");
  auto options = fast();
  options.maxConnections = 1;
  RedisClient client(io, "127.0.0.1", server.port(), options);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(runToEnd(io, client.execute({{"INCR", "k"}})).failure, RedisFailure::kNone);
  EXPECT_EQ(server.accepted(), 1);
  // Two calls at once with one connection allowed: the second waits for the first.
  int done = 0;
  for (int i = 0; i < 2; ++i) {
    asio::co_spawn(io, client.execute({{"INCR", "k"}}), [&](std::exception_ptr, RedisReply r) {
      EXPECT_EQ(r.failure, RedisFailure::kNone) << r.message;
      if (++done == 2) io.stop();
    });
  }
  io.restart();
  io.run();
  EXPECT_EQ(done, 2);
  EXPECT_EQ(server.accepted(), 1);
  EXPECT_EQ(client.openConnections(), 1u);
}

class RealRedis : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RedisServer::available()) GTEST_SKIP() << "/usr/bin/redis-server is not installed";
    server_ = std::make_unique<RedisServer>();
    ASSERT_TRUE(server_->accepts()) << "redis-server did not start on 127.0.0.1:" << server_->port();
  }
  std::unique_ptr<RedisServer> server_;
};

TEST_F(RealRedis, PipelinesIncrAndPexpire) {
  asio::io_context io;
  RedisClient client(io, "127.0.0.1", server_->port(), fast());
  for (int64_t expected = 1; expected <= 3; ++expected) {
    auto reply = runToEnd(io, client.execute({{"INCR", "weft:test"}, {"PEXPIRE", "weft:test", "60000"}}));
    ASSERT_EQ(reply.failure, RedisFailure::kNone) << reply.message;
    ASSERT_EQ(reply.replies.size(), 2u);
    EXPECT_EQ(reply.replies[0].type, RespValue::Type::kInteger);
    EXPECT_EQ(reply.replies[0].integer, expected);
    EXPECT_EQ(reply.replies[1].integer, 1);
  }
  auto ttl = runToEnd(io, client.execute({{"PTTL", "weft:test"}}));
  EXPECT_GT(ttl.replies.at(0).integer, 0);
  EXPECT_LE(ttl.replies.at(0).integer, 60000);
  EXPECT_EQ(client.openConnections(), 1u) << "one connection, reused";
}

TEST_F(RealRedis, AnErrorReplyIsAReplyNotAFailure) {
  asio::io_context io;
  RedisClient client(io, "127.0.0.1", server_->port(), fast());
  auto reply = runToEnd(io, client.execute({{"NOSUCHCOMMAND"}, {"PING"}}));
  ASSERT_EQ(reply.failure, RedisFailure::kNone) << reply.message;
  EXPECT_EQ(reply.replies[0].type, RespValue::Type::kError);
  EXPECT_EQ(reply.replies[1].text, "PONG");
}

TEST_F(RealRedis, AConnectionTheServerClosedWhileIdleIsReplacedOnce) {
  asio::io_context io;
  RedisClient client(io, "127.0.0.1", server_->port(), fast());
  ASSERT_EQ(runToEnd(io, client.execute({{"PING"}})).failure, RedisFailure::kNone);
  // Kill every client connection, ours included, from another connection.
  RedisClient admin(io, "127.0.0.1", server_->port(), fast());
  auto killed = runToEnd(io, admin.execute({{"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"}}));
  ASSERT_EQ(killed.failure, RedisFailure::kNone) << killed.message;
  EXPECT_EQ(killed.replies[0].integer, 1);
  auto reply = runToEnd(io, client.execute({{"INCR", "weft:once"}}));
  ASSERT_EQ(reply.failure, RedisFailure::kNone) << reply.message;
  EXPECT_EQ(reply.replies[0].integer, 1) << "sent once";
}

}  // namespace
}  // namespace weft::proxy
