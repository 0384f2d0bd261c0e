// HTTPRoutes on class-istio Gateways, compiled through the whole proxy view: attachment,
// hostnames, match shapes and their order, filters, backends.
#include "control/httproute_compiler.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "control/proxy_view.h"
#include "model/decoder.h"

namespace weft::control {
namespace {

void decodeInto(ObjectsByKind& out, const std::string& yaml) {
  auto decoded = model::decodeYaml(yaml, "test.yaml", {"", false});
  for (const auto& e : decoded.errors) ADD_FAILURE() << e;
  for (auto& o : decoded.objects) out[o.key().kind].push_back(std::move(o));
}

const char* kWorld = R"(
apiVersion: v1
kind: Namespace
metadata: {name: apps, labels: {team: web}}
---
apiVersion: v1
kind: Namespace
metadata: {name: other}
---
apiVersion: v1
kind: Service
metadata: {name: httpbin, namespace: apps}
spec:
  selector: {app: httpbin}
  ports: [{name: http, port: 8000, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: other}
spec:
  selector: {app: echo}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: httpbin-1, namespace: apps, labels: {app: httpbin}}
spec: {containers: [{name: c, image: x}]}
status: {podIP: 198.18.2.2, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: apps}
spec:
  gatewayClassName: istio
  listeners:
  - {name: http, port: 80, protocol: HTTP, hostname: "*.example.com"}
  - name: alt
    port: 8080
    protocol: HTTP
    allowedRoutes: {namespaces: {from: All}}
  - name: team
    port: 9090
    protocol: HTTP
    allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {team: web}}}}
)";

const char* kPrefix = "gateway.networking.k8s.io/apps/web";

struct View {
  RegistryBuild build;
  const weft::v1::RouteConfiguration* routes(uint32_t port) const {
    auto types = build.resources.find(kRouteConfigurationType);
    if (types == build.resources.end()) return nullptr;
    auto found = types->second.find(fmt::format("{}/http.{}", kPrefix, port));
    return found == types->second.end() ? nullptr : &found->second.route_configuration();
  }
  const weft::v1::VirtualHost* host(uint32_t port, const std::string& domain) const {
    const auto* config = routes(port);
    if (config == nullptr) return nullptr;
    for (const auto& v : config->virtual_hosts()) {
      if (v.domains(0) == domain) return &v;
    }
    return nullptr;
  }
  bool notes(const std::string& text) const {
    return std::any_of(build.notes.begin(), build.notes.end(), [&](const std::string& n) { return n.find(text) != std::string::npos; });
  }
};

View compile(const std::string& routes) {
  ObjectsByKind objects;
  decodeInto(objects, kWorld);
  decodeInto(objects, routes);
  View view;
  addProxyView(objects, view.build);
  return view;
}

std::string route(const std::string& name, const std::string& ns, const std::string& spec) {
  return "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: " + name + ", namespace: " + ns + "}\nspec:\n" + spec;
}

TEST(GatewayApiView, ListenersSelectTheDeployedPodsAndBindTheirOwnPort) {
  auto view = compile("");
  const auto& listeners = view.build.resources[kListenerType];
  ASSERT_EQ(listeners.size(), 3u);
  const auto& l = listeners.at(fmt::format("{}/80", kPrefix)).listener();
  EXPECT_EQ(l.bind_port(), 80u);
  EXPECT_EQ(l.gateway(), kPrefix);
  EXPECT_EQ(l.selector().at("gateway.networking.k8s.io/gateway-name"), "web");
  EXPECT_EQ(l.selector().at("gateway.weft.dev/namespace"), "apps");
  EXPECT_THAT(l.server_hosts(), ::testing::ElementsAre("*.example.com"));
  ASSERT_NE(view.routes(80), nullptr);
  EXPECT_EQ(view.routes(80)->virtual_hosts_size(), 0) << "no route: every host answers 404";
}

TEST(GatewayApiView, HostnamesAreIntersectedWithTheListener) {
  auto view = compile(route("r", "apps", R"(
  parentRefs: [{name: web, sectionName: http}]
  hostnames: [a.example.com, "*.example.com", other.org]
  rules: [{backendRefs: [{name: httpbin, port: 8000}]}]
)"));
  EXPECT_NE(view.host(80, "a.example.com"), nullptr);
  EXPECT_NE(view.host(80, "*.example.com"), nullptr);
  EXPECT_EQ(view.host(80, "other.org"), nullptr);
  EXPECT_EQ(view.routes(8080)->virtual_hosts_size(), 0) << "sectionName http: not on alt";
  const auto* host = view.host(80, "a.example.com");
  ASSERT_EQ(host->routes_size(), 1);
  EXPECT_EQ(host->routes(0).match().path().prefix(), "/");
  ASSERT_EQ(host->routes(0).route().clusters_size(), 1);
  EXPECT_EQ(host->routes(0).route().clusters(0).cluster(), "outbound|8000||httpbin.apps.svc.cluster.local");
  EXPECT_EQ(host->routes(0).route().clusters(0).weight(), 1u);
  const auto& cluster = view.build.resources[kClusterType].at("outbound|8000||httpbin.apps.svc.cluster.local").cluster();
  EXPECT_THAT(cluster.endpoints(), ::testing::ElementsAre("198.18.2.2:8080"));
}

TEST(GatewayApiView, ARouteWithNoHostnameInCommonIsNotAttached) {
  auto view = compile(route("r", "apps", R"(
  parentRefs: [{name: web, port: 80}]
  hostnames: [other.org]
  rules: [{backendRefs: [{name: httpbin, port: 8000}]}]
)"));
  EXPECT_EQ(view.routes(80)->virtual_hosts_size(), 0);
  EXPECT_TRUE(view.notes("no hostname in common with listener http"));
}

TEST(GatewayApiView, AllowedRoutesDecideWhichNamespacesAttach) {
  auto view = compile(route("r", "other", R"(
  parentRefs: [{name: web, namespace: apps}]
  rules: [{backendRefs: [{name: echo, port: 80}]}]
)"));
  EXPECT_EQ(view.routes(80)->virtual_hosts_size(), 0) << "from: Same (the default) refuses namespace other";
  EXPECT_NE(view.host(8080, "*"), nullptr) << "from: All admits it";
  EXPECT_EQ(view.routes(9090)->virtual_hosts_size(), 0) << "namespace other lacks team=web";
  auto same = compile(route("r", "apps", "  parentRefs: [{name: web}]\n  rules: [{backendRefs: [{name: httpbin, port: 8000}]}]\n"));
  EXPECT_NE(same.host(9090, "*"), nullptr) << "namespace apps has team=web";
}

TEST(GatewayApiView, PathPrefixMatchesWholeSegmentsAndRoutesAreOrderedBySpecificity) {
  auto view = compile(route("r", "apps", R"(
  parentRefs: [{name: web, port: 8080}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api/}}]
    backendRefs: [{name: httpbin, port: 8000}]
  - matches: [{path: {type: PathPrefix, value: /api/v2}}]
    backendRefs: [{name: httpbin, port: 8000}]
  - matches: [{path: {type: RegularExpression, value: "/api/.*/x"}}]
    backendRefs: [{name: httpbin, port: 8000}]
  - matches: [{path: {type: Exact, value: /api}, method: POST}, {path: {type: Exact, value: /api}, headers: [{name: X-A, value: "1"}]}]
    backendRefs: [{name: httpbin, port: 8000}]
)"));
  const auto* host = view.host(8080, "*");
  ASSERT_NE(host, nullptr);
  std::vector<std::string> shapes;
  for (const auto& r : host->routes()) {
    const auto& p = r.match().path();
    std::string shape = p.has_exact() ? "exact " + p.exact() : p.has_prefix() ? "prefix " + p.prefix() : "regex " + p.regex();
    if (r.match().has_method()) shape += " " + r.match().method().exact();
    if (r.match().headers_size() > 0) shape += " " + r.match().headers(0).name();
    shapes.push_back(shape);
  }
  EXPECT_THAT(shapes, ::testing::ElementsAre("exact /api POST", "exact /api x-a", "exact /api/v2", "prefix /api/v2/", "exact /api", "prefix /api/",
                                             "regex /api/.*/x"));
}

TEST(GatewayApiView, HeaderModifiersRedirectsAndRewrites) {
  auto view = compile(route("r", "apps", R"(
  parentRefs: [{name: web, port: 8080}]
  rules:
  - matches: [{path: {value: /old}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {path: {type: ReplaceFullPath, replaceFullPath: /new}}
  - matches: [{path: {value: /secure}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {scheme: https, statusCode: 301}
  - matches: [{path: {value: /v1}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: X-Set, value: a}], add: [{name: X-Add, value: b}], remove: [X-Gone]}
    - type: ResponseHeaderModifier
      responseHeaderModifier: {set: [{name: X-Resp, value: c}]}
    - type: URLRewrite
      urlRewrite: {hostname: internal.example, path: {type: ReplacePrefixMatch, replacePrefixMatch: /v2}}
    backendRefs: [{name: httpbin, port: 8000}]
  - matches: [{path: {value: /full}}]
    filters:
    - type: URLRewrite
      urlRewrite: {path: {type: ReplaceFullPath, replaceFullPath: /anything}}
    backendRefs: [{name: httpbin, port: 8000}]
)"));
  const auto* host = view.host(8080, "*");
  ASSERT_NE(host, nullptr);
  std::map<std::string, const weft::v1::Route*> by;
  for (const auto& r : host->routes()) {
    const auto& p = r.match().path();
    by[p.has_exact() ? p.exact() : p.has_prefix() ? p.prefix() : p.regex()] = &r;
  }
  ASSERT_TRUE(by.contains("/old") && by.contains("/secure") && by.contains("/v1") && by.contains("/v1/") && by.contains("/full(/.*)?"));
  const auto& old = by["/old"]->redirect();
  EXPECT_EQ(old.uri(), "/new");
  EXPECT_EQ(old.code(), 302u);
  EXPECT_EQ(old.port(), 8080u) << "no scheme, no port: the listener's";
  EXPECT_EQ(old.scheme(), "http");
  const auto& secure = by["/secure"]->redirect();
  EXPECT_EQ(secure.scheme(), "https");
  EXPECT_EQ(secure.port(), 0u) << "https's well-known port is left out";
  EXPECT_EQ(secure.code(), 301u);
  const auto& v1 = *by["/v1"];
  EXPECT_EQ(v1.request_headers().set().at("x-set"), "a");
  EXPECT_EQ(v1.request_headers().add().at("x-add"), "b");
  EXPECT_THAT(v1.request_headers().remove(), ::testing::ElementsAre("x-gone"));
  EXPECT_EQ(v1.response_headers().set().at("x-resp"), "c");
  EXPECT_EQ(v1.route().rewrite().uri_prefix(), "/v2");
  EXPECT_EQ(v1.route().rewrite().authority(), "internal.example");
  EXPECT_EQ(by["/v1/"]->route().rewrite().uri_prefix(), "/v2/") << "/v1/x -> /v2/x";
  EXPECT_EQ(by["/full(/.*)?"]->route().rewrite().uri_prefix(), "/anything") << "a regex match: the whole path replaced";
}

TEST(GatewayApiView, WeightsMirrorsTimeoutsAndUnusableBackends) {
  auto view = compile(route("r", "apps", R"(
  parentRefs: [{name: web, port: 8080}]
  rules:
  - matches: [{path: {value: /split}}]
    backendRefs: [{name: httpbin, port: 8000, weight: 90}, {name: missing, port: 80, weight: 10}, {name: echo, namespace: other, port: 80}]
    timeouts: {request: 3s, backendRequest: 1s}
    filters:
    - type: RequestMirror
      requestMirror: {backendRef: {name: httpbin, port: 8000}, percent: 25}
  - matches: [{path: {value: /gone}}]
    backendRefs: [{name: missing, port: 80}]
  - matches: [{path: {value: /zero}}]
    backendRefs: [{name: httpbin, port: 8000, weight: 0}]
  - matches: [{path: {value: /ext}}]
    filters: [{type: ExtensionRef, extensionRef: {group: example.com, kind: Filter, name: f}}]
    backendRefs: [{name: httpbin, port: 8000}]
  - matches: [{path: {value: /none}}]
)"));
  const auto* host = view.host(8080, "*");
  ASSERT_NE(host, nullptr);
  std::map<std::string, const weft::v1::Route*> by;
  for (const auto& r : host->routes()) {
    if (r.match().path().has_exact()) by[r.match().path().exact()] = &r;
  }
  const auto& split = by.at("/split")->route();
  ASSERT_EQ(split.clusters_size(), 2) << "echo is in another namespace without a ReferenceGrant";
  EXPECT_EQ(split.clusters(0).weight(), 90u);
  EXPECT_EQ(split.clusters(1).cluster(), "outbound|80||missing.apps.svc.cluster.local");
  EXPECT_EQ(split.timeout_ms(), 3000u);
  EXPECT_EQ(split.retries().per_try_timeout_ms(), 1000u);
  ASSERT_EQ(by.at("/split")->mirrors_size(), 1);
  EXPECT_DOUBLE_EQ(by.at("/split")->mirrors(0).percent(), 25.0);
  EXPECT_TRUE(view.notes("no ReferenceGrant"));
  for (const char* path : {"/gone", "/zero", "/ext", "/none"}) {
    SCOPED_TRACE(path);
    ASSERT_TRUE(by.at(path)->has_direct_response());
    EXPECT_EQ(by.at(path)->direct_response().status(), 500u);
    EXPECT_FALSE(by.at(path)->has_route());
  }
  EXPECT_TRUE(view.notes("filter type ExtensionRef is not supported"));
}

TEST(GatewayApiView, AReferenceGrantAllowsAnotherNamespacesService) {
  auto view = compile(route("r", "apps", R"(
  parentRefs: [{name: web, port: 8080}]
  rules: [{backendRefs: [{name: echo, namespace: other, port: 80}]}]
)") + R"(
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: allow, namespace: other}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: apps}]
  to: [{group: "", kind: Service}]
)");
  const auto* host = view.host(8080, "*");
  ASSERT_NE(host, nullptr);
  EXPECT_EQ(host->routes(0).route().clusters(0).cluster(), "outbound|80||echo.other.svc.cluster.local");
}

TEST(GatewayApiView, OnlyClassIstioGatewaysAreServedHere) {
  ObjectsByKind objects;
  decodeInto(objects, R"(
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: waypoint, namespace: apps}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
)");
  RegistryBuild build;
  addProxyView(objects, build);
  EXPECT_TRUE(build.resources[kListenerType].empty());
}

TEST(GatewayApiView, TlsRoutesPassThroughByHostnameAndTcpRoutesTakeTheirPort) {
  ObjectsByKind objects;
  decodeInto(objects, kWorld);
  decodeInto(objects, R"(
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: apps}
spec:
  gatewayClassName: istio
  listeners:
  - {name: pass, port: 443, protocol: TLS, hostname: "*.example.com", tls: {mode: Passthrough}}
  - {name: terminate, port: 8443, protocol: TLS, hostname: "t.example.com", tls: {mode: Terminate, certificateRefs: [{name: cert}]}}
  - {name: tcp, port: 31400, protocol: TCP}
  - {name: web, port: 31400, protocol: HTTP}
  - {name: pass-org, port: 443, protocol: TLS, hostname: "other.org", tls: {mode: Passthrough}}
  - {name: tcp-late, port: 8443, protocol: TCP}
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: nginx, namespace: apps}
spec:
  parentRefs: [{name: edge, sectionName: pass}, {name: edge, sectionName: pass-org}]
  hostnames: [nginx.example.com, other.org]
  rules:
  - backendRefs: [{name: httpbin, port: 8000, weight: 3}, {name: missing, port: 443}]
  - backendRefs: [{name: httpbin, port: 8000}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: echo, namespace: apps}
spec:
  parentRefs: [{name: edge}]
  rules:
  - backendRefs: [{name: httpbin, port: 8000}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: echo-second, namespace: apps}
spec:
  parentRefs: [{name: edge}]
  rules:
  - backendRefs: [{name: httpbin, port: 8000}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: not-here, namespace: apps}
spec:
  parentRefs: [{name: edge, sectionName: pass}]
  rules: [{backendRefs: [{name: httpbin, port: 8000}]}]
)");
  View view;
  addProxyView(objects, view.build);
  const auto& listeners = view.build.resources[kListenerType];
  const auto& pass = listeners.at("gateway.networking.k8s.io/apps/edge/443").listener();
  EXPECT_EQ(pass.protocol(), weft::v1::Listener::TLS);
  ASSERT_EQ(pass.tcp_routes_size(), 1) << "the TCPRoute and HTTPRoute do not attach to a TLS listener";
  EXPECT_EQ(pass.tcp_routes(0).name(), "apps/nginx/rule.0");
  // Each listener's share of the hostnames: nginx.example.com under *.example.com, other.org
  // on its own listener of the same port.
  EXPECT_THAT(pass.tcp_routes(0).sni_hosts(), ::testing::ElementsAre("nginx.example.com", "other.org"));
  // The missing Service keeps its weight: its share of connections is closed (no endpoint).
  ASSERT_EQ(pass.tcp_routes(0).clusters_size(), 2);
  EXPECT_EQ(pass.tcp_routes(0).clusters(0).cluster(), "outbound|8000||httpbin.apps.svc.cluster.local");
  EXPECT_EQ(pass.tcp_routes(0).clusters(0).weight(), 3u);
  EXPECT_EQ(pass.tcp_routes(0).clusters(1).cluster(), "outbound|443||missing.apps.svc.cluster.local");
  EXPECT_EQ(pass.tcp_routes(0).clusters(1).weight(), 1u);
  EXPECT_TRUE(view.notes("only the first rule is served"));
  EXPECT_TRUE(view.notes("backendRef missing: Service apps/missing does not exist"));
  EXPECT_TRUE(view.notes("listener pass of Gateway apps/edge (protocol TLS) does not allow this route"));

  const auto& tcp = listeners.at("gateway.networking.k8s.io/apps/edge/31400").listener();
  EXPECT_EQ(tcp.protocol(), weft::v1::Listener::TCP);
  ASSERT_EQ(tcp.tcp_routes_size(), 1);
  EXPECT_EQ(tcp.tcp_routes(0).name(), "apps/echo/rule.0");
  EXPECT_EQ(tcp.tcp_routes(0).sni_hosts_size(), 0);
  EXPECT_EQ(tcp.tcp_routes(0).clusters(0).weight(), 1u) << "a backendRef's weight defaults to 1";
  EXPECT_TRUE(view.notes("spec.listeners[3]: port 31400 already serves another protocol: left out"));
  EXPECT_TRUE(view.notes("already serves another TCPRoute (the first takes every connection): not served"));

  // Terminate: the gateway's certificate, then the bytes relayed by the first route that
  // attaches (a TCPRoute on the whole Gateway fits a Terminate listener too).
  const auto& terminate = listeners.at("gateway.networking.k8s.io/apps/edge/8443").listener();
  EXPECT_EQ(terminate.protocol(), weft::v1::Listener::HTTPS);
  EXPECT_TRUE(terminate.tcp_routes().empty());
  ASSERT_EQ(terminate.tls_servers_size(), 1);
  EXPECT_TRUE(terminate.tls_servers(0).terminate_tcp());
  EXPECT_EQ(terminate.tls_servers(0).credential_name(), "cert");
  EXPECT_THAT(terminate.tls_servers(0).hosts(), ::testing::ElementsAre("t.example.com"));
  ASSERT_EQ(terminate.tls_servers(0).tcp_routes_size(), 1);
  EXPECT_EQ(terminate.tls_servers(0).tcp_routes(0).name(), "apps/echo/rule.0");
  EXPECT_EQ(terminate.tls_servers(0).tcp_routes(0).clusters(0).cluster(), "outbound|8000||httpbin.apps.svc.cluster.local");
  EXPECT_TRUE(view.notes("listener terminate of Gateway apps/edge already relays by apps/echo (the first takes every connection): not served"));
  EXPECT_TRUE(view.notes("spec.listeners[5]: port 8443 already serves another protocol: left out"));
}

TEST(RoutePrecedence, ExactBeforePrefixBeforeRegexThenOlderRoutesFirst) {
  RoutePrecedence exact{.pathRank = 3, .pathLength = 2};
  RoutePrecedence longPrefix{.pathRank = 2, .pathLength = 9};
  RoutePrecedence shortPrefix{.pathRank = 2, .pathLength = 1};
  RoutePrecedence shortPrefixOlder{.pathRank = 2, .pathLength = 1, .created = "2020-01-01T00:00:00Z"};
  EXPECT_TRUE(exact.before(longPrefix));
  EXPECT_TRUE(longPrefix.before(shortPrefix));
  EXPECT_FALSE(shortPrefix.before(longPrefix));
  shortPrefix.created = "2021-01-01T00:00:00Z";
  EXPECT_TRUE(shortPrefixOlder.before(shortPrefix));
}

}  // namespace
}  // namespace weft::control
