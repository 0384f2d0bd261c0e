// The per-request pieces of traffic policy that need no sockets: match fields beyond path
// and headers, consistent-hash keys, CORS and fault draws.
#include <gtest/gtest.h>

#include <map>

#include <boost/json.hpp>

#include "proxy/cors.h"
#include "proxy/fault_injection.h"
#include "proxy/hash_key.h"
#include "proxy/proxy_config.h"

namespace weft::proxy {
namespace {

RequestView view(std::string_view host, std::string_view target, std::map<std::string, std::string> headers = {},
                 std::string_view method = "GET") {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(headers));
  return RequestView{host, target,
                     [shared](std::string_view name) -> std::optional<std::string_view> {
                       auto found = shared->find(std::string(name));
                       if (found == shared->end()) return std::nullopt;
                       return std::string_view(found->second);
                     },
                     method};
}

// One virtual host "*" with the given routes, built through ProxyConfig so the compile
// step (and its refusals) is the real one.
Result<std::shared_ptr<const ProxyConfig>> configWith(std::vector<weft::v1::Route> routes) {
  xds::HeldResources held;
  auto& l = held[kListenerType]["gw/80"];
  l.set_name("gw/80");
  l.mutable_listener()->set_name("gw/80");
  l.mutable_listener()->set_port(80);
  l.mutable_listener()->set_route_config_name("gw/http.80");
  (*l.mutable_listener()->mutable_selector())["istio"] = "ingressgateway";
  auto& r = held[kRouteConfigurationType]["gw/http.80"];
  r.set_name("gw/http.80");
  auto* vh = r.mutable_route_configuration()->add_virtual_hosts();
  vh->set_name("*:80");
  vh->add_domains("*");
  for (auto& route : routes) *vh->add_routes() = std::move(route);
  return ProxyConfig::build(held, {{"istio", "ingressgateway"}});
}

weft::v1::Route named(const std::string& name) {
  weft::v1::Route r;
  r.set_name(name);
  auto* c = r.mutable_route()->add_clusters();
  c->set_cluster("outbound|80||" + name);
  c->set_weight(100);
  return r;
}

std::string routed(const ProxyConfig& config, const RequestView& request) {
  const auto* vhost = config.virtualHost(80, request.host);
  const auto* route = vhost ? ProxyConfig::route(*vhost, request) : nullptr;
  return route ? route->spec.name() : "none";
}

// Istio's JWT claim-based routing: "@request.auth.claims.<name>" (dots for nesting, or
// [a][b]) matches the verified token's claim; a request without one matches no claim.
TEST(RouteMatch, JwtClaimsFromTheVerifiedToken) {
  EXPECT_EQ(jwtClaimPath("@request.auth.claims.groups"), "[groups]");
  EXPECT_EQ(jwtClaimPath("@request.auth.claims.nested.key1"), "[nested][key1]");
  EXPECT_EQ(jwtClaimPath("@request.auth.claims[a.b][c]"), "[a.b][c]");
  EXPECT_EQ(jwtClaimPath("x-user"), std::nullopt);
  EXPECT_EQ(jwtClaimPath("@request.auth.claims"), std::nullopt);
  EXPECT_EQ(jwtClaimPath("@request.auth.claims.a."), std::nullopt) << "an empty claim name";
  EXPECT_EQ(jwtClaimPath("@request.auth.claims.a..b"), std::nullopt);
  auto admins = named("admins");
  auto* group = admins.mutable_match()->add_headers();
  group->set_name("@request.auth.claims.groups");
  group->mutable_match()->set_exact("Admin");
  auto nested = named("eu-team");
  auto* team = nested.mutable_match()->add_headers();
  team->set_name("@request.auth.claims.org.region");
  team->mutable_match()->set_prefix("eu-");
  auto notBob = named("not-bob");
  auto* bob = notBob.mutable_match()->add_without_headers();
  bob->set_name("@request.auth.claims.sub");
  bob->mutable_match()->set_exact("bob");
  auto fallback = named("fallback");
  auto config = configWith({admins, nested, notBob, fallback});
  ASSERT_TRUE(config) << config.error().message;

  VerifiedJwt jwt;
  jwt.subject = "bob";
  jwt.claims = boost::json::parse(R"({"sub":"bob","groups":["dev","Admin"],"org":{"region":"eu-west"}})").as_object();
  auto withToken = [&](std::map<std::string, std::string> headers = {}) {
    auto v = view("a.com", "/", std::move(headers));
    v.jwt = &jwt;
    return v;
  };
  EXPECT_EQ(routed(**config, withToken()), "admins") << "a list claim matches by one of its strings";
  jwt.claims["groups"] = boost::json::array{"dev"};
  EXPECT_EQ(routed(**config, withToken()), "eu-team") << "a nested claim";
  jwt.claims["org"] = boost::json::object{{"region", "us-east"}};
  EXPECT_EQ(routed(**config, withToken()), "fallback") << "bob is excluded by withoutHeaders";
  jwt.claims["sub"] = "alice";
  EXPECT_EQ(routed(**config, withToken()), "not-bob");
  EXPECT_EQ(routed(**config, view("a.com", "/", {{"@request.auth.claims.groups", "Admin"}})), "not-bob")
      << "a header named like the claim is not the claim; no token: no claim, so withoutHeaders holds";
}

TEST(RouteMatch, MethodAuthorityQueryWithoutHeadersAndPresence) {
  auto post = named("post");
  post.mutable_match()->mutable_method()->set_exact("POST");
  auto admin = named("admin-host");
  admin.mutable_match()->mutable_authority()->set_prefix("admin.");
  auto query = named("debug-query");
  auto* q = query.mutable_match()->add_query_params();
  q->set_name("debug");
  q->mutable_match()->set_exact("1");
  auto present = named("has-canary");
  present.mutable_match()->add_headers()->set_name("x-canary");  // no match kind: present
  auto without = named("not-test-user");
  auto* w = without.mutable_match()->add_without_headers();
  w->set_name("x-user");
  w->mutable_match()->set_exact("test");
  auto fallback = named("fallback");
  auto config = configWith({post, admin, query, present, without, fallback});
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(routed(**config, view("a.com", "/", {}, "POST")), "post");
  EXPECT_EQ(routed(**config, view("admin.a.com", "/")), "admin-host");
  EXPECT_EQ(routed(**config, view("a.com", "/x?a=2&debug=1")), "debug-query");
  EXPECT_EQ(routed(**config, view("a.com", "/x?debug=10", {{"x-user", "test"}})), "fallback");
  EXPECT_EQ(routed(**config, view("a.com", "/", {{"x-canary", ""}, {"x-user", "test"}})), "has-canary");
  EXPECT_EQ(routed(**config, view("a.com", "/", {{"x-user", "bob"}})), "not-test-user");
  EXPECT_EQ(routed(**config, view("a.com", "/")), "not-test-user");  // absent header: not excluded
}

TEST(RouteMatch, ABadRegexInAnyNewFieldRefusesTheSnapshot) {
  auto bad = named("bad");
  bad.mutable_match()->mutable_method()->set_regex("(");
  auto config = configWith({bad});
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().message.find("method"), std::string::npos) << config.error().message;
  auto twoActions = named("two");
  twoActions.mutable_direct_response()->set_status(200);
  EXPECT_FALSE(configWith({twoActions}));
}

TEST(QueryParameter, FindsValuesAndBareKeys) {
  EXPECT_EQ(queryParameter("/p?a=1&b&c=", "a"), "1");
  EXPECT_EQ(queryParameter("/p?a=1&b&c=", "b"), "");
  EXPECT_EQ(queryParameter("/p?a=1&b&c=", "c"), "");
  EXPECT_FALSE(queryParameter("/p?a=1", "ab"));
  EXPECT_FALSE(queryParameter("/p", "a"));
}

TEST(HashKey, HeaderCookieSourceIpAndQuery) {
  std::minstd_rand random(1);
  weft::v1::LoadBalancer lb;
  lb.set_policy(weft::v1::LoadBalancer::CONSISTENT_HASH);
  lb.set_hash_header("x-user");
  EXPECT_EQ(hashKeyFor(lb, view("h", "/", {{"x-user", "ann"}}), "10.0.0.1", random).key, "ann");
  EXPECT_FALSE(hashKeyFor(lb, view("h", "/"), "10.0.0.1", random).key);
  lb.Clear();
  lb.set_policy(weft::v1::LoadBalancer::CONSISTENT_HASH);
  lb.set_hash_source_ip(true);
  EXPECT_EQ(hashKeyFor(lb, view("h", "/"), "10.0.0.1", random).key, "10.0.0.1");
  lb.Clear();
  lb.set_policy(weft::v1::LoadBalancer::CONSISTENT_HASH);
  lb.set_hash_query_parameter("session");
  EXPECT_EQ(hashKeyFor(lb, view("h", "/?session=s1"), "", random).key, "s1");
}

TEST(HashKey, ACookieWithTtlIsMintedWhenAbsent) {
  std::minstd_rand random(1);
  weft::v1::LoadBalancer lb;
  lb.set_policy(weft::v1::LoadBalancer::CONSISTENT_HASH);
  lb.set_hash_cookie("user");
  EXPECT_EQ(hashKeyFor(lb, view("h", "/", {{"cookie", "a=1; user=\"abc\"; z=2"}}), "", random).key, "abc");
  auto none = hashKeyFor(lb, view("h", "/"), "", random);
  EXPECT_FALSE(none.key);
  EXPECT_TRUE(none.setCookie.empty());
  lb.set_hash_cookie_ttl_s(60);
  lb.set_hash_cookie_path("/");
  auto minted = hashKeyFor(lb, view("h", "/"), "", random);
  ASSERT_TRUE(minted.key);
  EXPECT_EQ(minted.setCookie, "user=\"" + *minted.key + "\"; Max-Age=60; Path=/; HttpOnly");
  EXPECT_EQ(cookieValue("user=x", "use"), std::nullopt);
}

TEST(Cors, AllowedOriginsPreflightAndActualHeaders) {
  auto route = named("cors");
  auto* cors = route.mutable_cors();
  cors->add_allow_origins()->set_exact("https://app.example.com");
  cors->add_allow_origins()->set_regex("https://.*\\.test");
  cors->add_allow_methods("GET");
  cors->add_allow_methods("POST");
  cors->add_allow_headers("x-token");
  cors->add_expose_headers("x-trace");
  cors->set_max_age_s(3600);
  cors->set_allow_credentials(true);
  auto config = configWith({route});
  ASSERT_TRUE(config);
  const auto& compiled = (*config)->ports().at(80).virtualHosts.front().routes.front();
  EXPECT_TRUE(corsOriginAllowed(compiled, "https://app.example.com"));
  EXPECT_TRUE(corsOriginAllowed(compiled, "https://a.test"));
  EXPECT_FALSE(corsOriginAllowed(compiled, "https://evil.com"));
  EXPECT_FALSE(corsOriginAllowed(compiled, ""));
  EXPECT_TRUE(isCorsPreflight("OPTIONS", "https://a.test", "POST"));
  EXPECT_FALSE(isCorsPreflight("OPTIONS", "https://a.test", ""));
  boost::beast::http::fields preflight;
  addPreflightHeaders(*cors, "https://a.test", preflight);
  EXPECT_EQ(preflight["access-control-allow-origin"], "https://a.test");
  EXPECT_EQ(preflight["access-control-allow-methods"], "GET,POST");
  EXPECT_EQ(preflight["access-control-allow-headers"], "x-token");
  EXPECT_EQ(preflight["access-control-max-age"], "3600");
  EXPECT_EQ(preflight["access-control-allow-credentials"], "true");
  boost::beast::http::fields actual;
  addActualRequestHeaders(*cors, "https://a.test", actual);
  EXPECT_EQ(actual["access-control-expose-headers"], "x-trace");
  EXPECT_EQ(actual.count("access-control-allow-methods"), 0u);
}

TEST(Fault, PercentagesAreDrawnIndependently) {
  std::minstd_rand random(11);
  weft::v1::FaultPolicy fault;
  fault.set_abort_status(503);
  fault.set_abort_percent(100);
  EXPECT_EQ(decideFault(fault, random).abortStatus, 503u);
  fault.set_abort_percent(0);
  EXPECT_EQ(decideFault(fault, random).abortStatus, 0u);
  fault.set_abort_percent(25);
  fault.set_delay_ms(100);
  fault.set_delay_percent(50);
  int aborted = 0, delayed = 0;
  for (int i = 0; i < 4000; ++i) {
    auto d = decideFault(fault, random);
    aborted += d.abortStatus != 0;
    delayed += d.delayMs != 0;
  }
  EXPECT_NEAR(aborted, 1000, 150);
  EXPECT_NEAR(delayed, 2000, 200);
}

}  // namespace
}  // namespace weft::proxy
