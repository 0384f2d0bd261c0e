#include "proxy/rate_limiter.h"

#include <gtest/gtest.h>

#include "proxy/redis_test_support.h"

namespace weft::proxy {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::FakeRedis;
using testing::RedisServer;
using testing::runToEnd;

constexpr const char* kGateway = "istio-system/my-gateway";

weft::v1::Resource policy(const std::string& name, uint32_t requests, uint32_t unitSeconds, const std::string& redis = "") {
  weft::v1::Resource r;
  r.set_name(name);
  auto* p = r.mutable_rate_limit_policy();
  p->set_name(name);
  p->add_gateways(kGateway);
  if (!redis.empty()) {
    p->set_mode(weft::v1::RateLimitPolicy::GLOBAL);
    p->set_redis_address(redis);
  }
  auto* rule = p->add_rules();
  rule->set_name("per-ip");
  rule->set_requests(requests);
  rule->set_unit_seconds(unitSeconds);
  return r;
}

std::shared_ptr<const RateLimitTable> table(std::vector<weft::v1::Resource> resources) {
  std::map<std::string, weft::v1::Resource> byName;
  for (auto& r : resources) byName[r.name()] = std::move(r);
  auto built = RateLimitTable::build(byName);
  EXPECT_TRUE(built) << built.error().message;
  return built ? *built : RateLimitTable::empty();
}

RequestFacts from(const std::string& address) {
  RequestFacts facts;
  facts.clientAddress = address;
  return facts;
}

// Clocks that tests move by hand: a steady instant and a wall instant.
struct TestClocks {
  SteadyTime steady{std::chrono::hours(1000)};
  // 30 s into a minute, 30 min into an hour: no window ends during a test.
  SystemTime wall{std::chrono::seconds(1767225600 + 1800 + 30)};
  RateLimiter::Clocks clocks() {
    return {[this] { return steady; }, [this] { return wall; }};
  }
};

TEST(RateLimiter, LocalRuleAllowsTheLimitThenAnswers429) {
  asio::io_context io;
  TestClocks time;
  RateLimiter limiter(io, {}, time.clocks());
  auto rules = table({policy("istio-system/per-client", 3, 60)});
  for (uint32_t i = 0; i < 3; ++i) {
    auto verdict = runToEnd(io, limiter.check(rateLimitCheck(rules, kGateway, {}, from("198.18.0.1"))));
    EXPECT_FALSE(verdict.limited) << i;
    ASSERT_TRUE(verdict.quota);
    EXPECT_EQ(verdict.quota->remaining, 2 - i);
  }
  auto verdict = runToEnd(io, limiter.check(rateLimitCheck(rules, kGateway, {}, from("198.18.0.1"))));
  EXPECT_TRUE(verdict.limited);
  EXPECT_FALSE(verdict.global);
  EXPECT_EQ(limiter.metrics().limitedCount("istio-system/per-client", "per-ip"), 1u);
  // Another client has its own bucket; another Gateway is not limited at all.
  EXPECT_FALSE(runToEnd(io, limiter.check(rateLimitCheck(rules, kGateway, {}, from("198.18.0.2")))).limited);
  auto elsewhere = runToEnd(io, limiter.check(rateLimitCheck(rules, "istio-system/other", {}, from("198.18.0.1"))));
  EXPECT_FALSE(elsewhere.limited);
  EXPECT_FALSE(elsewhere.quota) << "no rule applied: no RateLimit headers";
  // 20 s later (one token per 20 s) the first client may send one more.
  time.steady += 20s;
  EXPECT_FALSE(runToEnd(io, limiter.check(rateLimitCheck(rules, kGateway, {}, from("198.18.0.1")))).limited);

  auto response = rateLimitedResponse(verdict);
  EXPECT_EQ(response.result_int(), 429u);
  EXPECT_EQ(response["x-envoy-ratelimited"], "true");
  EXPECT_EQ(response["RateLimit-Limit"], "3");
  EXPECT_EQ(response["RateLimit-Remaining"], "0");
  EXPECT_EQ(response["RateLimit-Reset"], "60");
  EXPECT_EQ(response["Retry-After"], "20");
  EXPECT_EQ(response.body(), "local_rate_limited");
}

TEST(RateLimiter, TheRuleNearestItsLimitNamesTheHeaders) {
  asio::io_context io;
  TestClocks time;
  RateLimiter limiter(io, {}, time.clocks());
  auto rules = table({policy("a/loose", 100, 60), policy("b/tight", 2, 1)});
  auto verdict = runToEnd(io, limiter.check(rateLimitCheck(rules, kGateway, {}, from("198.18.0.1"))));
  ASSERT_TRUE(verdict.quota);
  EXPECT_EQ(verdict.quota->limit, 2u);
  EXPECT_EQ(verdict.quota->remaining, 1u);
  boost::beast::http::fields fields;
  addRateLimitHeaders(fields, verdict);
  EXPECT_EQ(fields["RateLimit-Limit"], "2");
  EXPECT_EQ(fields["RateLimit-Remaining"], "1");
  EXPECT_EQ(fields["RateLimit-Reset"], "1");
}

TEST(RateLimiter, GlobalFailsOpenWhenRedisIsUnreachable) {
  asio::io_context io;
  TestClocks time;
  RateLimiter limiter(io, {.timeout = 300ms, .backoff = 60s}, time.clocks());
  auto rules = table({policy("istio-system/shared", 1, 60, "127.0.0.1:" + testing::closedPort())});
  for (int i = 0; i < 3; ++i) {
    auto verdict = runToEnd(io, limiter.check(rateLimitCheck(rules, kGateway, {}, from("198.18.0.1"))));
    EXPECT_FALSE(verdict.limited) << "fail open";
  }
  EXPECT_EQ(limiter.metrics().redisErrorCount("unavailable"), 3u);
  EXPECT_EQ(limiter.metrics().failureModeAllowedCount(), 3u);
  EXPECT_NE(limiter.metrics().prometheusText().find("weft_ratelimit_failure_mode_allowed_total{address=\"127.0.0.1:"), std::string::npos);
}

TEST(RateLimiter, GlobalFailsOpenOnAnswersThatAreNotCounts) {
  asio::io_context io;
  TestClocks time;
  FakeRedis server(io, FakeRedis::Mode::kReply, "-READONLY You can't write against a read only replica.\r\n:1\r\n");
  RateLimiter limiter(io, {}, time.clocks());
  auto rules = table({policy("istio-system/shared", 1, 60, "127.0.0.1:" + server.port())});
  auto verdict = runToEnd(io, limiter.check(rateLimitCheck(rules, kGateway, {}, from("198.18.0.1"))));
  EXPECT_FALSE(verdict.limited);
  EXPECT_EQ(limiter.metrics().redisErrorCount("protocol"), 1u);
  EXPECT_EQ(limiter.metrics().failureModeAllowedCount(), 1u);

  server.setReply("*1\r\n:1\r\n");  // well-formed, but only one reply for two commands... and the wrong type
  auto again = runToEnd(io, limiter.check(rateLimitCheck(rules, kGateway, {}, from("198.18.0.1"))));
  EXPECT_FALSE(again.limited);
  EXPECT_GE(limiter.metrics().redisErrorCount("protocol") + limiter.metrics().redisErrorCount("timeout"), 2u);
}

TEST(RateLimiter, LocalRefusalDoesNotAskRedis) {
  asio::io_context io;
  TestClocks time;
  FakeRedis server(io, FakeRedis::Mode::kReply, ":1\r\n:1\r\n");
  RateLimiter limiter(io, {}, time.clocks());
  auto rules = table({policy("a/local", 1, 60), policy("b/global", 10, 60, "127.0.0.1:" + server.port())});
  EXPECT_FALSE(runToEnd(io, limiter.check(rateLimitCheck(rules, kGateway, {}, from("198.18.0.1")))).limited);
  EXPECT_EQ(server.accepted(), 1);
  auto refused = runToEnd(io, limiter.check(rateLimitCheck(rules, kGateway, {}, from("198.18.0.1"))));
  EXPECT_TRUE(refused.limited);
  EXPECT_FALSE(refused.global);
}

TEST(RateLimiter, GlobalLimitIsSharedByEveryReplica) {
  if (!RedisServer::available()) GTEST_SKIP() << "/usr/bin/redis-server is not installed";
  RedisServer redis;
  ASSERT_TRUE(redis.accepts());
  asio::io_context io;
  TestClocks time;
  RateLimiter replicaA(io, {}, time.clocks());
  RateLimiter replicaB(io, {}, time.clocks());
  auto rules = table({policy("istio-system/shared", 4, 60, "127.0.0.1:" + redis.port())});
  int allowed = 0;
  RateLimitVerdict last;
  for (int i = 0; i < 8; ++i) {
    RateLimiter& replica = i % 2 == 0 ? replicaA : replicaB;
    last = runToEnd(io, replica.check(rateLimitCheck(rules, kGateway, {}, from("198.18.0.1"))));
    if (!last.limited) ++allowed;
  }
  EXPECT_EQ(allowed, 4);
  EXPECT_TRUE(last.limited);
  EXPECT_TRUE(last.global);
  ASSERT_TRUE(last.quota);
  EXPECT_EQ(last.quota->remaining, 0u);
  EXPECT_EQ(last.quota->reset, 30s) << "the fixed window ends at the minute";
  EXPECT_EQ(last.quota->retryAfter, 30s);
  EXPECT_EQ(replicaA.metrics().limitedCount("istio-system/shared", "per-ip") + replicaB.metrics().limitedCount("istio-system/shared", "per-ip"), 4u);
  EXPECT_EQ(rateLimitedResponse(last).body(), "") << "Envoy's ratelimit filter sends no body";
  // Another client, and the next window, start afresh.
  EXPECT_FALSE(runToEnd(io, replicaA.check(rateLimitCheck(rules, kGateway, {}, from("198.18.0.2")))).limited);
  time.wall += 30s;
  EXPECT_FALSE(runToEnd(io, replicaB.check(rateLimitCheck(rules, kGateway, {}, from("198.18.0.1")))).limited);
}

}  // namespace
}  // namespace weft::proxy
