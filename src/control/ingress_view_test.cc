// Kubernetes Ingresses as istiod serves them: which are served, the Gateway's servers
// (HTTP for every host, HTTPS per tls entry) and the VirtualServices' routes and order.
#include "control/ingress_view.h"

#include <boost/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "model/decoder.h"
#include "model/json_access.h"

namespace weft::control {
namespace {

namespace json = boost::json;
using model::arrayAt;
using model::at;
using model::stringAt;

ObjectsByKind decode(const std::string& yaml) {
  ObjectsByKind out;
  auto decoded = model::decodeYaml(yaml, "test.yaml", {"", false});
  for (const auto& e : decoded.errors) ADD_FAILURE() << e;
  for (auto& o : decoded.objects) out[o.key().kind].push_back(std::move(o));
  return out;
}

const char* kObjects = R"(
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  ports: [{name: http, port: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: istio}
spec: {controller: istio.io/ingress-controller}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: shop, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  ingressClassName: istio
  defaultBackend: {service: {name: web, port: {number: 8080}}}
  tls: [{hosts: [shop.example.com], secretName: shop-credential}]
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}
      - {path: /api/, pathType: Prefix, backend: {service: {name: web, port: {number: 8080}}}}
      - {path: /health, pathType: Exact, backend: {service: {name: web, port: {number: 8080}}}}
      - {path: /files, pathType: Prefix, backend: {service: {name: web, port: {name: nope}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: classless, namespace: shop}
spec:
  rules:
  - host: other.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 8080}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: nginx-one, namespace: shop}
spec:
  ingressClassName: nginx
  rules: [{host: nginx.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 8080}}}}]}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: annotated, namespace: shop, annotations: {kubernetes.io/ingress.class: traefik}}
spec:
  rules: [{host: traefik.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 8080}}}}]}}]
)";

const model::Object* named(const std::vector<model::Object>& objects, const std::string& name) {
  for (const auto& o : objects) {
    if (o.name() == name) return &o;
  }
  return nullptr;
}

// meshConfig ingressControllerMode DEFAULT: classless Ingresses are served too.
IngressMeshSettings defaultMode() {
  IngressMeshSettings settings;
  settings.mode = IngressMeshSettings::Mode::kDefault;
  return settings;
}

std::vector<std::string> servedNames(const ObjectsByKind& objects, const IngressMeshSettings& settings) {
  std::vector<std::string> out;
  for (const auto& ingress : objectsOf(objects, kIngressKind)) {
    if (servedIngress(objects, ingress, settings)) out.push_back(ingress.name());
  }
  return out;
}

TEST(IngressView, MeshConfigDecidesWhichIngressesAreIstiosAsIstioReadsIt) {
  auto objects = decode(std::string(kObjects) + R"(
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: annotated-istio, namespace: shop, annotations: {kubernetes.io/ingress.class: istio}}
spec:
  rules: [{host: a.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 8080}}}}]}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: unknown-class, namespace: shop}
spec:
  ingressClassName: nowhere
  rules: [{host: b.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 8080}}}}]}}]
)");
  // Istio's default (the empty mesh config): STRICT, class "istio".
  EXPECT_THAT(servedNames(objects, ingressMeshSettings(weft::v1::MeshConfig())), testing::UnorderedElementsAre("shop", "annotated-istio"));
  // DEFAULT adds what names no class (or an IngressClass that does not exist).
  EXPECT_THAT(servedNames(objects, defaultMode()), testing::UnorderedElementsAre("shop", "annotated-istio", "classless", "unknown-class"));
  // OFF: istiod runs no Ingress controller: none, an IngressClass of Istio's controller included.
  weft::v1::MeshConfig off;
  off.set_ingress_controller_mode("OFF");
  EXPECT_THAT(servedNames(objects, ingressMeshSettings(off)), testing::IsEmpty());
  // Another ingressClass: the annotation must name it.
  weft::v1::MeshConfig traefik;
  traefik.set_ingress_class("traefik");
  EXPECT_THAT(servedNames(objects, ingressMeshSettings(traefik)), testing::UnorderedElementsAre("shop", "annotated"));
  weft::v1::MeshConfig unspecified;
  unspecified.set_ingress_controller_mode("UNSPECIFIED");
  EXPECT_THAT(servedNames(objects, ingressMeshSettings(unspecified)), testing::UnorderedElementsAre("shop"));
}

TEST(IngressView, TheAnnotationComesBeforeTheIngressClass) {
  auto objects = decode(std::string(kObjects) + R"(
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: both, namespace: shop, annotations: {kubernetes.io/ingress.class: nginx}}
spec:
  ingressClassName: istio
  rules: [{host: d.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 8080}}}}]}}]
)");
  EXPECT_THAT(servedNames(objects, defaultMode()), testing::Not(testing::Contains("both")));
}

TEST(IngressView, AnIngressServiceOtherThanTheDefaultNamesTheSelectorWhenNoneIsSet) {
  auto objects = decode(kObjects);
  weft::v1::MeshConfig mesh;
  mesh.set_ingress_service("edge-gateway");
  EXPECT_EQ(ingressMeshSettings(mesh).selector, "edge-gateway");
  mesh.set_ingress_selector("edge");
  EXPECT_EQ(ingressMeshSettings(mesh).selector, "edge") << "ingressSelector wins";
  weft::v1::MeshConfig defaults;
  defaults.set_ingress_service("istio-ingressgateway");
  EXPECT_EQ(ingressMeshSettings(defaults).selector, "ingressgateway");
}

TEST(IngressView, TheGeneratedGatewaySelectsTheMeshsIngressSelector) {
  auto objects = decode(kObjects);
  weft::v1::MeshConfig mesh;
  mesh.set_ingress_selector("edge");
  std::vector<std::string> notes;
  auto out = ingressAsIstio(objects, ingressMeshSettings(mesh), notes);
  ASSERT_EQ(out.gateways.size(), 1u) << "STRICT: the classless Ingress is not served";
  EXPECT_EQ(stringAt(out.gateways[0].value(), {"spec", "selector", "istio"}), "edge");
}

TEST(IngressView, ServesIstiosClassAndClasslessIngressesOnly) {
  auto objects = decode(kObjects);
  std::vector<std::string> notes;
  auto out = ingressAsIstio(objects, defaultMode(), notes);
  std::vector<std::string> gateways;
  for (const auto& g : out.gateways) gateways.push_back(g.ns() + "/" + g.name());
  EXPECT_THAT(gateways, testing::UnorderedElementsAre("istio-system/shop-istio-autogenerated-k8s-ingress-shop",
                                                      "istio-system/classless-istio-autogenerated-k8s-ingress-shop"));
  std::vector<std::string> hosts;
  for (const auto& vs : out.virtualServices) hosts.push_back(stringAt(arrayAt(vs.value(), {"spec", "hosts"})[0], {}));
  EXPECT_THAT(hosts, testing::UnorderedElementsAre("shop.example.com", "other.example.com"));
}

TEST(IngressView, TheGatewayHasHttpForEveryHostAndHttpsPerTlsEntry) {
  auto objects = decode(kObjects);
  std::vector<std::string> notes;
  auto out = ingressAsIstio(objects, defaultMode(), notes);
  const auto* gateway = named(out.gateways, "shop-istio-autogenerated-k8s-ingress-shop");
  ASSERT_NE(gateway, nullptr);
  EXPECT_EQ(at(gateway->value(), {"spec", "selector"}), json::parse(R"({"istio":"ingressgateway"})"));
  const auto& servers = arrayAt(gateway->value(), {"spec", "servers"});
  ASSERT_EQ(servers.size(), 2u);
  EXPECT_EQ(model::intAt(servers[0], {"port", "number"}), 80);
  EXPECT_EQ(at(servers[0], {"hosts"}), json::parse(R"(["*"])"));
  EXPECT_EQ(stringAt(servers[1], {"port", "protocol"}), "HTTPS");
  EXPECT_EQ(at(servers[1], {"hosts"}), json::parse(R"(["shop.example.com"])"));
  EXPECT_EQ(at(servers[1], {"tls"}), json::parse(R"({"mode":"SIMPLE","credentialName":"shop-credential"})"));
}

const model::Object* forHost(const std::vector<model::Object>& virtualServices, const std::string& host) {
  for (const auto& vs : virtualServices) {
    if (stringAt(arrayAt(vs.value(), {"spec", "hosts"})[0], {}) == host) return &vs;
  }
  return nullptr;
}

std::vector<std::string> matchesOf(const model::Object& vs) {
  std::vector<std::string> out;
  for (const auto& route : arrayAt(vs.value(), {"spec", "http"})) out.push_back(json::serialize(at(route, {"match"})));
  return out;
}

TEST(IngressView, RoutesAreOrderedExactThenLongerPrefixesAndPrefixesMatchByElement) {
  auto objects = decode(kObjects);
  std::vector<std::string> notes;
  auto out = ingressAsIstio(objects, defaultMode(), notes);
  const auto* vs = forHost(out.virtualServices, "shop.example.com");
  ASSERT_NE(vs, nullptr);
  EXPECT_EQ(at(vs->value(), {"spec", "gateways"}), json::parse(R"(["istio-system/shop-istio-autogenerated-k8s-ingress-shop"])"));
  // Prefix "/" is every path: no match, last.
  EXPECT_THAT(matchesOf(*vs), testing::ElementsAre(R"([{"uri":{"exact":"/health"}}])", R"([{"uri":{"exact":"/api"}},{"uri":{"prefix":"/api/"}}])", "null"));
  // The port by name became the Service's number.
  const auto& last = arrayAt(vs->value(), {"spec", "http"})[2];
  EXPECT_EQ(model::intAt(arrayAt(last, {"route"})[0], {"destination", "port", "number"}), 8080);
  EXPECT_EQ(stringAt(arrayAt(last, {"route"})[0], {"destination", "host"}), "web.shop.svc.cluster.local");
  EXPECT_THAT(notes, testing::Contains(testing::HasSubstr("has no port named \"nope\"")));
  // defaultBackend is left out, as Istio leaves it.
  EXPECT_EQ(forHost(out.virtualServices, "*"), nullptr);
  EXPECT_THAT(notes, testing::Contains(testing::HasSubstr("spec.defaultBackend is not served")));
}

TEST(IngressView, ImplementationSpecificPathsAsIstioReadsThemAndIngressesOfOneHostInCreationOrder) {
  auto objects = decode(R"(
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: older, namespace: a, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  rules:
  - host: "*.example.com"
    http:
      paths:
      - {path: /v1.*, pathType: ImplementationSpecific, backend: {service: {name: web, port: {number: 80}}}}
      - {path: /exact, pathType: ImplementationSpecific, backend: {service: {name: web, port: {number: 80}}}}
      - {path: /*, pathType: ImplementationSpecific, backend: {service: {name: web, port: {number: 80}}}}
      - {path: /files/*, pathType: ImplementationSpecific, backend: {service: {name: web, port: {number: 80}}}}
      - {path: /star*, pathType: ImplementationSpecific, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: older, namespace: b, creationTimestamp: "2026-01-02T00:00:00Z"}
spec:
  rules:
  - host: "*.example.com"
    http:
      paths:
      - {path: /v1/, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
  - host: x.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: empty-annotation, namespace: a, annotations: {kubernetes.io/ingress.class: ""}}
spec:
  rules: [{host: nobody.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
)");
  std::vector<std::string> notes;
  auto out = ingressAsIstio(objects, defaultMode(), notes);
  ASSERT_EQ(out.gateways.size(), 2u) << "one Gateway per Ingress, the namespace in its name";
  EXPECT_NE(out.gateways[0].name(), out.gateways[1].name());
  const auto* wildcard = forHost(out.virtualServices, "*.example.com");
  ASSERT_NE(wildcard, nullptr);
  EXPECT_EQ(at(wildcard->value(), {"spec", "gateways"}).as_array().size(), 2u);
  // Exact, then prefixes longest first (a's "/v1" written ".*" and b's "/v1/" by element), then every path.
  EXPECT_THAT(matchesOf(*wildcard), testing::ElementsAre(R"([{"uri":{"exact":"/exact"}}])", R"([{"uri":{"exact":"/star*"}}])",
                                                         R"([{"uri":{"prefix":"/files"}}])", R"([{"uri":{"exact":"/v1"}},{"uri":{"prefix":"/v1/"}}])",
                                                         R"([{"uri":{"prefix":"/v1"}}])", "null"));
  const auto* x = forHost(out.virtualServices, "x.example.com");
  ASSERT_NE(x, nullptr);
  EXPECT_NE(x->name(), wildcard->name()) << "*.example.com and x.example.com get distinct names";
  EXPECT_EQ(forHost(out.virtualServices, "nobody.example.com"), nullptr) << "an empty class annotation is nobody's";
}

}  // namespace
}  // namespace weft::control
