#include "proxy/proxy_config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

namespace weft::proxy {
namespace {

weft::v1::Resource listener(const std::string& name, uint32_t port, std::map<std::string, std::string> selector,
                            weft::v1::Listener::Protocol protocol = weft::v1::Listener::HTTP) {
  weft::v1::Resource r;
  r.set_name(name);
  auto* l = r.mutable_listener();
  l->set_name(name);
  l->set_port(port);
  l->set_protocol(protocol);
  l->set_route_config_name(name + "/routes");
  for (auto& [k, v] : selector) (*l->mutable_selector())[k] = v;
  return r;
}

weft::v1::Route routeTo(const std::string& name, const std::string& cluster) {
  weft::v1::Route route;
  route.set_name(name);
  auto* wc = route.mutable_route()->add_clusters();
  wc->set_cluster(cluster);
  wc->set_weight(100);
  return route;
}

struct Fixture {
  xds::HeldResources held;
  weft::v1::RouteConfiguration* routes(const std::string& listenerName) {
    auto& r = held[kRouteConfigurationType][listenerName + "/routes"];
    r.set_name(listenerName + "/routes");
    r.mutable_route_configuration()->set_name(r.name());
    return r.mutable_route_configuration();
  }
  void add(weft::v1::Resource r) {
    std::string type = r.has_listener() ? kListenerType : kClusterType;
    held[type][r.name()] = std::move(r);
  }
};

weft::v1::VirtualHost* vhost(weft::v1::RouteConfiguration* config, std::vector<std::string> domains) {
  auto* v = config->add_virtual_hosts();
  v->set_name(domains.front());
  for (auto& d : domains) v->add_domains(d);
  return v;
}

RequestView request(std::string_view host, std::string_view target, std::map<std::string, std::string> headers = {}) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(headers));
  return RequestView{host, target, [shared](std::string_view name) -> std::optional<std::string_view> {
                       auto found = shared->find(std::string(name));
                       if (found == shared->end()) return std::nullopt;
                       return std::string_view(found->second);
                     }};
}

const Labels kGatewayPod{{"istio", "ingressgateway"}, {"ingress", "global"}};

TEST(ProxyConfig, HostMatchingExactWildcardPortStrippedAndCatchAll) {
  Fixture f;
  f.add(listener("gw/80", 80, {{"istio", "ingressgateway"}}));
  auto* config = f.routes("gw/80");
  *vhost(config, {"example.com"})->add_routes() = routeTo("exact", "c");
  *vhost(config, {"*.example.com"})->add_routes() = routeTo("wild", "c");
  *vhost(config, {"*.a.example.com"})->add_routes() = routeTo("longer", "c");
  auto built = ProxyConfig::build(f.held, kGatewayPod);
  ASSERT_TRUE(built) << built.error().message;
  const auto& c = **built;
  ASSERT_NE(c.virtualHost(80, "example.com"), nullptr);
  EXPECT_EQ(c.virtualHost(80, "example.com")->name, "example.com");
  EXPECT_EQ(c.virtualHost(80, "EXAMPLE.com:80")->name, "example.com");
  EXPECT_EQ(c.virtualHost(80, "x.example.com:8080")->name, "*.example.com");
  EXPECT_EQ(c.virtualHost(80, "b.a.example.com")->name, "*.a.example.com");
  EXPECT_EQ(c.virtualHost(80, "other.com"), nullptr);
  EXPECT_EQ(c.virtualHost(80, ""), nullptr);
  EXPECT_EQ(c.virtualHost(81, "example.com"), nullptr);

  *vhost(f.routes("gw/80"), {"*"})->add_routes() = routeTo("any", "c");
  auto withAny = ProxyConfig::build(f.held, kGatewayPod);
  ASSERT_TRUE(withAny);
  EXPECT_EQ((*withAny)->virtualHost(80, "other.com")->name, "*");
  EXPECT_EQ((*withAny)->virtualHost(80, "example.com")->name, "example.com");
}

TEST(ProxyConfig, OnlyListenersSelectingThisPodAndHttpAreServed) {
  Fixture f;
  f.add(listener("mine/80", 80, {{"istio", "ingressgateway"}}));
  f.add(listener("other/81", 81, {{"istio", "egressgateway"}}));
  f.add(listener("noselector/82", 82, {}));
  f.add(listener("tls/443", 443, {{"ingress", "global"}}, weft::v1::Listener::HTTPS));
  auto built = ProxyConfig::build(f.held, kGatewayPod);
  ASSERT_TRUE(built);
  ASSERT_EQ((*built)->ports().size(), 1u);
  EXPECT_TRUE((*built)->ports().contains(80));
  ASSERT_EQ((*built)->skipped().size(), 1u);
  EXPECT_NE((*built)->skipped()[0].find("HTTPS"), std::string::npos);
}

TEST(ProxyConfig, RouteMatchingFirstMatchWins) {
  Fixture f;
  f.add(listener("gw/80", 80, {{"istio", "ingressgateway"}}));
  auto* v = vhost(f.routes("gw/80"), {"example.com"});
  auto exact = routeTo("exact", "c");
  exact.mutable_match()->mutable_path()->set_exact("/get");
  *v->add_routes() = exact;
  auto header = routeTo("header", "c");
  header.mutable_match()->mutable_path()->set_prefix("/api");
  auto* h = header.mutable_match()->add_headers();
  h->set_name("x-canary");
  h->mutable_match()->set_exact("yes");
  *v->add_routes() = header;
  auto caseless = routeTo("caseless", "c");
  caseless.mutable_match()->mutable_path()->set_prefix("/api");
  caseless.mutable_match()->set_ignore_uri_case(true);
  *v->add_routes() = caseless;
  auto regex = routeTo("regex", "c");
  regex.mutable_match()->mutable_path()->set_regex("/v[0-9]+/.*");
  *v->add_routes() = regex;
  auto built = ProxyConfig::build(f.held, kGatewayPod);
  ASSERT_TRUE(built) << built.error().message;
  const auto* vh = (*built)->virtualHost(80, "example.com");
  ASSERT_NE(vh, nullptr);
  auto nameOf = [&](RequestView r) -> std::string {
    const auto* route = ProxyConfig::route(*vh, r);
    return route == nullptr ? "none" : route->spec.name();
  };
  EXPECT_EQ(nameOf(request("example.com", "/get")), "exact");
  EXPECT_EQ(nameOf(request("example.com", "/get?x=1")), "exact");  // exact ignores the query
  EXPECT_EQ(nameOf(request("example.com", "/getx")), "none");
  EXPECT_EQ(nameOf(request("example.com", "/api/a", {{"x-canary", "yes"}})), "header");
  EXPECT_EQ(nameOf(request("example.com", "/api/a", {{"x-canary", "no"}})), "caseless");
  EXPECT_EQ(nameOf(request("example.com", "/API/a")), "caseless");
  EXPECT_EQ(nameOf(request("example.com", "/v2/x")), "regex");
  EXPECT_EQ(nameOf(request("example.com", "/v2")), "none");  // a regex matches the whole path
}

TEST(ProxyConfig, ConfigItCannotApplyIsRefused) {
  Fixture bad;
  bad.add(listener("gw/80", 80, {{"istio", "ingressgateway"}}));
  auto r = routeTo("bad", "c");
  r.mutable_match()->mutable_path()->set_regex("(unclosed");
  *vhost(bad.routes("gw/80"), {"example.com"})->add_routes() = r;
  auto built = ProxyConfig::build(bad.held, kGatewayPod);
  ASSERT_FALSE(built);
  EXPECT_NE(built.error().message.find("(unclosed"), std::string::npos);

  Fixture reserved;
  reserved.add(listener("gw/15021", 15021, {{"istio", "ingressgateway"}}));
  EXPECT_FALSE(ProxyConfig::build(reserved.held, kGatewayPod));

  Fixture noWeight;
  noWeight.add(listener("gw/80", 80, {{"istio", "ingressgateway"}}));
  auto zero = routeTo("zero", "c");
  zero.mutable_route()->mutable_clusters(0)->set_weight(0);
  *vhost(noWeight.routes("gw/80"), {"example.com"})->add_routes() = zero;
  EXPECT_FALSE(ProxyConfig::build(noWeight.held, kGatewayPod));
}

TEST(ProxyConfig, RoutesArrivingAfterTheListenerLeaveThePortAnswering404) {
  Fixture f;
  f.add(listener("gw/80", 80, {{"istio", "ingressgateway"}}));
  auto built = ProxyConfig::build(f.held, kGatewayPod);
  ASSERT_TRUE(built);
  EXPECT_TRUE((*built)->ports().contains(80));
  EXPECT_EQ((*built)->virtualHost(80, "example.com"), nullptr);
}

TEST(ProxyConfig, TcpAndPassthroughRoutesByKindAndServerName) {
  Fixture f;
  auto addRoute = [](weft::v1::Resource& r, const std::string& name, std::vector<std::string> sni, uint32_t weight = 100) {
    auto* route = r.mutable_listener()->add_tcp_routes();
    route->set_name(name);
    for (auto& s : sni) route->add_sni_hosts(s);
    auto* wc = route->add_clusters();
    wc->set_cluster("c-" + name);
    wc->set_weight(weight);
  };
  // An HTTPS listener whose only terminating server cannot be loaded (no credentials here):
  // its passthrough routes keep the port bound.
  auto tls = listener("gw/443", 443, {{"istio", "ingressgateway"}}, weft::v1::Listener::HTTPS);
  tls.mutable_listener()->add_tls_servers()->set_credential_name("missing");
  addRoute(tls, "wild", {"*.Example.com"});
  addRoute(tls, "exact", {"a.example.com"});
  addRoute(tls, "longer", {"*.b.example.com"});
  f.add(tls);
  auto tcp = listener("gw/31400", 31400, {{"istio", "ingressgateway"}}, weft::v1::Listener::TCP);
  addRoute(tcp, "first", {});
  addRoute(tcp, "second", {});
  f.add(tcp);
  // An HTTP listener on the TCP port cannot share it.
  f.add(listener("other/31400", 31400, {{"istio", "ingressgateway"}}));
  auto built = ProxyConfig::build(f.held, kGatewayPod);
  ASSERT_TRUE(built) << built.error().message;
  const auto& ports = (*built)->ports();
  ASSERT_TRUE(ports.contains(443));
  const PortRoutes& passthrough = ports.at(443);
  EXPECT_EQ(passthrough.kind, PortRoutes::Kind::kTls);
  EXPECT_EQ(passthrough.tls, nullptr);
  // An exact name first, whatever the order; then the longest wildcard; names in any case.
  EXPECT_EQ(ProxyConfig::tcpRoute(passthrough, "A.example.COM")->spec.name(), "exact");
  EXPECT_EQ(ProxyConfig::tcpRoute(passthrough, "x.b.example.com")->spec.name(), "longer");
  EXPECT_EQ(ProxyConfig::tcpRoute(passthrough, "c.example.com")->spec.name(), "wild");
  EXPECT_EQ(ProxyConfig::tcpRoute(passthrough, "example.com"), nullptr);
  EXPECT_EQ(ProxyConfig::tcpRoute(passthrough, ""), nullptr);
  const PortRoutes& plainTcp = ports.at(31400);
  EXPECT_EQ(plainTcp.kind, PortRoutes::Kind::kTcp);
  EXPECT_EQ(ProxyConfig::tcpRoute(plainTcp, "anything")->spec.name(), "first");
  auto skipped = (*built)->skipped();
  EXPECT_TRUE(std::any_of(skipped.begin(), skipped.end(), [](const std::string& s) {
    return s == "listener other/31400: port 31400 already serves TCP";
  })) << ::testing::PrintToString(skipped);

  // A route with no weight anywhere still takes its connections (the relay closes them).
  auto zero = listener("gw/9000", 9000, {{"istio", "ingressgateway"}}, weft::v1::Listener::TCP);
  addRoute(zero, "weightless", {}, 0);
  f.add(zero);
  auto withZero = ProxyConfig::build(f.held, kGatewayPod);
  ASSERT_TRUE(withZero) << withZero.error().message;
  const CompiledTcpRoute* weightless = ProxyConfig::tcpRoute((*withZero)->ports().at(9000), "");
  ASSERT_NE(weightless, nullptr);
  EXPECT_EQ(weightless->totalWeight, 0u);
}

// sourceLabels and sourceNamespace at a Gateway: the routes whose source is not this pod
// are left out (HTTP and TCP alike).
TEST(ProxyConfig, RoutesForOtherSourcePodsAreLeftOut) {
  Fixture f;
  f.add(listener("gw/80", 80, {{"istio", "ingressgateway"}}));
  auto* host = vhost(f.routes("gw/80"), {"*"});
  auto mine = routeTo("mine", "c");
  (*mine.mutable_match()->mutable_source()->mutable_labels())["ingress"] = "global";
  mine.mutable_match()->mutable_path()->set_prefix("/mine");
  auto theirs = routeTo("theirs", "c");
  (*theirs.mutable_match()->mutable_source()->mutable_labels())["ingress"] = "internal";
  auto otherNamespace = routeTo("other-namespace", "c");
  otherNamespace.mutable_match()->mutable_source()->set_namespace_("elsewhere");
  *host->add_routes() = mine;
  *host->add_routes() = theirs;
  *host->add_routes() = otherNamespace;
  *host->add_routes() = routeTo("anyone", "c");
  auto tcp = listener("gw/31400", 31400, {{"istio", "ingressgateway"}}, weft::v1::Listener::TCP);
  auto addTcp = [&](const std::string& name, std::optional<std::string> ingress) {
    auto* route = tcp.mutable_listener()->add_tcp_routes();
    route->set_name(name);
    auto* wc = route->add_clusters();
    wc->set_cluster("c");
    wc->set_weight(1);
    if (ingress) (*route->add_sources()->mutable_labels())["ingress"] = *ingress;
  };
  addTcp("tcp-theirs", "internal");
  addTcp("tcp-mine", "global");
  f.add(tcp);
  auto built = ProxyConfig::build(f.held, kGatewayPod, nullptr, "istio-system");
  ASSERT_TRUE(built) << built.error().message;
  const auto* served = (*built)->virtualHost(80, "x");
  ASSERT_NE(served, nullptr);
  std::vector<std::string> names;
  for (const auto& r : served->routes) names.push_back(r.spec.name());
  EXPECT_EQ(names, (std::vector<std::string>{"mine", "anyone"}));
  EXPECT_EQ(ProxyConfig::tcpRoute((*built)->ports().at(31400), "")->spec.name(), "tcp-mine");
}

// Two Gateways' listeners on one port with a domain in common: one virtual host with the
// routes of both, each route knowing its Gateway; a virtual host left without routes for
// this pod claims nothing.
TEST(ProxyConfig, GatewaysSharingAPortAndDomainShareTheVirtualHost) {
  Fixture f;
  auto a = listener("a/80", 80, {{"istio", "ingressgateway"}});
  a.mutable_listener()->set_gateway("istio-system/a");
  f.add(a);
  auto b = listener("b/80", 80, {{"istio", "ingressgateway"}});
  b.mutable_listener()->set_gateway("istio-system/b");
  f.add(b);
  auto c = listener("c/80", 80, {{"istio", "ingressgateway"}});
  c.mutable_listener()->set_gateway("istio-system/c");
  f.add(c);
  auto routeWithPrefix = [](const std::string& name, const std::string& prefix) {
    auto r = routeTo(name, "c");
    r.mutable_match()->mutable_path()->set_prefix(prefix);
    return r;
  };
  *vhost(f.routes("a/80"), {"example.com"})->add_routes() = routeWithPrefix("to-a", "/a");
  *vhost(f.routes("b/80"), {"example.com"})->add_routes() = routeWithPrefix("to-b", "/b");
  // c's only route is for other pods: it must not hide a and b's.
  auto elsewhere = routeWithPrefix("to-c", "/");
  (*elsewhere.mutable_match()->mutable_source()->mutable_labels())["ingress"] = "internal";
  *vhost(f.routes("c/80"), {"example.com"})->add_routes() = elsewhere;
  auto built = ProxyConfig::build(f.held, kGatewayPod);
  ASSERT_TRUE(built) << built.error().message;
  const auto* served = (*built)->virtualHost(80, "example.com");
  ASSERT_NE(served, nullptr);
  ASSERT_EQ(served->routes.size(), 2u);
  EXPECT_EQ(served->routes[0].spec.name(), "to-a");
  EXPECT_EQ(served->routes[0].gateway, "istio-system/a");
  EXPECT_EQ(served->routes[1].spec.name(), "to-b");
  EXPECT_EQ(served->routes[1].gateway, "istio-system/b");
  EXPECT_EQ(ProxyConfig::route(*served, request("example.com", "/b/x"))->spec.name(), "to-b");
}

TEST(ProxyConfig, NormalizeHost) {
  EXPECT_EQ(normalizeHost("Example.COM:8080"), "example.com");
  EXPECT_EQ(normalizeHost("example.com"), "example.com");
  EXPECT_EQ(normalizeHost("[::1]:80"), "[::1]");
}

}  // namespace
}  // namespace weft::proxy
