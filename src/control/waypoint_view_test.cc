#include "control/waypoint_view.h"

#include <gtest/gtest.h>

#include "control/gamma_routes.h"

#include "model/decoder.h"

namespace weft::control {
namespace {

ObjectsByKind objectsFrom(const std::string& yaml) {
  auto decoded = model::decodeYaml(yaml, "test.yaml", {});
  for (const auto& e : decoded.errors) ADD_FAILURE() << e;
  ObjectsByKind out;
  for (auto& o : decoded.objects) out[o.key().kind].push_back(std::move(o));
  return out;
}

RegistrySettings settings() {
  RegistrySettings s;
  s.revision = "prod";
  s.mesh.set_trust_domain("acmellc.local");
  s.mesh.set_root_namespace("istio-system");
  return s;
}

// Namespace shop uses waypoint "waypoint"; hb has two versions, echo one pod; legacy has
// no waypoint at all.
const char* kShop = R"(
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint}}
---
apiVersion: v1
kind: Namespace
metadata: {name: legacy}
---
apiVersion: v1
kind: Service
metadata: {name: hb, namespace: shop}
spec:
  clusterIP: 198.19.0.10
  selector: {app: hb}
  ports: [{name: http, port: 8000, targetPort: 8080}, {name: http-alt, port: 9000, targetPort: 9090}]
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: shop}
spec:
  clusterIP: 198.19.0.11
  selector: {app: echo}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: old, namespace: legacy}
spec:
  clusterIP: 198.19.0.12
  selector: {app: old}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: hb-v1, namespace: shop, labels: {app: hb, version: v1}}
spec: {containers: [{name: c, image: x}]}
status: {podIP: 198.18.1.2, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: hb-v2, namespace: shop, labels: {app: hb, version: v2}}
spec: {containers: [{name: c, image: x}]}
status: {podIP: 198.18.1.3, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: echo, namespace: shop, labels: {app: echo}}
spec: {containers: [{name: c, image: x}]}
status: {podIP: 198.18.1.4, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: hb, namespace: shop}
spec:
  host: hb
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: hb-canary, namespace: shop}
spec:
  hosts: [hb]
  http:
  - match: [{headers: {x-version: {exact: v2}}}]
    route: [{destination: {host: hb, subset: v2}}]
  - match: [{port: 9000}]
    route: [{destination: {host: hb, subset: v1, port: {number: 9000}}}]
  - route: [{destination: {host: hb, subset: v1}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: echo-at-ingress, namespace: shop}
spec:
  hosts: [echo]
  gateways: [istio-system/ingress]
  http:
  - route: [{destination: {host: hb}}]
)";

const weft::v1::Resource& resource(RegistryBuild& b, const char* type, const std::string& name) {
  static const weft::v1::Resource none;
  auto& of = b.resources[type];
  auto found = of.find(name);
  if (found == of.end()) {
    ADD_FAILURE() << "no " << type << " " << name;
    return none;
  }
  return found->second;
}

TEST(WaypointView, AListenerPerPortOfEachServiceThatUsesTheWaypoint) {
  auto b = buildRegistry(objectsFrom(kShop), settings());
  const auto& listener = resource(b, kListenerType, "shop/waypoint/hb.shop.svc.cluster.local:8000").listener();
  EXPECT_EQ(listener.port(), 8000u);
  EXPECT_EQ(listener.gateway(), "shop/waypoint");
  EXPECT_EQ(listener.waypoint_service(), "hb.shop.svc.cluster.local");
  ASSERT_EQ(listener.waypoint_authorities_size(), 1);
  EXPECT_EQ(listener.waypoint_authorities(0), "198.19.0.10:8000");
  EXPECT_EQ(listener.selector().at(kWaypointGatewayNameLabel), "waypoint");
  EXPECT_EQ(listener.route_config_name(), listener.name());
  EXPECT_TRUE(b.resources[kListenerType].contains("shop/waypoint/hb.shop.svc.cluster.local:9000"));
  EXPECT_TRUE(b.resources[kListenerType].contains("shop/waypoint/echo.shop.svc.cluster.local:80"));
  for (const auto& [name, r] : b.resources[kListenerType]) {
    EXPECT_EQ(name.find("old.legacy"), std::string::npos) << "a Service without a waypoint got a waypoint listener: " << name;
  }
}

TEST(WaypointView, MeshVirtualServiceRoutesWithPortMatchesSplitByPort) {
  auto b = buildRegistry(objectsFrom(kShop), settings());
  const auto& http = resource(b, kRouteConfigurationType, "shop/waypoint/hb.shop.svc.cluster.local:8000").route_configuration();
  ASSERT_EQ(http.virtual_hosts_size(), 1);
  EXPECT_EQ(http.virtual_hosts(0).domains(0), "*");
  const auto& routes = http.virtual_hosts(0).routes();
  // The header route and the catch-all; the port-9000 route belongs to the other listener.
  ASSERT_EQ(routes.size(), 2);
  EXPECT_EQ(routes[0].match().headers(0).name(), "x-version");
  EXPECT_EQ(routes[0].route().clusters(0).cluster(), "outbound|8000|v2|hb.shop.svc.cluster.local");
  EXPECT_EQ(routes[1].route().clusters(0).cluster(), "outbound|8000|v1|hb.shop.svc.cluster.local");
  const auto& v2 = resource(b, kClusterType, "outbound|8000|v2|hb.shop.svc.cluster.local").cluster();
  ASSERT_EQ(v2.endpoints_size(), 1);
  EXPECT_EQ(v2.endpoints(0), "198.18.1.3:8080");

  const auto& alt = resource(b, kRouteConfigurationType, "shop/waypoint/hb.shop.svc.cluster.local:9000").route_configuration();
  ASSERT_EQ(alt.virtual_hosts(0).routes_size(), 3);
  EXPECT_EQ(alt.virtual_hosts(0).routes(1).route().clusters(0).cluster(), "outbound|9000|v1|hb.shop.svc.cluster.local");
}

TEST(WaypointView, AServiceNoMeshVirtualServiceCoversGetsTheDefaultRoute) {
  auto b = buildRegistry(objectsFrom(kShop), settings());
  // echo's only VirtualService is bound to an ingress Gateway, not to the mesh.
  const auto& routes = resource(b, kRouteConfigurationType, "shop/waypoint/echo.shop.svc.cluster.local:80").route_configuration();
  ASSERT_EQ(routes.virtual_hosts(0).routes_size(), 1);
  const auto& route = routes.virtual_hosts(0).routes(0);
  EXPECT_FALSE(route.has_match());
  EXPECT_EQ(route.route().clusters(0).cluster(), "outbound|80||echo.shop.svc.cluster.local");
  EXPECT_EQ(route.route().retries().attempts(), kDefaultRetryAttempts);
  const auto& cluster = resource(b, kClusterType, "outbound|80||echo.shop.svc.cluster.local").cluster();
  ASSERT_EQ(cluster.endpoints_size(), 1);
  EXPECT_EQ(cluster.endpoints(0), "198.18.1.4:8080");
}

// A Service with a TCP port, an undeclared one and a Redis one, and a mesh VirtualService
// with tcp[] rules for it.
const char* kTcpService = R"(
---
apiVersion: v1
kind: Service
metadata: {name: store, namespace: shop}
spec:
  clusterIP: 198.19.0.20
  selector: {app: hb}
  ports: [{name: tcp, port: 5000}, {name: data, port: 6000}, {name: cache, port: 6379, appProtocol: redis}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: store-split, namespace: shop}
spec:
  hosts: [store, store.example.com]
  tcp:
  - match: [{port: 5000}]
    route:
    - {destination: {host: hb, subset: v1, port: {number: 9000}}, weight: 80}
    - {destination: {host: hb, subset: v2, port: {number: 9000}}, weight: 20}
  - match: [{port: 6000, gateways: [istio-system/ingress]}]
    route: [{destination: {host: echo}}]
  - match: [{port: 6000, gateways: [mesh]}]
    route: [{destination: {host: store, port: {number: 6000}}}]
  tls:
  - match: [{sniHosts: [store, store.example.com], port: 6379}]
    route: [{destination: {host: echo}}]
)";

TEST(WaypointView, TcpPortsAreRelayedByTcpRulesOrToTheService) {
  auto b = buildRegistry(objectsFrom(std::string(kShop) + kTcpService), settings());
  const auto& tcp = resource(b, kListenerType, "shop/waypoint/store.shop.svc.cluster.local:5000").listener();
  EXPECT_EQ(tcp.protocol(), weft::v1::Listener::TCP);
  EXPECT_FALSE(tcp.detect_protocol());
  ASSERT_EQ(tcp.waypoint_authorities_size(), 1);
  EXPECT_EQ(tcp.waypoint_authorities(0), "198.19.0.20:5000");
  ASSERT_EQ(tcp.tcp_routes_size(), 1);
  EXPECT_EQ(tcp.tcp_routes(0).name(), "shop/store-split/tcp.0");
  ASSERT_EQ(tcp.tcp_routes(0).clusters_size(), 2);
  EXPECT_EQ(tcp.tcp_routes(0).clusters(0).cluster(), "outbound|9000|v1|hb.shop.svc.cluster.local");
  EXPECT_EQ(tcp.tcp_routes(0).clusters(0).weight(), 80u);
  EXPECT_EQ(tcp.tcp_routes(0).clusters(1).cluster(), "outbound|9000|v2|hb.shop.svc.cluster.local");
  EXPECT_TRUE(resource(b, kRouteConfigurationType, tcp.name()).route_configuration().virtual_hosts().empty());

  // Undeclared: HTTP routes (the VirtualService has no http[]: the default) and the tcp[]
  // rule whose gateways name the mesh, not the one for an ingress Gateway.
  const auto& detect = resource(b, kListenerType, "shop/waypoint/store.shop.svc.cluster.local:6000").listener();
  EXPECT_EQ(detect.protocol(), weft::v1::Listener::HTTP);
  EXPECT_TRUE(detect.detect_protocol());
  ASSERT_EQ(detect.tcp_routes_size(), 1);
  EXPECT_EQ(detect.tcp_routes(0).name(), "shop/store-split/tcp.2");
  EXPECT_EQ(detect.tcp_routes(0).clusters(0).cluster(), "outbound|6000||store.shop.svc.cluster.local");
  EXPECT_EQ(resource(b, kRouteConfigurationType, detect.name()).route_configuration().virtual_hosts_size(), 1);

  // appProtocol redis: bytes. The tls[] rule for the port routes by SNI; any other
  // connection (no tcp[] rule for the port) goes to the Service itself.
  const auto& redis = resource(b, kListenerType, "shop/waypoint/store.shop.svc.cluster.local:6379").listener();
  EXPECT_EQ(redis.protocol(), weft::v1::Listener::TCP);
  ASSERT_EQ(redis.tcp_routes_size(), 2);
  EXPECT_EQ(redis.tcp_routes(0).name(), "shop/store-split/tls.0.0");
  EXPECT_EQ(std::vector<std::string>(redis.tcp_routes(0).sni_hosts().begin(), redis.tcp_routes(0).sni_hosts().end()),
            (std::vector<std::string>{"store", "store.example.com"}));
  EXPECT_EQ(redis.tcp_routes(0).clusters(0).cluster(), "outbound|80||echo.shop.svc.cluster.local");  // echo's one port
  EXPECT_EQ(redis.tcp_routes(1).name(), "default/store.shop.svc.cluster.local:6379");
  EXPECT_TRUE(redis.tcp_routes(1).sni_hosts().empty());
  EXPECT_EQ(redis.tcp_routes(1).clusters(0).cluster(), "outbound|6379||store.shop.svc.cluster.local");
  EXPECT_EQ(redis.tcp_routes(1).clusters(0).weight(), 1u);

  // HTTP ports are as they were: no TCP routes.
  const auto& http = resource(b, kListenerType, "shop/waypoint/hb.shop.svc.cluster.local:8000").listener();
  EXPECT_EQ(http.protocol(), weft::v1::Listener::HTTP);
  EXPECT_FALSE(http.detect_protocol());
  EXPECT_TRUE(http.tcp_routes().empty());
}

TEST(WaypointView, ATcpRouteWithTheServiceAsParentTakesItsPortAheadOfTcpRules) {
  const char* routes = R"(
---
apiVersion: v1
kind: Service
metadata: {name: store-v2, namespace: shop}
spec:
  selector: {app: hb, version: v2}
  ports: [{name: tcp, port: 5000}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: a-store-late, namespace: shop, creationTimestamp: "2026-02-01T00:00:00Z"}
spec:
  parentRefs: [{group: "", kind: Service, name: store}]
  rules: [{backendRefs: [{name: store-v2, port: 5000}]}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: store-canary, namespace: shop, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  parentRefs: [{group: "", kind: Service, name: store, port: 5000}]
  rules:
  - backendRefs: [{name: store, port: 5000, weight: 3}, {name: store-v2, port: 5000, weight: 1}, {name: nowhere, namespace: other, kind: Pod, port: 1}]
  - backendRefs: [{name: store-v2, port: 5000}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: to-old, namespace: legacy}
spec:
  parentRefs: [{group: "", kind: Service, name: old}]
  rules: [{backendRefs: [{name: old, port: 80}]}]
)";
  auto b = buildRegistry(objectsFrom(std::string(kShop) + kTcpService + routes), settings());
  const auto& tcp = resource(b, kListenerType, "shop/waypoint/store.shop.svc.cluster.local:5000").listener();
  ASSERT_EQ(tcp.tcp_routes_size(), 1);
  EXPECT_EQ(tcp.tcp_routes(0).name(), "shop/store-canary/rule.0");
  ASSERT_EQ(tcp.tcp_routes(0).clusters_size(), 3);
  EXPECT_EQ(tcp.tcp_routes(0).clusters(0).cluster(), "outbound|5000||store.shop.svc.cluster.local");
  EXPECT_EQ(tcp.tcp_routes(0).clusters(0).weight(), 3u);
  EXPECT_EQ(tcp.tcp_routes(0).clusters(1).cluster(), "outbound|5000||store-v2.shop.svc.cluster.local");
  EXPECT_EQ(tcp.tcp_routes(0).clusters(2).cluster(), "") << "a refused backend keeps its weight, its share closed";
  EXPECT_EQ(tcp.tcp_routes(0).clusters(2).weight(), 1u);
  // a-store-late has no port, so it takes the other ports the canary leaves: the undeclared
  // 6000 (the tcp[] rule for the mesh gives way to it) and 6379.
  const auto& detect = resource(b, kListenerType, "shop/waypoint/store.shop.svc.cluster.local:6000").listener();
  ASSERT_EQ(detect.tcp_routes_size(), 1);
  EXPECT_EQ(detect.tcp_routes(0).name(), "shop/a-store-late/rule.0");
  auto noted = [&](const std::string& a, const std::string& b2) {
    for (const auto& n : b.notes) {
      if (n.find(a) != std::string::npos && n.find(b2) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(noted("a-store-late", "TCPRoute shop/store-canary already takes port 5000"));
  EXPECT_TRUE(noted("store-canary", "only the first rule is served"));
  EXPECT_TRUE(noted("store-canary", "backendRef nowhere"));
  EXPECT_TRUE(noted("store-split", "TCPRoute shop/store-canary takes port 5000 of Service store.shop.svc.cluster.local at its waypoint"));
  EXPECT_TRUE(noted("to-old", "uses no waypoint"));
}

// At a waypoint (the mesh), a match naming only a Gateway is not compiled, one naming
// `mesh` is; a match with sourceLabels and no gateways is left out with a note.
TEST(WaypointView, MatchGatewaysAndSourcesInTheMesh) {
  const char* scoped = R"(
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: echo-scoped, namespace: shop}
spec:
  hosts: [echo]
  gateways: [mesh, istio-system/ingress]
  http:
  - match: [{uri: {prefix: /gw-only}, gateways: [istio-system/ingress]}, {uri: {prefix: /mesh-only}, gateways: [mesh]}]
    route: [{destination: {host: echo}}]
  - match: [{uri: {prefix: /from-canary}, sourceLabels: {canary: "yes"}}, {uri: {prefix: /mesh-canary}, gateways: [mesh], sourceLabels: {canary: "yes"}}]
    route: [{destination: {host: echo}}]
)";
  auto b = buildRegistry(objectsFrom(std::string(kShop) + scoped), settings());
  const auto& vhost = resource(b, kRouteConfigurationType, "shop/waypoint/echo.shop.svc.cluster.local:80").route_configuration().virtual_hosts(0);
  std::vector<std::string> prefixes;
  for (const auto& r : vhost.routes()) prefixes.push_back(r.match().path().prefix());
  // A match naming its gateways applies wherever they are, its sourceLabels unread (Istio's http[]).
  EXPECT_EQ(prefixes, (std::vector<std::string>{"/mesh-only", "/mesh-canary"}));
  bool noted = false;
  for (const auto& n : b.notes) noted = noted || (n.find("http[1].match[0]: sourceLabels and sourceNamespace are not compiled at waypoints") != std::string::npos);
  EXPECT_TRUE(noted);
}

TEST(WaypointView, RemovingTheLabelRemovesTheListeners) {
  std::string yaml = kShop;
  yaml.replace(yaml.find(", istio.io/use-waypoint: waypoint"), std::string(", istio.io/use-waypoint: waypoint").size(), "");
  auto b = buildRegistry(objectsFrom(yaml), settings());
  for (const auto& [name, r] : b.resources[kListenerType]) {
    EXPECT_TRUE(r.listener().waypoint_authorities().empty()) << name;
  }
}

}  // namespace
}  // namespace weft::control

namespace weft::control {
namespace {

TEST(WaypointView, PoliciesAttachedByTargetRefsCarryTheirResolvedTargets) {
  auto objects = objectsFrom(std::string(kShop) + R"(
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-canary, namespace: shop}
spec:
  targetRefs: [{kind: Service, group: "", name: hb}, {kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]
  action: DENY
  rules: [{when: [{key: "request.headers[x-version]", values: [v2]}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: namespace-wide, namespace: shop}
spec:
  action: DENY
  rules: [{to: [{operation: {methods: [DELETE]}}]}]
)");
  auto b = buildRegistry(objects, settings());
  const auto& targeted = resource(b, kHttpAuthorizationType, "shop/deny-canary").http_authorization();
  ASSERT_EQ(targeted.target_services_size(), 1);
  EXPECT_EQ(targeted.target_services(0), "hb.shop.svc.cluster.local");
  ASSERT_EQ(targeted.target_gateways_size(), 1);
  EXPECT_EQ(targeted.target_gateways(0), "shop/waypoint");
  EXPECT_EQ(targeted.action(), weft::v1::Authorization::DENY);
  EXPECT_EQ(targeted.rules(0).when(0).key(), "request.headers[x-version]");
  // A policy without targetRefs stays the gateways' and ztunnel's: no targets.
  const auto& wide = resource(b, kHttpAuthorizationType, "shop/namespace-wide").http_authorization();
  EXPECT_TRUE(wide.target_services().empty() && wide.target_gateways().empty());
  // ztunnel never gets the targeted one.
  EXPECT_FALSE(b.resources[kAuthorizationType].contains("shop/deny-canary"));
}

}  // namespace
}  // namespace weft::control

namespace weft::control {
namespace {

// GAMMA: HTTPRoutes whose parent is a Service, applied at the Service's waypoint.
const char* kGammaServices = R"(
---
apiVersion: v1
kind: Service
metadata: {name: hb-v1, namespace: shop}
spec:
  clusterIP: 198.19.0.20
  selector: {app: hb, version: v1}
  ports: [{name: http, port: 8000, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: hb-v2, namespace: shop}
spec:
  clusterIP: 198.19.0.21
  selector: {app: hb, version: v2}
  ports: [{name: http, port: 8000, targetPort: 8080}]
)";

const weft::v1::VirtualHost& waypointHost(RegistryBuild& b, const std::string& name) {
  return resource(b, kRouteConfigurationType, name).route_configuration().virtual_hosts(0);
}

TEST(WaypointGamma, AnHttpRouteWithAServiceParentRoutesAtItsWaypointAheadOfVirtualServices) {
  auto objects = objectsFrom(std::string(kShop) + kGammaServices + R"(
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: hb-versions, namespace: shop, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  parentRefs: [{group: "", kind: Service, name: hb}]
  hostnames: [elsewhere.example.com]
  rules:
  - backendRefs: [{name: hb-v1, port: 8000}]
  - matches: [{headers: [{name: X-Version, value: v2}]}]
    backendRefs: [{name: hb-v2, port: 8000}]
)");
  auto b = buildRegistry(objects, settings());
  // hostnames are ignored for a Service parent; the header rule sorts first; hb-canary
  // (a mesh VirtualService on hb) is not applied.
  const auto& vhost = waypointHost(b, "shop/waypoint/hb.shop.svc.cluster.local:8000");
  ASSERT_EQ(vhost.routes_size(), 2);
  EXPECT_EQ(vhost.routes(0).match().headers(0).name(), "x-version");
  EXPECT_EQ(vhost.routes(0).route().clusters(0).cluster(), "outbound|8000||hb-v2.shop.svc.cluster.local");
  EXPECT_EQ(vhost.routes(1).route().clusters(0).cluster(), "outbound|8000||hb-v1.shop.svc.cluster.local");
  EXPECT_EQ(vhost.routes(1).name(), "shop/hb-versions/0");
  const auto& v2 = resource(b, kClusterType, "outbound|8000||hb-v2.shop.svc.cluster.local").cluster();
  ASSERT_EQ(v2.endpoints_size(), 1);
  EXPECT_EQ(v2.endpoints(0), "198.18.1.3:8080");
  bool noted = false;
  for (const auto& n : b.notes) noted = noted || (n.find("hb-canary") != std::string::npos && n.find("takes precedence") != std::string::npos);
  EXPECT_TRUE(noted);
  // echo has no route of its own: still the default route.
  EXPECT_FALSE(waypointHost(b, "shop/waypoint/echo.shop.svc.cluster.local:80").routes(0).has_match());
}

TEST(WaypointGamma, AParentRefPortRestrictsTheRouteToThatServicePort) {
  auto objects = objectsFrom(std::string(kShop) + kGammaServices + R"(
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: alt-only, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: hb, port: 9000}]
  rules: [{backendRefs: [{name: hb-v2, port: 8000}]}]
)");
  auto b = buildRegistry(objects, settings());
  const auto& alt = waypointHost(b, "shop/waypoint/hb.shop.svc.cluster.local:9000");
  ASSERT_EQ(alt.routes_size(), 1);
  EXPECT_EQ(alt.routes(0).route().clusters(0).cluster(), "outbound|8000||hb-v2.shop.svc.cluster.local");
  // Port 8000 gets Istio's default route, not the VirtualService: the Gateway API's routes
  // for the Service still take precedence there.
  const auto& main = waypointHost(b, "shop/waypoint/hb.shop.svc.cluster.local:8000");
  ASSERT_EQ(main.routes_size(), 1);
  EXPECT_FALSE(main.routes(0).has_match());
  EXPECT_EQ(main.routes(0).route().clusters(0).cluster(), "outbound|8000||hb.shop.svc.cluster.local");
}

TEST(WaypointGamma, RoutesThatDoNotAttachAreNotApplied) {
  auto objects = objectsFrom(std::string(kShop) + kGammaServices + R"(
---
apiVersion: v1
kind: Namespace
metadata: {name: client}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: consumer, namespace: client}
spec:
  parentRefs: [{group: "", kind: Service, name: hb, namespace: shop}]
  rules: [{backendRefs: [{name: hb-v2, namespace: shop, port: 8000}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: gateway-kind, namespace: shop}
spec:
  parentRefs: [{kind: Service, name: hb}]
  rules: [{backendRefs: [{name: hb-v2, port: 8000}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: to-old, namespace: legacy}
spec:
  parentRefs: [{group: "", kind: Service, name: old}]
  rules: [{backendRefs: [{name: old, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: to-external, namespace: shop}
spec:
  parentRefs: [{group: networking.istio.io, kind: ServiceEntry, name: ext}]
  rules: [{backendRefs: [{name: hb-v2, port: 8000}]}]
)");
  auto b = buildRegistry(objects, settings());
  // A consumer route (another namespace than the Service's and the waypoint's) and a
  // parentRef whose group defaults to the Gateway API's do not attach: hb keeps its
  // VirtualService.
  const auto& vhost = waypointHost(b, "shop/waypoint/hb.shop.svc.cluster.local:8000");
  ASSERT_EQ(vhost.routes_size(), 2);
  EXPECT_EQ(vhost.routes(0).route().clusters(0).cluster(), "outbound|8000|v2|hb.shop.svc.cluster.local");
  // A Service without a waypoint: the route applies nowhere, and a note says so.
  for (const auto& [name, r] : b.resources[kRouteConfigurationType]) EXPECT_EQ(name.find("old.legacy"), std::string::npos) << name;
  bool noted = false;
  for (const auto& n : b.notes) noted = noted || (n.find("to-old") != std::string::npos && n.find("uses no waypoint") != std::string::npos);
  EXPECT_TRUE(noted);
  // ServiceEntry parents are Istio's too, but not built: a note, nothing served.
  bool external = false;
  for (const auto& n : b.notes) external = external || (n.find("to-external") != std::string::npos && n.find("ServiceEntry ext") != std::string::npos);
  EXPECT_TRUE(external);
}

TEST(WaypointGamma, CrossNamespaceBackendsNeedNoReferenceGrantAndBadOnesAnswer500) {
  auto objects = objectsFrom(std::string(kShop) + kGammaServices + R"(
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: mixed, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: hb}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /old}}]
    backendRefs: [{name: old, namespace: legacy, port: 80}]
  - matches: [{path: {type: Exact, value: /bad}}]
    backendRefs: [{group: example.com, kind: Bucket, name: b}]
)");
  auto b = buildRegistry(objects, settings());
  const auto& vhost = waypointHost(b, "shop/waypoint/hb.shop.svc.cluster.local:8000");
  // "/bad" (exact), then "/old" and "/old/" from the prefix; nothing else matches (404).
  ASSERT_EQ(vhost.routes_size(), 3);
  EXPECT_EQ(vhost.routes(0).match().path().exact(), "/bad");
  EXPECT_EQ(vhost.routes(0).direct_response().status(), 500u);
  EXPECT_EQ(vhost.routes(1).route().clusters(0).cluster(), "outbound|80||old.legacy.svc.cluster.local");
}

TEST(WaypointGamma, ParentRefPortsOfOneRouteAddUpAndAPortlessOneMeansEveryPort) {
  auto objects = objectsFrom(R"(
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: two-ports, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: hb, port: 8000}, {group: "", kind: Service, name: hb, port: 9000},
               {group: "", kind: Service, name: echo, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: any-port, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: hb, port: 8000}, {group: "", kind: Service, name: hb, namespace: shop}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: other-namespace-service, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: hb, namespace: elsewhere}]
)");
  auto attached = meshRoutesFor(objects, "shop", "hb", "shop");
  ASSERT_EQ(attached.size(), 2u);
  EXPECT_EQ(attached[0].route->name(), "two-ports");
  EXPECT_EQ(attached[0].ports, (std::set<uint32_t>{8000, 9000}));
  EXPECT_EQ(attached[1].route->name(), "any-port");
  EXPECT_TRUE(attached[1].ports.empty());
  // A waypoint in another namespace than the route's and the Service's applies none.
  EXPECT_EQ(meshRoutesFor(objects, "elsewhere", "hb", "mesh-waypoints").size(), 0u);
  EXPECT_EQ(meshRoutesFor(objects, "elsewhere", "hb", "shop").size(), 1u);
}

TEST(WaypointGamma, AGrpcRouteWithAServiceParentRoutesMethodsOverHttp2) {
  auto objects = objectsFrom(std::string(kShop) + kGammaServices + R"(
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: hb-grpc, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: hb, port: 8000}]
  rules:
  - backendRefs: [{name: hb-v1, port: 8000}]
  - matches: [{method: {service: echo.Echo, method: Say}, headers: [{name: x-version, value: v2}]}]
    backendRefs: [{name: hb-v2, port: 8000}]
)");
  auto b = buildRegistry(objects, settings());
  const auto& vhost = waypointHost(b, "shop/waypoint/hb.shop.svc.cluster.local:8000");
  ASSERT_EQ(vhost.routes_size(), 2) << "the GRPCRoute replaces the mesh VirtualService";
  // The method match becomes the exact path and sorts ahead of the catch-all.
  EXPECT_EQ(vhost.routes(0).match().path().exact(), "/echo.Echo/Say");
  EXPECT_EQ(vhost.routes(0).match().headers(0).name(), "x-version");
  EXPECT_EQ(vhost.routes(0).route().clusters(0).cluster(), "outbound|8000||hb-v2.shop.svc.cluster.local");
  EXPECT_EQ(vhost.routes(1).route().clusters(0).cluster(), "outbound|8000||hb-v1.shop.svc.cluster.local");
  for (const char* name : {"outbound|8000||hb-v1.shop.svc.cluster.local", "outbound|8000||hb-v2.shop.svc.cluster.local"}) {
    EXPECT_EQ(resource(b, kClusterType, name).cluster().connection_pool().upstream_protocol(), weft::v1::ConnectionPool::HTTP2)
        << name << ": GRPCRoute backends speak HTTP/2 whatever the port's name";
  }
  // The port the parentRef did not name gets Istio's default route: with Gateway API
  // routes on the Service, its mesh VirtualService no longer applies (as for HTTPRoutes).
  const auto& other = waypointHost(b, "shop/waypoint/hb.shop.svc.cluster.local:9000");
  ASSERT_EQ(other.routes_size(), 1);
  EXPECT_FALSE(other.routes(0).has_match());
}

TEST(WaypointGamma, HttpAndGrpcRoutesOnOneServiceAreOrderedTogether) {
  auto objects = objectsFrom(std::string(kShop) + kGammaServices + R"(
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: hb-http, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: hb}]
  rules: [{backendRefs: [{name: hb-v1, port: 8000}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: hb-grpc, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: hb}]
  rules: [{matches: [{method: {service: echo.Echo}}], backendRefs: [{name: hb-v2, port: 8000}]}]
)");
  auto b = buildRegistry(objects, settings());
  const auto& vhost = waypointHost(b, "shop/waypoint/hb.shop.svc.cluster.local:8000");
  ASSERT_EQ(vhost.routes_size(), 2);
  EXPECT_EQ(vhost.routes(0).match().path().prefix(), "/echo.Echo/") << "the gRPC service's prefix is longer than the HTTPRoute's /";
  EXPECT_EQ(vhost.routes(1).route().clusters(0).cluster(), "outbound|8000||hb-v1.shop.svc.cluster.local");
}

TEST(WaypointGamma, GrpcRoutesThatDoNotAttachAreNotApplied) {
  auto objects = objectsFrom(std::string(kShop) + kGammaServices + R"(
---
apiVersion: v1
kind: Namespace
metadata: {name: client}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: consumer, namespace: client}
spec:
  parentRefs: [{group: "", kind: Service, name: hb, namespace: shop}]
  rules: [{backendRefs: [{name: hb-v2, namespace: shop, port: 8000}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: grpc-to-old, namespace: legacy}
spec:
  parentRefs: [{group: "", kind: Service, name: old}]
  rules: [{backendRefs: [{name: old, port: 80}]}]
)");
  auto b = buildRegistry(objects, settings());
  const auto& vhost = waypointHost(b, "shop/waypoint/hb.shop.svc.cluster.local:8000");
  ASSERT_EQ(vhost.routes_size(), 2) << "hb keeps its VirtualService";
  EXPECT_EQ(vhost.routes(0).route().clusters(0).cluster(), "outbound|8000|v2|hb.shop.svc.cluster.local");
  // legacy/old uses no waypoint: no listener or routes anywhere, its backend is not made
  // HTTP/2 by a route that applies nowhere, and a note says why.
  for (const char* type : {kListenerType, kRouteConfigurationType}) {
    for (const auto& [name, r] : b.resources[type]) EXPECT_EQ(name.find("old.legacy"), std::string::npos) << type << " " << name;
  }
  for (const auto& [name, r] : b.resources[kClusterType]) {
    EXPECT_NE(r.cluster().connection_pool().upstream_protocol(), weft::v1::ConnectionPool::HTTP2) << name << ": no applied GRPCRoute sends there";
  }
  bool noted = false;
  for (const auto& n : b.notes) noted = noted || (n.find("grpc-to-old") != std::string::npos && n.find("uses no waypoint") != std::string::npos);
  EXPECT_TRUE(noted);
}

TEST(WaypointGamma, GrpcRouteRulesKeepTheirWeightsFiltersAndMethodMatches) {
  auto objects = objectsFrom(std::string(kShop) + kGammaServices + R"(
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: hb-grpc, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: hb, port: 8000}]
  rules:
  - matches: [{method: {method: Ping}}]
    filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: X-Canary, value: "yes"}]}}]
    backendRefs: [{name: hb-v1, port: 8000, weight: 90}, {name: hb-v2, port: 8000, weight: 10}]
  - matches: [{method: {service: echo.Echo, method: Say}}]
    filters: [{type: ExtensionRef, extensionRef: {group: example.com, kind: Thing, name: t}}]
    backendRefs: [{name: hb-v2, port: 8000}]
)");
  // The GRPCRoute is found under its own kind only.
  ASSERT_EQ(meshRoutesFor(objects, "shop", "hb", "shop", kMeshGrpcRouteKind).size(), 1u);
  EXPECT_TRUE(meshRoutesFor(objects, "shop", "hb", "shop").empty());
  auto b = buildRegistry(objects, settings());
  const auto& vhost = waypointHost(b, "shop/waypoint/hb.shop.svc.cluster.local:8000");
  ASSERT_EQ(vhost.routes_size(), 2);
  // The exact method ranks ahead of the any-service regex; the unsupported filter turns its
  // rule into a 500 answer rather than routing without it.
  EXPECT_EQ(vhost.routes(0).match().path().exact(), "/echo.Echo/Say");
  EXPECT_EQ(vhost.routes(0).direct_response().status(), 500u);
  const auto& ping = vhost.routes(1);
  EXPECT_EQ(ping.match().path().regex(), "/[^/]+/Ping");
  EXPECT_EQ(ping.request_headers().set().at("x-canary"), "yes");
  ASSERT_EQ(ping.route().clusters_size(), 2);
  EXPECT_EQ(ping.route().clusters(0).cluster(), "outbound|8000||hb-v1.shop.svc.cluster.local");
  EXPECT_EQ(ping.route().clusters(0).weight(), 90u);
  EXPECT_EQ(ping.route().clusters(1).weight(), 10u);
  bool noted = false;
  for (const auto& n : b.notes) noted = noted || (n.find("hb-grpc") != std::string::npos && n.find("ExtensionRef") != std::string::npos);
  EXPECT_TRUE(noted);
}

}  // namespace
}  // namespace weft::control
