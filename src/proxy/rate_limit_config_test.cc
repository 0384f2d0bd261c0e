#include "proxy/rate_limit_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "proxy/proxy_config.h"

namespace weft::proxy {
namespace {

using ::testing::HasSubstr;

weft::v1::Resource policy(const std::string& name, weft::v1::RateLimitPolicy::Mode mode = weft::v1::RateLimitPolicy::LOCAL) {
  weft::v1::Resource r;
  r.set_name(name);
  auto* p = r.mutable_rate_limit_policy();
  p->set_name(name);
  p->add_gateways("istio-system/my-gateway");
  p->set_mode(mode);
  if (mode == weft::v1::RateLimitPolicy::GLOBAL) p->set_redis_address("redis.istio-system.svc.cluster.local:6379");
  auto* rule = p->add_rules();
  rule->set_name("per-ip");
  rule->set_requests(5);
  rule->set_unit_seconds(60);
  return r;
}

Result<std::shared_ptr<const RateLimitTable>> build(std::vector<weft::v1::Resource> resources) {
  std::map<std::string, weft::v1::Resource> byName;
  for (auto& r : resources) byName[r.name()] = std::move(r);
  return RateLimitTable::build(byName);
}

TEST(RateLimitConfig, CompilesLocalAndGlobalRules) {
  auto table = build({policy("istio-system/a"), policy("istio-system/b", weft::v1::RateLimitPolicy::GLOBAL)});
  ASSERT_TRUE(table) << table.error().message;
  auto rules = (*table)->rulesFor("istio-system/my-gateway", {});
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0]->policy, "istio-system/a");
  EXPECT_FALSE(rules[0]->global);
  EXPECT_EQ(rules[0]->limit.requests, 5u);
  EXPECT_EQ(rules[0]->limit.unit, std::chrono::seconds(60));
  EXPECT_TRUE(rules[1]->global);
  EXPECT_EQ(rules[1]->redisHost, "redis.istio-system.svc.cluster.local");
  EXPECT_EQ(rules[1]->redisPort, "6379");
}

TEST(RateLimitConfig, RulesApplyByGatewayOrByService) {
  auto byService = policy("default/svc");
  byService.mutable_rate_limit_policy()->clear_gateways();
  byService.mutable_rate_limit_policy()->add_services("httpbin.default.svc.cluster.local");
  auto table = build({policy("istio-system/gw"), byService});
  ASSERT_TRUE(table);
  EXPECT_EQ((*table)->rulesFor("istio-system/other", {}).size(), 0u);
  EXPECT_EQ((*table)->rulesFor("istio-system/my-gateway", {}).size(), 1u);
  auto both = (*table)->rulesFor("istio-system/my-gateway", {"reviews.default.svc.cluster.local", "httpbin.default.svc.cluster.local"});
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0]->policy, "default/svc");
  EXPECT_EQ((*table)->rulesFor("", {"httpbin.default.svc.cluster.local"}).size(), 1u);
  EXPECT_TRUE(RateLimitTable::empty()->none());
}

TEST(RateLimitConfig, RefusesWhatDoesNotCheck) {
  auto badUnit = policy("ns/bad-unit");
  badUnit.mutable_rate_limit_policy()->mutable_rules(0)->set_unit_seconds(86400);
  auto noRequests = policy("ns/no-requests");
  noRequests.mutable_rate_limit_policy()->mutable_rules(0)->set_requests(0);
  auto badHeader = policy("ns/bad-header");
  badHeader.mutable_rate_limit_policy()->mutable_rules(0)->set_key(weft::v1::RateLimitRule::HEADER);
  badHeader.mutable_rate_limit_policy()->mutable_rules(0)->set_header_name("X-User");
  auto badRedis = policy("ns/bad-redis", weft::v1::RateLimitPolicy::GLOBAL);
  badRedis.mutable_rate_limit_policy()->set_redis_address("redis");
  auto noRules = policy("ns/no-rules");
  noRules.mutable_rate_limit_policy()->clear_rules();
  weft::v1::Resource notAPolicy;
  notAPolicy.set_name("ns/cluster");
  notAPolicy.mutable_cluster();

  EXPECT_THAT(build({badUnit}).error().message, HasSubstr("unit of 86400 s is not a second, a minute or an hour"));
  EXPECT_THAT(build({noRequests}).error().message, HasSubstr("requests must be at least 1"));
  EXPECT_THAT(build({badHeader}).error().message, HasSubstr("header \"X-User\" is not a lower-case header name"));
  EXPECT_THAT(build({badRedis}).error().message, HasSubstr("redis_address: \"redis\" is not host:port"));
  EXPECT_THAT(build({noRules}).error().message, HasSubstr("no rules"));
  EXPECT_THAT(build({notAPolicy}).error().message, HasSubstr("not a RateLimitPolicy"));
}

TEST(RateLimitConfig, SplitHostPort) {
  EXPECT_EQ(*splitHostPort("10.0.0.1:6379"), (std::pair<std::string, std::string>{"10.0.0.1", "6379"}));
  EXPECT_EQ(*splitHostPort("[::1]:6379"), (std::pair<std::string, std::string>{"::1", "6379"}));
  EXPECT_FALSE(splitHostPort(":6379"));
  EXPECT_FALSE(splitHostPort("redis:0"));
  EXPECT_FALSE(splitHostPort("redis:65536"));
  EXPECT_FALSE(splitHostPort("redis:63x"));
}

TEST(RateLimitConfig, PartOfTheProxySnapshotAndABadPolicyNacksIt) {
  xds::HeldResources held;
  weft::v1::Resource listener;
  listener.set_name("istio-system/my-gateway/80");
  auto* l = listener.mutable_listener();
  l->set_name(listener.name());
  l->set_port(80);
  l->set_route_config_name("istio-system/my-gateway/http.80");
  l->set_gateway("istio-system/my-gateway");
  (*l->mutable_selector())["istio"] = "ingressgateway";
  held[kListenerType][listener.name()] = listener;
  weft::v1::Resource routes;
  routes.set_name("istio-system/my-gateway/http.80");
  auto* vhost = routes.mutable_route_configuration()->add_virtual_hosts();
  vhost->set_name("example.com:80");
  vhost->add_domains("example.com");
  auto* redirect = vhost->add_routes();
  redirect->set_name("r");
  redirect->mutable_redirect()->set_uri("/elsewhere");
  held[kRouteConfigurationType][routes.name()] = routes;
  held[kRateLimitPolicyType]["istio-system/a"] = policy("istio-system/a");

  auto config = ProxyConfig::build(held, {{"istio", "ingressgateway"}});
  ASSERT_TRUE(config) << config.error().message;
  const auto* host = (*config)->virtualHost(80, "example.com");
  ASSERT_NE(host, nullptr);
  EXPECT_EQ(host->gateway, "istio-system/my-gateway") << "the virtual host knows its Gateway";
  EXPECT_EQ((*config)->rateLimits()->rulesFor(host->gateway, {}).size(), 1u);

  held[kRateLimitPolicyType]["istio-system/a"].mutable_rate_limit_policy()->mutable_rules(0)->set_unit_seconds(7);
  auto refused = ProxyConfig::build(held, {{"istio", "ingressgateway"}});
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message, HasSubstr("rate limit policy istio-system/a rule per-ip: unit of 7 s"));
}

}  // namespace
}  // namespace weft::proxy
