#include "control/proxy_view.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <boost/json.hpp>

#include "base/file_io.h"
#include "control/host_names.h"
#include "model/decoder.h"

namespace weft::control {
namespace {

void decodeInto(ObjectsByKind& out, const std::string& yaml, const std::string& ns = "") {
  auto decoded = model::decodeYaml(yaml, "test.yaml", {ns, false});
  for (const auto& e : decoded.errors) ADD_FAILURE() << e;
  for (auto& o : decoded.objects) out[o.key().kind].push_back(std::move(o));
}

std::string sample(const std::string& name) {
  auto text = readFile(std::string(WEFT_SAMPLES_DIR) + "/walkthrough/" + name);
  EXPECT_TRUE(text) << name;
  return text ? *text : "";
}

const char* kHttpbin = R"(
apiVersion: v1
kind: Service
metadata: {name: httpbin, namespace: default}
spec:
  selector: {app: httpbin}
  ports: [{name: http, port: 8000, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: httpbin-v1, namespace: default, labels: {app: httpbin, version: v1}}
spec: {containers: [{name: c, image: x}]}
status: {podIP: 198.18.2.2, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: httpbin-v2, namespace: default, labels: {app: httpbin, version: v2}}
spec: {containers: [{name: c, image: x}]}
status: {podIP: 198.18.2.3, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: httpbin-starting, namespace: default, labels: {app: httpbin, version: v1}}
spec: {containers: [{name: c, image: x}]}
status: {podIP: 198.18.2.4, conditions: [{type: Ready, status: "False"}]}
)";

RegistryBuild build(const ObjectsByKind& objects) {
  RegistryBuild out;
  addProxyView(objects, out);
  return out;
}

const weft::v1::Cluster& clusterOf(const RegistryBuild& b, const std::string& name) {
  static const weft::v1::Cluster none;
  auto types = b.resources.find(kClusterType);
  if (types == b.resources.end() || !types->second.contains(name)) {
    ADD_FAILURE() << "no cluster " << name;
    return none;
  }
  return types->second.at(name).cluster();
}

TEST(ProxyView, WalkthroughGatewayAndVirtualServiceToAMissingService) {
  ObjectsByKind objects;
  decodeInto(objects, sample("istio-gateway.yaml"), "istio-system");
  decodeInto(objects, sample("virtual-service.yaml"));
  auto b = build(objects);

  ASSERT_EQ(b.resources[kListenerType].size(), 1u);
  const auto& listener = b.resources[kListenerType].at("istio-system/my-gateway/80").listener();
  EXPECT_EQ(listener.port(), 80u);
  EXPECT_EQ(listener.protocol(), weft::v1::Listener::HTTP);
  EXPECT_EQ(listener.selector().at("istio"), "ingressgateway");
  EXPECT_EQ(listener.route_config_name(), "istio-system/my-gateway/http.80");
  ASSERT_EQ(listener.server_hosts_size(), 1);
  EXPECT_EQ(listener.server_hosts(0), "example.com");

  const auto& routes = b.resources[kRouteConfigurationType].at("istio-system/my-gateway/http.80").route_configuration();
  ASSERT_EQ(routes.virtual_hosts_size(), 1);
  EXPECT_EQ(routes.virtual_hosts(0).domains(0), "example.com");
  ASSERT_EQ(routes.virtual_hosts(0).routes_size(), 1);
  const auto& action = routes.virtual_hosts(0).routes(0).route();
  ASSERT_EQ(action.clusters_size(), 1);
  EXPECT_EQ(action.clusters(0).cluster(), "outbound|80|v1|my-service.istio-system.svc.cluster.local");
  EXPECT_EQ(action.clusters(0).weight(), 100u);
  EXPECT_EQ(action.retries().attempts(), 2u);  // Istio's default

  // The missing Service still compiles: a cluster without endpoints, and a note.
  const auto& cluster = clusterOf(b, "outbound|80|v1|my-service.istio-system.svc.cluster.local");
  EXPECT_FALSE(cluster.service_known());
  EXPECT_EQ(cluster.endpoints_size(), 0);
  ASSERT_FALSE(b.notes.empty());
  EXPECT_NE(b.notes[0].find("my-service.istio-system.svc.cluster.local is not a known Service"), std::string::npos);
}

TEST(ProxyView, CorrectedVirtualServiceReachesReadyHttpbinPods) {
  ObjectsByKind objects;
  decodeInto(objects, sample("istio-gateway.yaml"), "istio-system");
  decodeInto(objects, kHttpbin);
  decodeInto(objects, R"(
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: traffic-rules, namespace: istio-system}
spec:
  hosts: ["example.com"]
  gateways: ["istio-system/my-gateway"]
  http:
  - timeout: 2s
    retries: {attempts: 3, perTryTimeout: 500ms, retryOn: "5xx"}
    rewrite: {uri: /anything/, authority: httpbin.local}
    route:
    - destination: {host: httpbin.default.svc.cluster.local, port: {number: 8000}}
)");
  auto b = build(objects);
  const auto& route = b.resources[kRouteConfigurationType].at("istio-system/my-gateway/http.80").route_configuration().virtual_hosts(0).routes(0);
  EXPECT_EQ(route.route().timeout_ms(), 2000u);
  EXPECT_EQ(route.route().retries().attempts(), 3u);
  EXPECT_EQ(route.route().retries().per_try_timeout_ms(), 500u);
  EXPECT_EQ(route.route().retries().retry_on(), "5xx");
  EXPECT_EQ(route.route().rewrite().uri_prefix(), "/anything/");
  EXPECT_EQ(route.route().rewrite().authority(), "httpbin.local");
  const auto& cluster = clusterOf(b, "outbound|8000||httpbin.default.svc.cluster.local");
  EXPECT_TRUE(cluster.service_known());
  EXPECT_EQ(cluster.service_namespace(), "default");
  // Target port 8080; the pod that is not ready is left out.
  ASSERT_EQ(cluster.endpoints_size(), 2);
  EXPECT_EQ(cluster.endpoints(0), "198.18.2.2:8080");
  EXPECT_EQ(cluster.endpoints(1), "198.18.2.3:8080");
}

TEST(ProxyView, SubsetsHeaderMatchesAndWeights) {
  ObjectsByKind objects;
  decodeInto(objects, kHttpbin);
  decodeInto(objects, R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 8080, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: httpbin, namespace: default}
spec:
  host: httpbin
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: canary, namespace: default}
spec:
  hosts: ["httpbin.example.com"]
  gateways: ["gw"]
  http:
  - match:
    - headers: {X-Canary: {exact: "yes"}}
      uri: {prefix: /status}
      ignoreUriCase: true
    - uri: {regex: "/v2/.*"}
    route: [{destination: {host: httpbin, subset: v2}}]
  - route:
    - {destination: {host: httpbin, subset: v1}, weight: 90}
    - {destination: {host: httpbin, subset: v2}, weight: 10}
)");
  auto b = build(objects);
  const auto& vhost = b.resources[kRouteConfigurationType].at("default/gw/http.8080").route_configuration().virtual_hosts(0);
  EXPECT_EQ(vhost.domains(0), "httpbin.example.com");  // the more specific of "*" and the VS host
  ASSERT_EQ(vhost.routes_size(), 3);                    // two match blocks, then the default route
  EXPECT_EQ(vhost.routes(0).match().headers(0).name(), "x-canary");
  EXPECT_EQ(vhost.routes(0).match().headers(0).match().exact(), "yes");
  EXPECT_EQ(vhost.routes(0).match().path().prefix(), "/status");
  EXPECT_TRUE(vhost.routes(0).match().ignore_uri_case());
  EXPECT_EQ(vhost.routes(1).match().path().regex(), "/v2/.*");
  EXPECT_FALSE(vhost.routes(2).has_match());
  EXPECT_EQ(vhost.routes(2).route().clusters(0).weight(), 90u);
  EXPECT_EQ(vhost.routes(2).route().clusters(1).weight(), 10u);
  const auto& v1 = clusterOf(b, "outbound|8000|v1|httpbin.default.svc.cluster.local");
  ASSERT_EQ(v1.endpoints_size(), 1);
  EXPECT_EQ(v1.endpoints(0), "198.18.2.2:8080");
  const auto& v2 = clusterOf(b, "outbound|8000|v2|httpbin.default.svc.cluster.local");
  ASSERT_EQ(v2.endpoints_size(), 1);
  EXPECT_EQ(v2.endpoints(0), "198.18.2.3:8080");
}

// A match's own `gateways` narrow it to those (and "mesh" to waypoints); sourceLabels and
// sourceNamespace at a Gateway name the gateway's own pods, and travel with the route.
TEST(ProxyView, MatchGatewaysAndSourcesDecideWhereAnHttpMatchApplies) {
  ObjectsByKind objects;
  decodeInto(objects, kHttpbin);
  decodeInto(objects, R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 8080, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: scoped, namespace: default}
spec:
  hosts: ["httpbin.example.com"]
  gateways: [gw, mesh]
  http:
  - match: [{uri: {prefix: /mesh-only}, gateways: [mesh]}, {uri: {prefix: /gw-only}, gateways: [default/gw]}]
    route: [{destination: {host: httpbin}}]
  - match: [{uri: {prefix: /canary-pods}, sourceLabels: {canary: "yes"}, sourceNamespace: istio-system}]
    route: [{destination: {host: httpbin}}]
  - match: [{uri: {prefix: /named-gateway}, gateways: [gw], sourceLabels: {canary: "yes"}}]
    route: [{destination: {host: httpbin}}]
  - route: [{destination: {host: httpbin}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: mesh-only, namespace: default}
spec:
  hosts: ["only.example.com"]
  gateways: [gw, mesh]
  http:
  - match: [{uri: {prefix: /x}, gateways: [mesh]}]
    route: [{destination: {host: httpbin}}]
)");
  auto b = build(objects);
  const auto& vhost = b.resources[kRouteConfigurationType].at("default/gw/http.8080").route_configuration().virtual_hosts(0);
  ASSERT_EQ(vhost.routes_size(), 4) << "the mesh-only match is not the gateway's";
  EXPECT_EQ(vhost.routes(0).match().path().prefix(), "/gw-only");
  EXPECT_FALSE(vhost.routes(0).match().has_source());
  EXPECT_EQ(vhost.routes(1).match().path().prefix(), "/canary-pods");
  EXPECT_EQ(vhost.routes(1).match().source().labels().at("canary"), "yes");
  EXPECT_EQ(vhost.routes(1).match().source().namespace_(), "istio-system");
  EXPECT_EQ(vhost.routes(2).match().path().prefix(), "/named-gateway");
  EXPECT_FALSE(vhost.routes(2).match().has_source()) << "a match naming its gateways does not read its source (Istio's http[])";
  EXPECT_FALSE(vhost.routes(3).has_match());
  // A VirtualService with nothing for this Gateway claims no domain.
  const auto& config = b.resources[kRouteConfigurationType].at("default/gw/http.8080").route_configuration();
  EXPECT_EQ(config.virtual_hosts_size(), 1) << "only.example.com has no route here";
}

TEST(ProxyView, AnUnknownSubsetOrBadRegexNeverRefusesTheRest) {
  ObjectsByKind objects;
  decodeInto(objects, kHttpbin);
  decodeInto(objects, R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*.example.com"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: default}
spec:
  hosts: ["a.example.com", "example.com", "other.org"]
  gateways: ["gw"]
  http:
  - match: [{uri: {regex: "placeholder"}}]
    route: [{destination: {host: httpbin}}]
  - route: [{destination: {host: httpbin, subset: nope}}]
)");
  // The store's validation refuses such a regex; weftd must still survive one (another
  // config source, an older validator).
  auto& vs = objects["VirtualService.networking.istio.io"].front().mutableValue();
  vs.at("spec").at("http").at(0).at("match").at(0).at("uri").as_object()["regex"] = "(unclosed";
  auto b = build(objects);
  const auto& config = b.resources[kRouteConfigurationType].at("default/gw/http.80").route_configuration();
  // "*.example.com" admits a.example.com only: not the bare domain, not other.org.
  ASSERT_EQ(config.virtual_hosts_size(), 1);
  EXPECT_EQ(config.virtual_hosts(0).domains(0), "a.example.com");
  ASSERT_EQ(config.virtual_hosts(0).routes_size(), 1);
  EXPECT_EQ(clusterOf(b, "outbound|8000|nope|httpbin.default.svc.cluster.local").endpoints_size(), 0);
  bool regexNoted = false, subsetNoted = false;
  for (const auto& n : b.notes) {
    regexNoted |= n.find("does not compile") != std::string::npos;
    subsetNoted |= n.find("subset nope") != std::string::npos;
  }
  EXPECT_TRUE(regexNoted);
  EXPECT_TRUE(subsetNoted);
}

TEST(ProxyView, ServerHostNamespacesAndUnboundVirtualServices) {
  ObjectsByKind objects;
  decodeInto(objects, R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["team-a/*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a, namespace: team-a}
spec: {hosts: ["a.com"], gateways: ["istio-system/gw"], http: [{route: [{destination: {host: x}}]}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: b, namespace: team-b}
spec: {hosts: ["b.com"], gateways: ["istio-system/gw"], http: [{route: [{destination: {host: x}}]}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: c, namespace: team-a}
spec: {hosts: ["c.com"], http: [{route: [{destination: {host: x}}]}]}
)");
  auto b = build(objects);
  const auto& config = b.resources[kRouteConfigurationType].at("istio-system/gw/http.80").route_configuration();
  ASSERT_EQ(config.virtual_hosts_size(), 1);
  EXPECT_EQ(config.virtual_hosts(0).domains(0), "a.com");
  EXPECT_EQ(config.virtual_hosts(0).routes(0).route().clusters(0).cluster(), "outbound|0||x.team-a.svc.cluster.local");
}

// A VirtualService host "*" on a server listing a narrower host first gets a virtual host
// for each server host it meets ("a.example.com" and "*"), as Istio intersects every pair;
// other hosts reach it through "*".
TEST(ProxyView, AWildcardVirtualServiceMeetsEveryServerHost) {
  ObjectsByKind objects;
  decodeInto(objects, R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["a.example.com", "*.example.org", "*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: all, namespace: default}
spec: {hosts: ["*"], gateways: ["istio-system/gw"], http: [{route: [{destination: {host: x}}]}]}
)");
  auto b = build(objects);
  const auto& config = b.resources[kRouteConfigurationType].at("istio-system/gw/http.80").route_configuration();
  std::vector<std::string> domains;
  for (const auto& vhost : config.virtual_hosts()) {
    domains.push_back(vhost.domains(0));
    ASSERT_EQ(vhost.routes_size(), 1) << vhost.domains(0);
  }
  EXPECT_EQ(domains, (std::vector<std::string>{"a.example.com", "*.example.org", "*"}));
}

// Header match names are case-insensitive and compiled in lower case; JWT claim names
// ("@request.auth.claims.<name>") are not, and keep theirs.
TEST(ProxyView, ClaimMatchNamesKeepTheirCase) {
  ObjectsByKind objects;
  decodeInto(objects, R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: claims, namespace: default}
spec:
  hosts: ["a.com"]
  gateways: ["istio-system/gw"]
  http:
  - match: [{headers: {"@request.auth.claims.customerTier": {exact: Gold}, X-Region: {exact: eu}}}]
    route: [{destination: {host: x}}]
)");
  auto b = build(objects);
  const auto& route = b.resources[kRouteConfigurationType].at("istio-system/gw/http.80").route_configuration().virtual_hosts(0).routes(0);
  ASSERT_EQ(route.match().headers_size(), 2);
  std::vector<std::string> names{route.match().headers(0).name(), route.match().headers(1).name()};
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"@request.auth.claims.customerTier", "x-region"}));
}

// The legacy FQDN spelling of a Gateway binds as "<ns>/<name>" does, in `gateways` and in
// a match's `gateways`.
TEST(ProxyView, LegacyFqdnGatewayNamesBind) {
  ObjectsByKind objects;
  decodeInto(objects, R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a, namespace: team-a}
spec:
  hosts: ["a.com"]
  gateways: ["gw.istio-system.svc.cluster.local", "mesh"]
  http:
  - match: [{uri: {prefix: /only-at-gw}, gateways: ["gw.istio-system"]}]
    route: [{destination: {host: x}}]
  - match: [{uri: {prefix: /only-in-mesh}, gateways: ["mesh"]}]
    route: [{destination: {host: y}}]
)");
  auto b = build(objects);
  const auto& config = b.resources[kRouteConfigurationType].at("istio-system/gw/http.80").route_configuration();
  ASSERT_EQ(config.virtual_hosts_size(), 1);
  EXPECT_EQ(config.virtual_hosts(0).domains(0), "a.com");
  ASSERT_EQ(config.virtual_hosts(0).routes_size(), 1);
  EXPECT_EQ(config.virtual_hosts(0).routes(0).route().clusters(0).cluster(), "outbound|0||x.team-a.svc.cluster.local");
}

TEST(ProxyView, ServerPortIsTheGatewayServicePortAndTheProxyBindsItsTarget) {
  ObjectsByKind objects;
  decodeInto(objects, sample("istio-gateway.yaml"), "istio-system");
  decodeInto(objects, R"(
apiVersion: v1
kind: Service
metadata: {name: global-ingress, namespace: istio-system}
spec:
  type: LoadBalancer
  selector: {istio: ingressgateway, ingress: global}
  ports: [{name: status-port, port: 15021, targetPort: 15021}, {name: http2, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: global-ingress-abc, namespace: istio-system, labels: {istio: ingressgateway, ingress: global}}
spec: {containers: [{name: istio-proxy, image: x}]}
status: {podIP: 198.18.1.9}
)");
  auto b = build(objects);
  const auto& listener = b.resources[kListenerType].at("istio-system/my-gateway/80").listener();
  EXPECT_EQ(listener.port(), 80u);
  EXPECT_EQ(listener.bind_port(), 8080u);

  // Without a gateway pod (nothing installed yet) the server port is bound as written.
  ObjectsByKind bare;
  decodeInto(bare, sample("istio-gateway.yaml"), "istio-system");
  auto b2 = build(bare);
  EXPECT_EQ(b2.resources[kListenerType].at("istio-system/my-gateway/80").listener().bind_port(), 80u);
}

TEST(ProxyView, TheRegistryPublishesTheViewAndWatchesItsKinds) {
  ObjectsByKind objects;
  decodeInto(objects, sample("istio-gateway.yaml"), "istio-system");
  decodeInto(objects, sample("virtual-service.yaml"));
  auto b = buildRegistry(objects, RegistrySettings{"prod", "Kubernetes", {}, {}});
  EXPECT_EQ(b.resources[kListenerType].size(), 1u);
  EXPECT_EQ(b.resources[kRouteConfigurationType].size(), 1u);
  EXPECT_EQ(b.resources[kClusterType].size(), 1u);
  const auto& kinds = registryKinds();
  for (const char* kind : {"Gateway.networking.istio.io", "VirtualService.networking.istio.io", "DestinationRule.networking.istio.io"}) {
    EXPECT_NE(std::find(kinds.begin(), kinds.end(), kind), kinds.end()) << kind;
  }
}

// tls.httpsRedirect marks the virtual hosts of that server's hosts (and gives one of its
// own to a host no VirtualService claims); fault.abort.grpcStatus and uriRegexRewrite
// compile to their route fields.
TEST(ProxyView, HttpsRedirectGrpcAbortsAndRegexRewrites) {
  ObjectsByKind objects;
  decodeInto(objects, kHttpbin);
  decodeInto(objects, R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http-any, protocol: HTTP}
    hosts: ["*"]
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["secure.example.com", "quiet.example.com"]
    tls: {httpsRedirect: true}
  - port: {number: 80, name: http-plain, protocol: HTTP}
    hosts: ["plain.example.com"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: both, namespace: default}
spec:
  hosts: ["secure.example.com", "plain.example.com"]
  gateways: ["gw"]
  http:
  - match: [{uri: {prefix: /grpc}}]
    fault: {abort: {grpcStatus: UNAVAILABLE, percentage: {value: 100}}}
    route: [{destination: {host: httpbin}}]
  - rewrite: {uriRegexRewrite: {match: "^/v1/(.*)$", rewrite: "/api/\\1"}}
    route: [{destination: {host: httpbin}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: everything-else, namespace: default}
spec:
  hosts: ["*"]
  gateways: ["gw"]
  http:
  - match: [{uri: {prefix: /bad}}]
    rewrite: {uriRegexRewrite: {match: "^/(.*)$", rewrite: "/\\2"}}
    route: [{destination: {host: httpbin}}]
  - route: [{destination: {host: httpbin}}]
)");
  auto b = build(objects);
  const auto& config = b.resources[kRouteConfigurationType].at("default/gw/http.80").route_configuration();
  std::map<std::string, const weft::v1::VirtualHost*> byDomain;
  for (const auto& v : config.virtual_hosts()) byDomain[v.domains(0)] = &v;
  ASSERT_EQ(b.notes.size(), 1u);
  EXPECT_NE(b.notes[0].find("everything-else: http[0].rewrite.uriRegexRewrite"), std::string::npos) << b.notes[0];
  ASSERT_EQ(byDomain.size(), 4u);
  EXPECT_FALSE(byDomain.at("*")->require_tls()) << "a wider domain serves other hosts too";
  EXPECT_EQ(byDomain.at("*")->routes_size(), 1) << "the route whose substitution names a group the pattern lacks is left out";
  EXPECT_TRUE(byDomain.at("secure.example.com")->require_tls());
  EXPECT_FALSE(byDomain.at("plain.example.com")->require_tls());
  EXPECT_TRUE(byDomain.at("quiet.example.com")->require_tls());
  ASSERT_EQ(byDomain.at("quiet.example.com")->routes_size(), 1) << "only the \"*\" VirtualService's route, behind the redirect";
  const auto& routes = byDomain.at("plain.example.com")->routes();
  ASSERT_EQ(routes.size(), 3) << "both's two routes, then the \"*\" VirtualService's, as Istio appends";
  EXPECT_EQ(routes[2].name(), byDomain.at("*")->routes(0).name());
  EXPECT_TRUE(routes[0].fault().abort_grpc());
  EXPECT_EQ(routes[0].fault().abort_grpc_status(), 14u);
  EXPECT_EQ(routes[0].fault().abort_status(), 0u);
  EXPECT_EQ(routes[1].route().rewrite().uri_regex(), "^/v1/(.*)$");
  EXPECT_EQ(routes[1].route().rewrite().uri_regex_substitution(), "/api/\\1");
  EXPECT_TRUE(routes[1].route().rewrite().uri_prefix().empty());
}

TEST(ProxyView, FaultMirrorCorsDirectResponseAndTheNewMatchFields) {
  ObjectsByKind objects;
  decodeInto(objects, kHttpbin);
  decodeInto(objects, R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: rich, namespace: default}
spec:
  hosts: ["a.example.com"]
  gateways: ["gw"]
  http:
  - name: other-port
    match: [{port: 8443}]
    directResponse: {status: 418}
  - name: matched
    match:
    - method: {exact: POST}
      authority: {prefix: a.}
      queryParams: {debug: {exact: "1"}}
      headers: {x-canary: {}}
      withoutHeaders: {x-user: {exact: test}}
      port: 80
    fault:
      delay: {fixedDelay: 1.5s, percentage: {value: 12.5}}
      abort: {httpStatus: 503}
    mirror: {host: httpbin, port: {number: 8000}}
    mirrorPercentage: {value: 20}
    corsPolicy:
      allowOrigins: [{exact: "https://app.example.com"}, {regex: "https://.*[.]test"}]
      allowMethods: [GET, POST]
      allowHeaders: [x-token]
      exposeHeaders: [x-trace]
      maxAge: 24h
      allowCredentials: true
    route: [{destination: {host: httpbin}}]
  - name: teapot
    directResponse: {status: 418, body: {string: "short and stout"}}
)");
  auto b = build(objects);
  const auto& vhost = b.resources[kRouteConfigurationType].at("default/gw/http.80").route_configuration().virtual_hosts(0);
  // The port-8443 route is another listener's.
  ASSERT_EQ(vhost.routes_size(), 2);
  const auto& route = vhost.routes(0);
  EXPECT_EQ(route.name(), "default/rich/matched");
  EXPECT_EQ(route.match().method().exact(), "POST");
  EXPECT_EQ(route.match().authority().prefix(), "a.");
  ASSERT_EQ(route.match().query_params_size(), 1);
  EXPECT_EQ(route.match().query_params(0).match().exact(), "1");
  ASSERT_EQ(route.match().headers_size(), 1);
  EXPECT_EQ(route.match().headers(0).match().kind_case(), weft::v1::StringMatch::KIND_NOT_SET);  // present
  EXPECT_EQ(route.match().without_headers(0).name(), "x-user");
  EXPECT_EQ(route.fault().delay_ms(), 1500u);
  EXPECT_DOUBLE_EQ(route.fault().delay_percent(), 12.5);
  EXPECT_EQ(route.fault().abort_status(), 503u);
  EXPECT_DOUBLE_EQ(route.fault().abort_percent(), 100.0);  // no percentage: every request
  ASSERT_EQ(route.mirrors_size(), 1);
  EXPECT_EQ(route.mirrors(0).cluster(), "outbound|8000||httpbin.default.svc.cluster.local");
  EXPECT_DOUBLE_EQ(route.mirrors(0).percent(), 20.0);
  EXPECT_EQ(route.cors().allow_origins_size(), 2);
  EXPECT_EQ(route.cors().max_age_s(), 86400u);
  EXPECT_TRUE(route.cors().allow_credentials());
  EXPECT_EQ(vhost.routes(1).direct_response().status(), 418u);
  EXPECT_EQ(vhost.routes(1).direct_response().body(), "short and stout");
}

TEST(ProxyView, DestinationRuleTrafficPolicyMergesServicePortAndSubsetLevels) {
  ObjectsByKind objects;
  decodeInto(objects, kHttpbin);
  decodeInto(objects, R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: httpbin, namespace: default}
spec:
  host: httpbin
  trafficPolicy:
    loadBalancer: {simple: LEAST_REQUEST}
    connectionPool: {tcp: {maxConnections: 10, connectTimeout: 250ms}, http: {http1MaxPendingRequests: 5, maxRequestsPerConnection: 1}}
    outlierDetection: {consecutive5xxErrors: 2, interval: 1s, baseEjectionTime: 15s, maxEjectionPercent: 100}
    portLevelSettings:
    - port: {number: 8000}
      connectionPool: {tcp: {maxConnections: 1, idleTimeout: 45s, maxConnectionDuration: 10m}, http: {idleTimeout: 90s}}
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: v2}
    trafficPolicy:
      loadBalancer: {consistentHash: {httpCookie: {name: user, ttl: 60s, path: /}}}
      outlierDetection: {consecutiveGatewayErrors: 1}
  - name: v3
    labels: {version: v3}
    trafficPolicy:
      connectionPool: {tcp: {idleTimeout: 0s}}

---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: split, namespace: default}
spec:
  hosts: ["*"]
  gateways: ["gw"]
  http:
  - route:
    - {destination: {host: httpbin, subset: v1}, weight: 40}
    - {destination: {host: httpbin, subset: v2}, weight: 40}
    - {destination: {host: httpbin, subset: v3}, weight: 20}
)");
  auto b = build(objects);
  // tcp.idleTimeout (relayed connections): set, Istio's default (0 here, an hour in the
  // proxy), and turned off by 0s.
  EXPECT_EQ(clusterOf(b, "outbound|8000|v1|httpbin.default.svc.cluster.local").connection_pool().tcp_idle_timeout_ms(), 45000u);
  const auto& v3 = clusterOf(b, "outbound|8000|v3|httpbin.default.svc.cluster.local").connection_pool();
  EXPECT_EQ(v3.tcp_idle_timeout_ms(), 0u);
  EXPECT_TRUE(v3.tcp_idle_timeout_disabled());
  EXPECT_FALSE(clusterOf(b, "outbound|8000|v2|httpbin.default.svc.cluster.local").connection_pool().tcp_idle_timeout_disabled());
  const auto& v1 = clusterOf(b, "outbound|8000|v1|httpbin.default.svc.cluster.local");
  EXPECT_EQ(v1.load_balancer().policy(), weft::v1::LoadBalancer::LEAST_REQUEST);
  EXPECT_EQ(v1.connection_pool().max_connections(), 1u);        // the port level replaced the section
  EXPECT_EQ(v1.connection_pool().max_pending_requests(), 0u);   // ... whole
  EXPECT_EQ(v1.connection_pool().idle_timeout_ms(), 90000u);
  EXPECT_EQ(v1.connection_pool().max_connection_duration_ms(), 600000u);
  EXPECT_EQ(v3.max_connection_duration_ms(), 0u);  // a subset's connectionPool replaced the port's
  EXPECT_EQ(v1.outlier_detection().consecutive_5xx(), 2u);
  EXPECT_EQ(v1.outlier_detection().interval_ms(), 1000u);
  EXPECT_EQ(v1.outlier_detection().base_ejection_ms(), 15000u);
  EXPECT_EQ(v1.outlier_detection().max_ejection_percent(), 100u);
  const auto& v2 = clusterOf(b, "outbound|8000|v2|httpbin.default.svc.cluster.local");
  EXPECT_EQ(v2.load_balancer().policy(), weft::v1::LoadBalancer::CONSISTENT_HASH);
  EXPECT_EQ(v2.load_balancer().hash_cookie(), "user");
  EXPECT_EQ(v2.load_balancer().hash_cookie_ttl_s(), 60u);
  EXPECT_EQ(v2.load_balancer().hash_cookie_path(), "/");
  EXPECT_EQ(v2.connection_pool().idle_timeout_ms(), 90000u);
  // The subset's outlierDetection replaced the service's: its unset fields are Istio's defaults.
  EXPECT_EQ(v2.outlier_detection().consecutive_gateway_errors(), 1u);
  EXPECT_EQ(v2.outlier_detection().consecutive_5xx(), 5u);
  EXPECT_EQ(v2.outlier_detection().base_ejection_ms(), 30000u);
  EXPECT_EQ(v2.outlier_detection().max_ejection_percent(), 10u);
}

TEST(ProxyView, HostHelpers) {
  EXPECT_EQ(resolveHost("reviews", "ns"), "reviews.ns.svc.cluster.local");
  EXPECT_EQ(resolveHost("httpbin.default.svc.cluster.local", "ns"), "httpbin.default.svc.cluster.local");
  std::string domain;
  EXPECT_TRUE(serverHostAdmits("*", "example.com", domain));
  EXPECT_EQ(domain, "example.com");
  EXPECT_TRUE(serverHostAdmits("example.com", "*", domain));
  EXPECT_EQ(domain, "example.com");
  EXPECT_TRUE(serverHostAdmits("*.example.com", "*.a.example.com", domain));
  EXPECT_EQ(domain, "*.a.example.com");
  EXPECT_FALSE(serverHostAdmits("*.example.com", "example.com", domain));
  EXPECT_FALSE(serverHostAdmits("example.com", "other.com", domain));
}

}  // namespace
}  // namespace weft::control

namespace weft::control {
namespace {

TEST(ProxyView, EnrolledEndpointsCarryTheirIdentityForHbone) {
  ObjectsByKind objects;
  decodeInto(objects, sample("istio-gateway.yaml"), "istio-system");
  decodeInto(objects, kHttpbin);
  // httpbin-v1 is enrolled by its own label; httpbin-v2 opts out; the namespace is not.
  decodeInto(objects, R"(
apiVersion: v1
kind: Namespace
metadata: {name: default}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: traffic-rules, namespace: istio-system}
spec:
  hosts: ["example.com"]
  gateways: ["istio-system/my-gateway"]
  http:
  - route:
    - destination: {host: httpbin.default.svc.cluster.local, port: {number: 8000}}
)");
  for (auto& pod : objects["Pod"]) {
    if (pod.name() == "httpbin-v1") {
      auto edited = pod.value();
      edited.as_object()["metadata"].as_object()["labels"].as_object()["istio.io/dataplane-mode"] = "ambient";
      edited.as_object()["spec"].as_object()["serviceAccountName"] = "httpbin";
      auto decoded = model::decodeYaml(boost::json::serialize(edited), "test.yaml", {"", false});
      ASSERT_EQ(decoded.objects.size(), 1u);
      pod = std::move(decoded.objects[0]);
    }
  }
  RegistrySettings settings{"prod", "Kubernetes", {}, {}};
  settings.mesh.set_trust_domain("acmellc.local");
  auto b = buildRegistry(objects, settings);
  const auto& cluster = clusterOf(b, "outbound|8000||httpbin.default.svc.cluster.local");
  ASSERT_EQ(cluster.endpoints_size(), 2);
  ASSERT_EQ(cluster.hbone_identities_size(), 1);
  EXPECT_EQ(cluster.hbone_identities().at("198.18.2.2:8080"), "spiffe://acmellc.local/ns/default/sa/httpbin");
  EXPECT_FALSE(cluster.hbone_identities().contains("198.18.2.3:8080"));
}

TEST(ProxyView, TlsPassthroughAndTcpServersCarryTheirVirtualServiceRoutes) {
  ObjectsByKind objects;
  decodeInto(objects, kHttpbin);
  decodeInto(objects, R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    tls: {mode: SIMPLE, credentialName: a-credential}
    hosts: [a.example.com]
  - port: {number: 443, name: tls-pass, protocol: TLS}
    tls: {mode: PASSTHROUGH}
    hosts: ["*.pass.example.com"]
  - port: {number: 8443, name: https-pass, protocol: HTTPS}
    tls: {mode: PASSTHROUGH}
    hosts: [nginx.pass.example.com]
  - port: {number: 31400, name: tcp, protocol: TCP}
    hosts: ["*"]
  - port: {number: 9443, name: tls-simple, protocol: TLS}
    tls: {mode: SIMPLE, credentialName: a-credential}
    hosts: ["*"]
  - port: {number: 31400, name: tls-on-tcp, protocol: TLS}
    tls: {mode: PASSTHROUGH}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: nginx, namespace: default}
spec:
  hosts: ["*.pass.example.com", other.example.com]
  gateways: [istio-system/gw]
  tls:
  - match: [{port: 443, sniHosts: [nginx.pass.example.com, other.example.com]}, {port: 443, sniHosts: [other.example.com]}]
    route: [{destination: {host: httpbin, port: {number: 8000}}}]
  - match: [{sniHosts: [nginx.pass.example.com], gateways: [someone-else]}]
    route: [{destination: {host: httpbin, port: {number: 8000}}}]
  - match: [{sniHosts: ["*.pass.example.com"]}]
    route: [{destination: {host: httpbin, port: {number: 8000}, subset: v1}, weight: 80}, {destination: {host: httpbin, port: {number: 8000}, subset: v2}, weight: 20}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: tcp-echo, namespace: default}
spec:
  hosts: ["*"]
  gateways: [istio-system/gw]
  tcp:
  - match: [{port: 80}]
    route: [{destination: {host: httpbin, port: {number: 8000}}}]
  - match: [{port: 31400}]
    route: [{destination: {host: httpbin, port: {number: 8000}}, weight: 90}, {destination: {host: httpbin, port: {number: 8000}, subset: v2}, weight: 10}]
  - match: [{port: 31400, sourceLabels: {app: x}}]
    route: [{destination: {host: httpbin, port: {number: 8000}}}]
  - match: [{port: 9443}]
    route: [{destination: {host: httpbin, port: {number: 8000}, subset: v1}}]
)");
  auto b = build(objects);
  const auto& tls = b.resources[kListenerType].at("istio-system/gw/443").listener();
  // The terminating server and the passthrough one share the port: HTTPS with routes by SNI.
  EXPECT_EQ(tls.protocol(), weft::v1::Listener::HTTPS);
  EXPECT_EQ(tls.tls_servers_size(), 1);
  ASSERT_EQ(tls.tcp_routes_size(), 2);
  EXPECT_EQ(tls.tcp_routes(0).name(), "default/nginx/tls.0.0");
  // other.example.com is no passthrough server's host; the second match block has nothing left.
  ASSERT_EQ(tls.tcp_routes(0).sni_hosts_size(), 1);
  EXPECT_EQ(tls.tcp_routes(0).sni_hosts(0), "nginx.pass.example.com");
  EXPECT_EQ(tls.tcp_routes(0).clusters(0).cluster(), "outbound|8000||httpbin.default.svc.cluster.local");
  EXPECT_EQ(tls.tcp_routes(0).clusters(0).weight(), 100u);
  // The rule for another Gateway is not here; the wildcard one is, with its weights.
  EXPECT_EQ(tls.tcp_routes(1).name(), "default/nginx/tls.2.0");
  EXPECT_EQ(tls.tcp_routes(1).sni_hosts(0), "*.pass.example.com");
  ASSERT_EQ(tls.tcp_routes(1).clusters_size(), 2);
  EXPECT_EQ(tls.tcp_routes(1).clusters(1).cluster(), "outbound|8000|v2|httpbin.default.svc.cluster.local");
  EXPECT_EQ(tls.tcp_routes(1).clusters(1).weight(), 20u);
  // No http[] routes come from passthrough servers.
  // (and tcp-echo's VirtualService, whose hosts the HTTPS server admits, has no http[]: it
  // claims no domain there).
  EXPECT_EQ(b.resources[kRouteConfigurationType].at("istio-system/gw/http.443").route_configuration().virtual_hosts_size(), 0);

  const auto& passOnly = b.resources[kListenerType].at("istio-system/gw/8443").listener();
  EXPECT_EQ(passOnly.protocol(), weft::v1::Listener::TLS);
  EXPECT_EQ(passOnly.tls_servers_size(), 0);
  // The `port: 443` match blocks are not this port's; the portless one is.
  ASSERT_EQ(passOnly.tcp_routes_size(), 1);
  EXPECT_EQ(passOnly.tcp_routes(0).name(), "default/nginx/tls.2.0");
  EXPECT_EQ(passOnly.tcp_routes(0).sni_hosts(0), "nginx.pass.example.com");  // the narrower of the two

  const auto& tcp = b.resources[kListenerType].at("istio-system/gw/31400").listener();
  EXPECT_EQ(tcp.protocol(), weft::v1::Listener::TCP);
  ASSERT_EQ(tcp.tcp_routes_size(), 2);
  EXPECT_EQ(tcp.tcp_routes(0).name(), "default/tcp-echo/tcp.1");
  EXPECT_EQ(tcp.tcp_routes(0).sni_hosts_size(), 0);
  EXPECT_EQ(tcp.tcp_routes(0).clusters(0).weight(), 90u);
  EXPECT_TRUE(tcp.tcp_routes(0).sources().empty()) << "at every gateway pod";
  // sourceLabels at a Gateway: the gateway's own pods are the source; the proxy keeps it
  // when its labels match.
  EXPECT_EQ(tcp.tcp_routes(1).name(), "default/tcp-echo/tcp.2");
  ASSERT_EQ(tcp.tcp_routes(1).sources_size(), 1);
  EXPECT_EQ(tcp.tcp_routes(1).sources(0).labels().at("app"), "x");

  // TLS with SIMPLE: terminated, then relayed by the tcp[] rule for its port.
  const auto& terminated = b.resources[kListenerType].at("istio-system/gw/9443").listener();
  EXPECT_EQ(terminated.protocol(), weft::v1::Listener::HTTPS);
  EXPECT_TRUE(terminated.tcp_routes().empty());
  ASSERT_EQ(terminated.tls_servers_size(), 1);
  const auto& server = terminated.tls_servers(0);
  EXPECT_TRUE(server.terminate_tcp());
  EXPECT_EQ(server.credential_name(), "a-credential");
  ASSERT_EQ(server.tcp_routes_size(), 1);
  EXPECT_EQ(server.tcp_routes(0).name(), "default/tcp-echo/tcp.3");
  EXPECT_EQ(server.tcp_routes(0).clusters(0).cluster(), "outbound|8000|v1|httpbin.default.svc.cluster.local");
  EXPECT_FALSE(tls.tls_servers(0).terminate_tcp()) << "an HTTPS server stays HTTP";
  EXPECT_TRUE(tls.tls_servers(0).tcp_routes().empty());
  EXPECT_TRUE(b.resources[kRouteConfigurationType].at("istio-system/gw/http.9443").route_configuration().virtual_hosts().empty());
  auto noted = [&](const std::string& text) {
    return std::any_of(b.notes.begin(), b.notes.end(), [&](const std::string& n) { return n.find(text) != std::string::npos; });
  };

  EXPECT_TRUE(noted("server on port 31400 has protocol TLS, but the port already serves TCP: left out"));
}

}  // namespace
}  // namespace weft::control

namespace weft::control {
namespace {

TEST(ProxyView, IstioMutualServersNameNoSecretAndTakeOnlySubjectAltNames) {
  ObjectsByKind objects;
  decodeInto(objects, kHttpbin);
  decodeInto(objects, R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https-mesh, protocol: HTTPS}
    tls:
      mode: ISTIO_MUTUAL
      subjectAltNames: [spiffe://cluster.local/ns/default/sa/sleep]
      verifyCertificateSpki: [c29tZS1waW4=]
      minProtocolVersion: TLSV1_3
      cipherSuites: [ECDHE-RSA-AES128-GCM-SHA256]
    hosts: [mesh.internal]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: mesh, namespace: default}
spec:
  hosts: [mesh.internal]
  gateways: [istio-system/gw]
  http: [{route: [{destination: {host: httpbin}}]}]
)");
  auto b = build(objects);
  const auto& listener = b.resources[kListenerType].at("istio-system/gw/443").listener();
  EXPECT_EQ(listener.protocol(), weft::v1::Listener::HTTPS);
  ASSERT_EQ(listener.tls_servers_size(), 1);
  const auto& server = listener.tls_servers(0);
  EXPECT_EQ(server.mode(), weft::v1::TlsServer::ISTIO_MUTUAL);
  EXPECT_TRUE(server.credential_name().empty());
  EXPECT_TRUE(server.credential_version().empty());
  ASSERT_EQ(server.subject_alt_names_size(), 1);
  EXPECT_EQ(server.subject_alt_names(0), "spiffe://cluster.local/ns/default/sa/sleep");
  // As Istio builds it: versions, cipher suites and pins are SIMPLE and MUTUAL settings.
  EXPECT_EQ(server.verify_certificate_spki_size(), 0);
  EXPECT_TRUE(server.min_protocol_version().empty());
  EXPECT_EQ(server.cipher_suites_size(), 0);
  ASSERT_EQ(server.hosts_size(), 1);
  EXPECT_EQ(server.hosts(0), "mesh.internal");
  EXPECT_EQ(b.resources[kRouteConfigurationType].at("istio-system/gw/http.443").route_configuration().virtual_hosts_size(), 1);
  for (const auto& note : b.notes) {
    EXPECT_EQ(note.find("port 443"), std::string::npos) << "nothing is said of the server: " << note;
  }
}

}  // namespace
}  // namespace weft::control
