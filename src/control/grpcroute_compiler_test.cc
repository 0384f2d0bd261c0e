// GRPCRoutes on class-istio Gateways, compiled through the whole proxy view: attachment and
// hostnames (shared with HTTPRoute), method matches as paths, header matches, filters,
// weighted backends, ReferenceGrant, and HTTP/2 to every backend.
#include "control/grpcroute_compiler.h"

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

// A gRPC Service whose port is named plainly "http" (so nothing but the GRPCRoute makes it
// HTTP/2), one in another namespace, and a Gateway whose second listener takes HTTPRoutes only.
const char* kWorld = R"(
apiVersion: v1
kind: Service
metadata: {name: greeter, namespace: apps}
spec:
  selector: {app: greeter}
  ports: [{name: http, port: 9000, targetPort: 9090}]
---
apiVersion: v1
kind: Service
metadata: {name: mirror, namespace: apps}
spec:
  selector: {app: mirror}
  ports: [{name: web, port: 9000}]
---
apiVersion: v1
kind: Service
metadata: {name: billing, namespace: other}
spec:
  selector: {app: billing}
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: greeter-1, namespace: apps, labels: {app: greeter}}
spec: {containers: [{name: c, image: x}]}
status: {podIP: 198.18.3.2, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: apps}
spec:
  gatewayClassName: istio
  listeners:
  - {name: grpc, port: 80, protocol: HTTP, hostname: "*.example.com"}
  - name: http-only
    port: 8080
    protocol: HTTP
    allowedRoutes: {kinds: [{kind: HTTPRoute}]}
)";

const char* kPrefix = "gateway.networking.k8s.io/apps/web";

struct View {
  RegistryBuild build;
  const weft::v1::VirtualHost* host(uint32_t port, const std::string& domain) const {
    auto types = build.resources.find(kRouteConfigurationType);
    if (types == build.resources.end()) return nullptr;
    auto found = types->second.find(fmt::format("{}/http.{}", kPrefix, port));
    if (found == types->second.end()) return nullptr;
    for (const auto& v : found->second.route_configuration().virtual_hosts()) {
      if (v.domains(0) == domain) return &v;
    }
    return nullptr;
  }
  const weft::v1::Cluster* cluster(const std::string& name) const {
    auto types = build.resources.find(kClusterType);
    if (types == build.resources.end() || !types->second.contains(name)) return nullptr;
    return &types->second.at(name).cluster();
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

std::string grpcRoute(const std::string& name, const std::string& ns, const std::string& spec) {
  return "---\napiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\nmetadata: {name: " + name + ", namespace: " + ns + "}\nspec:\n" + spec;
}

TEST(GrpcRoute, AttachesWithHostnamesAndSendsOverHttp2) {
  auto view = compile(grpcRoute("greeter", "apps", R"(
  parentRefs: [{name: web}]
  hostnames: [grpc.example.com, other.org]
  rules: [{backendRefs: [{name: greeter, port: 9000}]}]
)"));
  const auto* host = view.host(80, "grpc.example.com");
  ASSERT_NE(host, nullptr);
  EXPECT_EQ(view.host(80, "other.org"), nullptr) << "not within the listener's *.example.com";
  EXPECT_EQ(view.host(8080, "grpc.example.com"), nullptr) << "the listener admits HTTPRoutes only";
  ASSERT_EQ(host->routes_size(), 1);
  EXPECT_EQ(host->routes(0).match().path().prefix(), "/") << "no method match: every method";
  ASSERT_EQ(host->routes(0).route().clusters_size(), 1);
  const std::string name = "outbound|9000||greeter.apps.svc.cluster.local";
  EXPECT_EQ(host->routes(0).route().clusters(0).cluster(), name);
  EXPECT_EQ(host->routes(0).route().retries().attempts(), 2u);
  const auto* cluster = view.cluster(name);
  ASSERT_NE(cluster, nullptr);
  EXPECT_EQ(cluster->connection_pool().upstream_protocol(), weft::v1::ConnectionPool::HTTP2) << "port named http, yet gRPC";
  EXPECT_THAT(cluster->endpoints(), ::testing::ElementsAre("198.18.3.2:9090"));
}

TEST(GrpcRoute, MethodMatchesBecomePathMatchesInPrecedenceOrder) {
  auto view = compile(grpcRoute("m", "apps", R"(
  parentRefs: [{name: web, sectionName: grpc}]
  hostnames: [grpc.example.com]
  rules:
  - matches: [{method: {service: helloworld.Greeter}}]
    backendRefs: [{name: greeter, port: 9000}]
  - matches:
    - method: {service: helloworld.Greeter, method: SayHello}
      headers: [{name: X-Tenant, value: blue}]
    backendRefs: [{name: greeter, port: 9000}]
  - matches: [{method: {method: Check}}]
    backendRefs: [{name: greeter, port: 9000}]
  - matches: [{method: {type: RegularExpression, service: "grpc\\.health\\..*"}}]
    backendRefs: [{name: greeter, port: 9000}]
  - matches: [{headers: [{name: x-debug, type: RegularExpression, value: "on|yes"}]}]
    backendRefs: [{name: greeter, port: 9000}]
)"));
  const auto* host = view.host(80, "grpc.example.com");
  ASSERT_NE(host, nullptr);
  ASSERT_EQ(host->routes_size(), 5);
  // Exact first, then prefixes (longer first), then regexes (longer first).
  const auto& exact = host->routes(0).match();
  EXPECT_EQ(exact.path().exact(), "/helloworld.Greeter/SayHello");
  ASSERT_EQ(exact.headers_size(), 1);
  EXPECT_EQ(exact.headers(0).name(), "x-tenant");
  EXPECT_EQ(exact.headers(0).match().exact(), "blue");
  EXPECT_EQ(host->routes(1).match().path().prefix(), "/helloworld.Greeter/");
  EXPECT_EQ(host->routes(2).match().path().prefix(), "/");
  EXPECT_EQ(host->routes(2).match().headers(0).match().regex(), "on|yes");
  EXPECT_EQ(host->routes(3).match().path().regex(), "/grpc\\.health\\..*/[^/]+");
  EXPECT_EQ(host->routes(4).match().path().regex(), "/[^/]+/Check");
}

TEST(GrpcRoute, FiltersWeightsMirrorsAndUnservableRules) {
  auto view = compile(grpcRoute("f", "apps", R"(
  parentRefs: [{name: web}]
  hostnames: [grpc.example.com]
  rules:
  - matches: [{method: {service: a.A}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: X-Route, value: a}], remove: [X-Drop]}
    - type: ResponseHeaderModifier
      responseHeaderModifier: {add: [{name: x-served-by, value: weft}]}
    - type: RequestMirror
      requestMirror: {backendRef: {name: mirror, port: 9000}, percent: 10}
    backendRefs:
    - {name: greeter, port: 9000, weight: 3}
    - {name: missing, port: 9000, weight: 1}
  - matches: [{method: {service: b.B}}]
    filters: [{type: ExtensionRef, extensionRef: {group: x.io, kind: K, name: n}}]
    backendRefs: [{name: greeter, port: 9000}]
  - matches: [{method: {service: c.C}}]
    backendRefs: [{name: greeter, port: 9000, weight: 0}]
)"));
  const auto* host = view.host(80, "grpc.example.com");
  ASSERT_NE(host, nullptr);
  std::map<std::string, const weft::v1::Route*> by;
  for (const auto& r : host->routes()) by[r.match().path().prefix()] = &r;
  const auto& a = *by.at("/a.A/");
  EXPECT_EQ(a.request_headers().set().at("x-route"), "a");
  EXPECT_THAT(a.request_headers().remove(), ::testing::ElementsAre("x-drop"));
  EXPECT_EQ(a.response_headers().add().at("x-served-by"), "weft");
  ASSERT_EQ(a.route().clusters_size(), 2);
  EXPECT_EQ(a.route().clusters(0).weight(), 3u);
  EXPECT_EQ(a.route().clusters(1).cluster(), "outbound|9000||missing.apps.svc.cluster.local");
  ASSERT_EQ(a.mirrors_size(), 1);
  EXPECT_DOUBLE_EQ(a.mirrors(0).percent(), 10.0);
  const auto* mirror = view.cluster("outbound|9000||mirror.apps.svc.cluster.local");
  ASSERT_NE(mirror, nullptr);
  EXPECT_EQ(mirror->connection_pool().upstream_protocol(), weft::v1::ConnectionPool::HTTP2);
  for (const char* path : {"/b.B/", "/c.C/"}) {
    SCOPED_TRACE(path);
    ASSERT_TRUE(by.at(path)->has_direct_response());
    EXPECT_EQ(by.at(path)->direct_response().status(), 500u);
  }
  EXPECT_TRUE(view.notes("filter type ExtensionRef is not supported for GRPCRoute"));
}

TEST(GrpcRoute, AnotherNamespacesServiceNeedsAGrantForGrpcRoute) {
  std::string route = grpcRoute("x", "apps", R"(
  parentRefs: [{name: web}]
  hostnames: [grpc.example.com]
  rules: [{backendRefs: [{name: billing, namespace: other, port: 80}]}]
)");
  auto grant = [](const char* kind) {
    return fmt::format(R"(
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {{name: allow, namespace: other}}
spec:
  from: [{{group: gateway.networking.k8s.io, kind: {}, namespace: apps}}]
  to: [{{group: "", kind: Service}}]
)",
                       kind);
  };
  auto refused = compile(route + grant("HTTPRoute"));
  ASSERT_NE(refused.host(80, "grpc.example.com"), nullptr);
  EXPECT_TRUE(refused.host(80, "grpc.example.com")->routes(0).has_direct_response()) << "a grant for HTTPRoutes is not one for GRPCRoutes";
  EXPECT_TRUE(refused.notes("no ReferenceGrant"));
  auto granted = compile(route + grant("GRPCRoute"));
  const auto* host = granted.host(80, "grpc.example.com");
  ASSERT_NE(host, nullptr);
  ASSERT_TRUE(host->routes(0).has_route());
  EXPECT_EQ(host->routes(0).route().clusters(0).cluster(), "outbound|80||billing.other.svc.cluster.local");
}

}  // namespace
}  // namespace weft::control
