// The Gateway API status weftd writes: each route's parents[] (Accepted and ResolvedRefs,
// with the reason for each way a route fails to attach or resolve) and each listener's
// status on a Gateway, computed from the same attachment rules and listener problems the
// proxy view compiles by; entries of other controllers and revisions are kept, and a pass
// over its own writes plans nothing.
#include "control/gateway_api_status.h"

#include <boost/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "control/gateway_deployer.h"
#include "model/decoder.h"
#include "model/json_access.h"

namespace weft::control {
namespace {

namespace json = boost::json;
using model::arrayAt;
using model::at;
using model::intAt;
using model::stringAt;

constexpr const char* kNow = "2026-01-01T00:00:00Z";

void decodeInto(ObjectsByKind& out, const std::string& yaml) {
  auto decoded = model::decodeYaml(yaml, "test.yaml", {"", false});
  for (const auto& e : decoded.errors) ADD_FAILURE() << e;
  for (auto& o : decoded.objects) out[o.key().kind].push_back(std::move(o));
}

const char* kBase = R"(
apiVersion: v1
kind: Namespace
metadata: {name: apps}
---
apiVersion: v1
kind: Namespace
metadata: {name: team, labels: {gateway-access: "yes"}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: apps}
spec:
  ports: [{name: http, port: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: team}
spec:
  ports: [{name: http, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: apps, generation: 3}
spec:
  gatewayClassName: istio
  listeners:
  - {name: http, port: 80, protocol: HTTP, hostname: "*.example.com"}
  - name: shared
    port: 8000
    protocol: HTTP
    allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {gateway-access: "yes"}}}}
)";

// The plan weftd makes for `yaml` on top of kBase, with the listener problems the
// registry's Gateway API view found.
GatewayDeploymentPlan planFor(ObjectsByKind& objects, const std::string& yaml, const std::string& revision = "default") {
  decodeInto(objects, kBase);
  decodeInto(objects, yaml);
  auto build = buildRegistry(objects, RegistrySettings{revision, "Kubernetes", {}, {}});
  return planGatewayDeployment(objects, revision, "0.1.0", kNow, build.gatewayApiProblems);
}

const json::value* statusOf(const GatewayDeploymentPlan& plan, const std::string& kind, const std::string& name) {
  for (const auto& s : plan.statuses) {
    if (s.object.kind.rfind(kind + ".", 0) == 0 && s.object.name == name) return &s.status;
  }
  return nullptr;
}

// "<type>=<status>/<reason>" for every condition of `entry`.
std::vector<std::string> conditions(const json::value& entry) {
  std::vector<std::string> out;
  for (const auto& c : arrayAt(entry, {"conditions"})) {
    out.push_back(stringAt(c, {"type"}) + "=" + stringAt(c, {"status"}) + "/" + stringAt(c, {"reason"}));
  }
  return out;
}

std::string message(const json::value& entry, const std::string& type) {
  for (const auto& c : arrayAt(entry, {"conditions"})) {
    if (stringAt(c, {"type"}) == type) return stringAt(c, {"message"});
  }
  return "";
}

const json::value& listenerNamed(const json::value& gatewayStatus, const std::string& name) {
  for (const auto& l : arrayAt(gatewayStatus, {"listeners"})) {
    if (stringAt(l, {"name"}) == name) return l;
  }
  static const json::value none;
  ADD_FAILURE() << "no listener status " << name;
  return none;
}

// The plan's writes laid over the objects, as the store would hold them.
void applied(ObjectsByKind& objects, const GatewayDeploymentPlan& plan) {
  for (const auto& s : plan.statuses) {
    for (auto& o : objects[s.object.kind]) {
      if (o.ns() == s.object.ns && o.name() == s.object.name) o.mutableValue().as_object()["status"] = s.status;
    }
  }
}

TEST(GatewayApiStatus, AnAttachedRouteIsAcceptedWithItsReferencesResolvedAndCountedOnItsListener) {
  ObjectsByKind objects;
  auto plan = planFor(objects, R"(
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: apps, generation: 5}
spec:
  parentRefs: [{name: edge}]
  hostnames: [shop.example.com]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
)");
  const auto* route = statusOf(plan, "HTTPRoute", "web");
  ASSERT_NE(route, nullptr);
  const auto& parents = arrayAt(*route, {"parents"});
  ASSERT_EQ(parents.size(), 1u);
  EXPECT_EQ(at(parents[0], {"parentRef"}), json::parse(R"({"group":"gateway.networking.k8s.io","kind":"Gateway","name":"edge"})"));
  EXPECT_EQ(stringAt(parents[0], {"controllerName"}), "istio.io/gateway-controller");
  EXPECT_THAT(conditions(parents[0]), testing::ElementsAre("Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs"));
  EXPECT_EQ(message(parents[0], "Accepted"), "Route was valid");
  EXPECT_EQ(intAt(arrayAt(parents[0], {"conditions"})[0], {"observedGeneration"}), 5);
  EXPECT_EQ(stringAt(arrayAt(parents[0], {"conditions"})[0], {"lastTransitionTime"}), kNow);

  const auto* gateway = statusOf(plan, "Gateway", "edge");
  ASSERT_NE(gateway, nullptr);
  const auto& http = listenerNamed(*gateway, "http");
  EXPECT_EQ(intAt(http, {"attachedRoutes"}), 1);
  EXPECT_EQ(at(http, {"supportedKinds"}),
            json::parse(R"([{"group":"gateway.networking.k8s.io","kind":"HTTPRoute"},{"group":"gateway.networking.k8s.io","kind":"GRPCRoute"}])"));
  EXPECT_THAT(conditions(http), testing::ElementsAre("Accepted=True/Accepted", "Conflicted=False/NoConflicts", "ResolvedRefs=True/ResolvedRefs",
                                                     "Programmed=True/Programmed"));
  EXPECT_EQ(intAt(arrayAt(http, {"conditions"})[0], {"observedGeneration"}), 3);
  // The shared listener takes routes only from labelled namespaces.
  EXPECT_EQ(intAt(listenerNamed(*gateway, "shared"), {"attachedRoutes"}), 0);
}

TEST(GatewayApiStatus, EachWayARouteFailsToAttachHasItsReason) {
  ObjectsByKind objects;
  auto plan = planFor(objects, R"(
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: other-host, namespace: apps}
spec:
  parentRefs: [{name: edge, sectionName: http}]
  hostnames: [shop.example.org]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: no-listener, namespace: apps}
spec:
  parentRefs: [{name: edge, sectionName: https, port: 80}, {name: edge, sectionName: http, port: 9999}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: no-gateway, namespace: apps}
spec:
  parentRefs: [{name: edgy}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: foreign, namespace: default}
spec:
  parentRefs: [{name: edge, namespace: apps}]
  rules: [{backendRefs: [{name: web, namespace: apps, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: selected, namespace: team}
spec:
  parentRefs: [{name: edge, namespace: apps, sectionName: shared}]
  rules: [{backendRefs: [{name: api, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: tcp, namespace: apps}
spec:
  parentRefs: [{name: edge}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
)");
  auto parent = [&](const std::string& route, size_t i = 0) -> const json::value& {
    const auto* s = statusOf(plan, route == "tcp" ? "TCPRoute" : "HTTPRoute", route);
    static const json::value none;
    if (s == nullptr || arrayAt(*s, {"parents"}).size() <= i) {
      ADD_FAILURE() << "no parents[" << i << "] on " << route;
      return none;
    }
    return arrayAt(*s, {"parents"})[i];
  };
  EXPECT_THAT(conditions(parent("other-host")), testing::Contains("Accepted=False/NoMatchingListenerHostname"));
  EXPECT_THAT(message(parent("other-host"), "Accepted"), testing::HasSubstr("*.example.com"));
  EXPECT_THAT(conditions(parent("no-listener")), testing::Contains("Accepted=False/NoMatchingParent"));
  // Entries are ordered by parentRef (group, kind, namespace, name, sectionName, port).
  EXPECT_THAT(message(parent("no-listener"), "Accepted"), testing::HasSubstr("no listener http on port 9999"));
  EXPECT_THAT(message(parent("no-listener", 1), "Accepted"), testing::HasSubstr("no listener https on port 80"));
  EXPECT_THAT(conditions(parent("no-gateway")), testing::Contains("Accepted=False/NoMatchingParent"));
  EXPECT_THAT(message(parent("no-gateway"), "Accepted"), testing::HasSubstr("Gateway apps/edgy does not exist"));
  // From another namespace: the listeners allow only their own (http) or labelled ones
  // (shared); its backend in apps has no ReferenceGrant.
  EXPECT_THAT(conditions(parent("foreign")), testing::ElementsAre("Accepted=False/NotAllowedByListeners", "ResolvedRefs=False/RefNotPermitted"));
  EXPECT_THAT(conditions(parent("selected")), testing::ElementsAre("Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs"));
  // A TCPRoute on a Gateway of HTTP listeners.
  EXPECT_THAT(conditions(parent("tcp")), testing::Contains("Accepted=False/NotAllowedByListeners"));

  const auto* gateway = statusOf(plan, "Gateway", "edge");
  ASSERT_NE(gateway, nullptr);
  // Counted by parentRefs and allowedRoutes alone (the spec's attachment): other-host is
  // attached to http though no hostname meets; foreign is not allowed there.
  EXPECT_EQ(intAt(listenerNamed(*gateway, "http"), {"attachedRoutes"}), 1);
  EXPECT_EQ(intAt(listenerNamed(*gateway, "shared"), {"attachedRoutes"}), 1);
}

TEST(GatewayApiStatus, BackendsThatDoNotResolveSayWhy) {
  ObjectsByKind objects;
  auto plan = planFor(objects, R"(
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: missing, namespace: apps}
spec:
  parentRefs: [{name: edge}]
  rules: [{backendRefs: [{name: web, port: 8080}, {name: gone, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: kind, namespace: apps}
spec:
  parentRefs: [{name: edge}]
  rules: [{backendRefs: [{group: networking.istio.io, kind: ServiceEntry, name: web}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: mirror, namespace: apps}
spec:
  parentRefs: [{name: edge}]
  rules:
  - backendRefs: [{name: web, port: 8080}]
    filters: [{type: RequestMirror, requestMirror: {backendRef: {name: shadow, port: 80}}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: granted, namespace: apps}
spec:
  parentRefs: [{name: edge}]
  rules: [{backendRefs: [{name: api, namespace: team, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: from-apps, namespace: team}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: apps}]
  to: [{group: "", kind: Service}]
)");
  auto first = [&](const std::string& route) { return arrayAt(*statusOf(plan, "HTTPRoute", route), {"parents"})[0]; };
  EXPECT_THAT(conditions(first("missing")), testing::ElementsAre("Accepted=True/Accepted", "ResolvedRefs=False/BackendNotFound"));
  EXPECT_THAT(message(first("missing"), "ResolvedRefs"), testing::HasSubstr("Service apps/gone does not exist"));
  EXPECT_THAT(conditions(first("kind")), testing::ElementsAre("Accepted=True/Accepted", "ResolvedRefs=False/InvalidKind"));
  EXPECT_THAT(conditions(first("mirror")), testing::ElementsAre("Accepted=True/Accepted", "ResolvedRefs=False/BackendNotFound"));
  EXPECT_THAT(conditions(first("granted")), testing::ElementsAre("Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs"));
}

TEST(GatewayApiStatus, ListenersTheViewLeavesOutSayWhyAndTakeNoRoutes) {
  ObjectsByKind objects;
  auto plan = planFor(objects, R"(
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: broken, namespace: apps}
spec:
  gatewayClassName: istio
  listeners:
  - {name: plain, port: 80, protocol: HTTP}
  - {name: tls-clash, port: 80, protocol: TLS, tls: {mode: Passthrough}}
  - {name: https-clash, port: 80, protocol: HTTPS, tls: {certificateRefs: [{name: absent}]}}
  - {name: nocert, port: 443, protocol: HTTPS}
  - {name: hbone, port: 15008, protocol: HBONE}
  - {name: nosecret, port: 8443, protocol: HTTPS, tls: {certificateRefs: [{name: absent}]}}
  - name: kinds
    port: 81
    protocol: HTTP
    allowedRoutes: {kinds: [{kind: HTTPRoute}, {kind: TCPRoute}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: to-nocert, namespace: apps}
spec:
  parentRefs: [{name: broken, sectionName: nocert}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: to-nosecret, namespace: apps}
spec:
  parentRefs: [{name: broken, sectionName: nosecret}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
)");
  const auto* gateway = statusOf(plan, "Gateway", "broken");
  ASSERT_NE(gateway, nullptr);
  EXPECT_THAT(conditions(listenerNamed(*gateway, "plain")), testing::Contains("Programmed=True/Programmed"));
  EXPECT_THAT(conditions(listenerNamed(*gateway, "tls-clash")),
              testing::ElementsAre("Accepted=True/Accepted", "Conflicted=True/ProtocolConflict", "ResolvedRefs=True/ResolvedRefs", "Programmed=False/Invalid"));
  EXPECT_THAT(conditions(listenerNamed(*gateway, "https-clash")), testing::Contains("Conflicted=True/ProtocolConflict"));
  EXPECT_THAT(conditions(listenerNamed(*gateway, "nocert")), testing::Contains("ResolvedRefs=False/InvalidCertificateRef"));
  // Some listeners invalid, some not: accepted, saying which.
  EXPECT_THAT(conditions(*gateway), testing::Contains("Accepted=True/ListenersNotValid"));
  EXPECT_THAT(message(*gateway, "Accepted"), testing::HasSubstr("tls-clash"));
  EXPECT_THAT(conditions(listenerNamed(*gateway, "hbone")), testing::Contains("Accepted=False/UnsupportedProtocol"));
  EXPECT_EQ(at(listenerNamed(*gateway, "hbone"), {"supportedKinds"}), json::array{});
  // A Secret that does not exist (yet): the listener is served, its status says what is missing.
  EXPECT_THAT(conditions(listenerNamed(*gateway, "nosecret")),
              testing::ElementsAre("Accepted=True/Accepted", "Conflicted=False/NoConflicts", "ResolvedRefs=False/InvalidCertificateRef", "Programmed=False/Invalid"));
  EXPECT_THAT(message(listenerNamed(*gateway, "nosecret"), "ResolvedRefs"), testing::HasSubstr("Secret apps/absent does not exist"));
  EXPECT_EQ(intAt(listenerNamed(*gateway, "nosecret"), {"attachedRoutes"}), 1);
  const auto& kinds = listenerNamed(*gateway, "kinds");
  EXPECT_THAT(conditions(kinds), testing::Contains("ResolvedRefs=False/InvalidRouteKinds"));
  EXPECT_EQ(at(kinds, {"supportedKinds"}), json::parse(R"([{"group":"gateway.networking.k8s.io","kind":"HTTPRoute"}])"));
  // Counted though the listener is left out (the spec counts attachment by parentRefs and allowedRoutes).
  EXPECT_EQ(intAt(listenerNamed(*gateway, "nocert"), {"attachedRoutes"}), 1);

  const auto& toNocert = arrayAt(*statusOf(plan, "HTTPRoute", "to-nocert"), {"parents"})[0];
  EXPECT_THAT(conditions(toNocert), testing::Contains("Accepted=False/NoMatchingParent"));
  EXPECT_THAT(message(toNocert, "Accepted"), testing::HasSubstr("certificateRefs"));
  EXPECT_THAT(conditions(arrayAt(*statusOf(plan, "HTTPRoute", "to-nosecret"), {"parents"})[0]), testing::Contains("Accepted=True/Accepted"));
}

TEST(GatewayApiStatus, ServiceParentsAreAnsweredForAsMeshRoutes) {
  ObjectsByKind objects;
  auto plan = planFor(objects, R"(
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: mesh, namespace: apps}
spec:
  parentRefs:
  - {group: "", kind: Service, name: web, port: 8080}
  - {group: "", kind: Service, name: web, port: 9090}
  - {group: "", kind: Service, name: nothing}
  - {group: networking.istio.io, kind: ServiceEntry, name: external}
  rules: [{backendRefs: [{name: api, namespace: team, port: 80}]}]
)");
  const auto& parents = arrayAt(*statusOf(plan, "HTTPRoute", "mesh"), {"parents"});
  ASSERT_EQ(parents.size(), 4u);
  // Mesh routes need no ReferenceGrant for another namespace's backend (as in Istio).
  // Ordered by parentRef: nothing, web:8080, web:9090, then the ServiceEntry's group.
  EXPECT_THAT(message(parents[0], "Accepted"), testing::HasSubstr("Service apps/nothing does not exist"));
  EXPECT_THAT(conditions(parents[1]), testing::ElementsAre("Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs"));
  EXPECT_EQ(at(parents[1], {"parentRef"}), json::parse(R"({"group":"","kind":"Service","name":"web","port":8080})"));
  EXPECT_THAT(message(parents[2], "Accepted"), testing::HasSubstr("Service apps/web has no port 9090"));
  EXPECT_THAT(conditions(parents[3]), testing::Contains("Accepted=False/UnsupportedValue"));
}

TEST(GatewayApiStatus, OtherControllersAndRevisionsKeepTheirEntriesAndAPassOverItsOwnWritesPlansNothing) {
  ObjectsByKind objects;
  const char* routes = R"(
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: canary-edge, namespace: apps, labels: {istio.io/rev: canary}}
spec:
  gatewayClassName: istio
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: theirs, namespace: apps}
spec:
  gatewayClassName: other
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: istiod-canary, namespace: istio-system, labels: {app: istiod, istio.io/rev: canary}}
spec:
  selector: {matchLabels: {app: istiod}}
  template: {metadata: {labels: {app: istiod}}, spec: {containers: [{name: discovery, image: weftd}]}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: apps}
spec:
  parentRefs: [{name: edge}, {name: canary-edge}, {name: theirs}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
status:
  parents:
  - controllerName: example.com/other
    parentRef: {group: gateway.networking.k8s.io, kind: Gateway, name: theirs}
    conditions: [{type: Accepted, status: "True", reason: Accepted, message: theirs}]
  - controllerName: istio.io/gateway-controller
    parentRef: {group: gateway.networking.k8s.io, kind: Gateway, name: canary-edge}
    conditions: [{type: Accepted, status: "True", reason: Accepted, message: canary wrote this}]
  - controllerName: istio.io/gateway-controller
    parentRef: {group: gateway.networking.k8s.io, kind: Gateway, name: removed}
    conditions: [{type: Accepted, status: "False", reason: NoMatchingParent, message: stale}]
)";
  auto plan = planFor(objects, routes);
  const auto* status = statusOf(plan, "HTTPRoute", "web");
  ASSERT_NE(status, nullptr);
  std::vector<std::string> shown;
  for (const auto& p : arrayAt(*status, {"parents"})) shown.push_back(stringAt(p, {"parentRef", "name"}) + ":" + message(p, "Accepted"));
  // Kept: the other controller's entry and the canary revision's; dropped: ours for a parent
  // no longer named; added: edge. Nothing for the other class's Gateway from weftd.
  EXPECT_THAT(shown, testing::ElementsAre("canary-edge:canary wrote this", "edge:Route was valid", "theirs:theirs"));
  EXPECT_EQ(statusOf(plan, "Gateway", "canary-edge"), nullptr) << "the canary revision writes its Gateway's status";

  applied(objects, plan);
  auto build = buildRegistry(objects, RegistrySettings{"default", "Kubernetes", {}, {}});
  auto again = planGatewayDeployment(objects, "default", "0.1.0", "2026-02-02T00:00:00Z", build.gatewayApiProblems);
  EXPECT_EQ(statusOf(again, "HTTPRoute", "web"), nullptr) << "a pass over its own writes plans nothing (lastTransitionTime kept)";
  EXPECT_EQ(statusOf(again, "Gateway", "edge"), nullptr);

  // The canary revision answers for its own Gateway's entry, and keeps default's.
  auto canary = planGatewayDeployment(objects, "canary", "0.1.0", kNow, build.gatewayApiProblems);
  const auto* canaryStatus = statusOf(canary, "HTTPRoute", "web");
  ASSERT_NE(canaryStatus, nullptr);
  shown.clear();
  for (const auto& p : arrayAt(*canaryStatus, {"parents"})) shown.push_back(stringAt(p, {"parentRef", "name"}) + ":" + message(p, "Accepted"));
  EXPECT_THAT(shown, testing::ElementsAre("canary-edge:Route was valid", "edge:Route was valid", "theirs:theirs"));

  // Each revision's write leaves the other nothing to do: one order, whoever writes.
  applied(objects, canary);
  EXPECT_EQ(statusOf(planGatewayDeployment(objects, "default", "0.1.0", kNow, build.gatewayApiProblems), "HTTPRoute", "web"), nullptr);
  EXPECT_EQ(statusOf(planGatewayDeployment(objects, "canary", "0.1.0", kNow, build.gatewayApiProblems), "HTTPRoute", "web"), nullptr);
}

TEST(GatewayApiStatus, EntriesNoInstalledRevisionAnswersForAreDropped) {
  ObjectsByKind objects;
  auto plan = planFor(objects, R"(
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: orphan, namespace: apps, labels: {istio.io/rev: gone}}
spec:
  gatewayClassName: istio
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: reclassed, namespace: apps}
spec:
  gatewayClassName: other
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: apps}
spec:
  parentRefs: [{name: edge}, {name: orphan}, {name: reclassed}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
status:
  parents:
  - controllerName: istio.io/gateway-controller
    parentRef: {group: gateway.networking.k8s.io, kind: Gateway, name: orphan}
    conditions: [{type: Accepted, status: "True", reason: Accepted, message: written by a revision since uninstalled}]
  - controllerName: istio.io/gateway-controller
    parentRef: {group: gateway.networking.k8s.io, kind: Gateway, name: reclassed}
    conditions: [{type: Accepted, status: "True", reason: Accepted, message: written before its class changed}]
)");
  const auto* status = statusOf(plan, "HTTPRoute", "web");
  ASSERT_NE(status, nullptr);
  std::vector<std::string> shown;
  for (const auto& p : arrayAt(*status, {"parents"})) shown.push_back(stringAt(p, {"parentRef", "name"}));
  EXPECT_THAT(shown, testing::ElementsAre("edge"));
}

TEST(GatewayApiStatus, L4RoutesOnPassthroughTerminateAndTcpListeners) {
  ObjectsByKind objects;
  auto plan = planFor(objects, R"(
apiVersion: v1
kind: Secret
metadata: {name: cert, namespace: apps}
type: kubernetes.io/tls
data: {tls.crt: "", tls.key: ""}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: l4, namespace: apps}
spec:
  gatewayClassName: istio
  listeners:
  - {name: pass, port: 443, protocol: TLS, hostname: "*.example.com", tls: {mode: Passthrough}}
  - {name: term, port: 8443, protocol: TLS, tls: {mode: Terminate, certificateRefs: [{name: cert}]}}
  - name: tcp
    port: 9000
    protocol: TCP
    allowedRoutes: {namespaces: {from: All}}
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TLSRoute
metadata: {name: a-pass, namespace: apps}
spec:
  parentRefs: [{name: l4, sectionName: pass}]
  hostnames: [db.example.com]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TLSRoute
metadata: {name: b-pass-elsewhere, namespace: apps}
spec:
  parentRefs: [{name: l4, sectionName: pass}]
  hostnames: [db.example.org]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: c-term-first, namespace: apps}
spec:
  parentRefs: [{name: l4, sectionName: term}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: d-term-second, namespace: apps}
spec:
  parentRefs: [{name: l4, sectionName: term}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: e-tcp-from-team, namespace: team}
spec:
  parentRefs: [{name: l4, namespace: apps, sectionName: tcp}]
  rules: [{backendRefs: [{name: api, port: 80}]}]
)");
  auto accepted = [&](const char* kind, const char* name) {
    const auto* s = statusOf(plan, kind, name);
    if (s == nullptr) return std::vector<std::string>{"no status"};
    return conditions(arrayAt(*s, {"parents"})[0]);
  };
  EXPECT_THAT(accepted("TLSRoute", "a-pass"), testing::Contains("Accepted=True/Accepted"));
  EXPECT_THAT(accepted("TLSRoute", "b-pass-elsewhere"), testing::Contains("Accepted=False/NoMatchingListenerHostname"));
  EXPECT_THAT(accepted("TCPRoute", "c-term-first"), testing::Contains("Accepted=True/Accepted"));
  // The terminated listener relays every connection by its first route, as the proxy view compiles it.
  EXPECT_THAT(accepted("TCPRoute", "d-term-second"), testing::Contains("Accepted=False/NotAllowedByListeners"));
  EXPECT_THAT(message(arrayAt(*statusOf(plan, "TCPRoute", "d-term-second"), {"parents"})[0], "Accepted"), testing::HasSubstr("apps/c-term-first"));
  EXPECT_THAT(accepted("TCPRoute", "e-tcp-from-team"), testing::ElementsAre("Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs"));
  const auto* gateway = statusOf(plan, "Gateway", "l4");
  ASSERT_NE(gateway, nullptr);
  EXPECT_EQ(at(listenerNamed(*gateway, "term"), {"supportedKinds"}),
            json::parse(R"([{"group":"gateway.networking.k8s.io","kind":"TLSRoute"},{"group":"gateway.networking.k8s.io","kind":"TCPRoute"}])"));
  EXPECT_EQ(intAt(listenerNamed(*gateway, "term"), {"attachedRoutes"}), 2);
  EXPECT_EQ(intAt(listenerNamed(*gateway, "pass"), {"attachedRoutes"}), 2);
}

TEST(GatewayApiStatus, RulesLeftAnswering500MakeTheRoutePartiallyInvalid) {
  ObjectsByKind objects;
  auto plan = planFor(objects, R"(
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: partly, namespace: apps}
spec:
  parentRefs: [{name: edge}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /old}}]
    filters: [{type: RequestRedirect, requestRedirect: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}}}]
  - backendRefs: [{name: web, port: 8080}]
)");
  const auto& parent = arrayAt(*statusOf(plan, "HTTPRoute", "partly"), {"parents"})[0];
  EXPECT_THAT(conditions(parent), testing::ElementsAre("Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs", "PartiallyInvalid=True/UnsupportedValue"));
  EXPECT_THAT(message(parent, "PartiallyInvalid"), testing::HasSubstr("ReplacePrefixMatch"));
}

TEST(GatewayApiStatus, AWaypointsRulesLeftAnswering500MakeAServiceParentPartiallyInvalid) {
  ObjectsByKind objects;
  auto plan = planFor(objects, R"(
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint}}
---
apiVersion: v1
kind: Service
metadata: {name: hb, namespace: shop}
spec:
  clusterIP: 198.19.0.10
  selector: {app: hb}
  ports: [{name: http, port: 8000}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: partly, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: hb, port: 8000}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /old}}]
    filters: [{type: RequestRedirect, requestRedirect: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}}}]
  - backendRefs: [{name: hb, port: 8000}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: whole, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: hb, port: 8000}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /fine}}]
    backendRefs: [{name: hb, port: 8000}]
)");
  ASSERT_NE(statusOf(plan, "HTTPRoute", "partly"), nullptr);
  ASSERT_NE(statusOf(plan, "HTTPRoute", "whole"), nullptr);
  const auto& parent = arrayAt(*statusOf(plan, "HTTPRoute", "partly"), {"parents"})[0];
  EXPECT_THAT(conditions(parent), testing::ElementsAre("Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs", "PartiallyInvalid=True/UnsupportedValue"));
  EXPECT_THAT(message(parent, "PartiallyInvalid"), testing::HasSubstr("ReplacePrefixMatch"));
  EXPECT_THAT(conditions(arrayAt(*statusOf(plan, "HTTPRoute", "whole"), {"parents"})[0]),
              testing::ElementsAre("Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs"));
}

}  // namespace
}  // namespace weft::control
