#include "proxy/rate_limit_key.h"

#include <gtest/gtest.h>

#include <map>

namespace weft::proxy {
namespace {

RateLimitRule rule(weft::v1::RateLimitRule::Key key, std::string header = "") {
  RateLimitRule r;
  r.policy = "istio-system/per-client";
  r.name = "r";
  r.key = key;
  r.header = std::move(header);
  r.limit = Limit{5, std::chrono::seconds(60)};
  return r;
}

RequestFacts facts(std::map<std::string, std::string> headers, std::string principal = "") {
  RequestFacts f;
  f.clientAddress = "198.18.0.1";
  f.principal = std::move(principal);
  f.header = [headers = std::move(headers)](std::string_view name) -> std::optional<std::string_view> {
    auto found = headers.find(std::string(name));
    if (found == headers.end()) return std::nullopt;
    return found->second;
  };
  return f;
}

TEST(RateLimitKey, ClientAddressIsThePeersNeverXForwardedFor) {
  auto key = rateLimitKey(rule(weft::v1::RateLimitRule::CLIENT_ADDRESS), facts({{"x-forwarded-for", "1.2.3.4"}}));
  ASSERT_TRUE(key);
  EXPECT_EQ(*key, "198.18.0.1");
}

TEST(RateLimitKey, HeaderValueOrNotLimitedWithoutTheHeader) {
  auto r = rule(weft::v1::RateLimitRule::HEADER, "x-user");
  EXPECT_EQ(rateLimitKey(r, facts({{"x-user", "alice"}})), std::optional<std::string>("alice"));
  EXPECT_EQ(rateLimitKey(r, facts({{"x-user", ""}})), std::optional<std::string>("")) << "present but empty is a key";
  EXPECT_EQ(rateLimitKey(r, facts({{"x-other", "bob"}})), std::nullopt);
  RequestFacts noLookup;
  EXPECT_EQ(rateLimitKey(r, noLookup), std::nullopt);
}

TEST(RateLimitKey, PrincipalOrNotLimitedWithoutOne) {
  auto r = rule(weft::v1::RateLimitRule::PRINCIPAL);
  EXPECT_EQ(rateLimitKey(r, facts({}, "spiffe://acmellc.local/ns/default/sa/curl")),
            std::optional<std::string>("spiffe://acmellc.local/ns/default/sa/curl"));
  EXPECT_EQ(rateLimitKey(r, facts({})), std::nullopt) << "plaintext peers show no principal";
}

TEST(RateLimitKey, CounterNames) {
  auto r = rule(weft::v1::RateLimitRule::CLIENT_ADDRESS);
  EXPECT_EQ(ruleId(r), "istio-system/per-client/r");
  EXPECT_EQ(redisCounterKey(r, "198.18.0.1", 29000000), "weft:rl:istio-system/per-client:r:60:29000000:198.18.0.1");
  EXPECT_EQ(redisCounterKey(r, "a:b", 1), "weft:rl:istio-system/per-client:r:60:1:a:b") << "the key comes last, colons and all";
}

}  // namespace
}  // namespace weft::proxy
