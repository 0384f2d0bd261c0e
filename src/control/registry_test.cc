#include "control/registry.h"

#include <fmt/format.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

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

const char* kCluster = R"(
apiVersion: v1
kind: Namespace
metadata: {name: default, labels: {istio.io/rev: prod}}
---
apiVersion: v1
kind: Namespace
metadata: {name: legacy}
---
apiVersion: v1
kind: Service
metadata: {name: httpbin, namespace: default}
spec:
  clusterIP: 198.19.0.20
  selector: {app: httpbin}
  ports: [{name: http, port: 8000, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata:
  name: httpbin-7c9b-abcde
  namespace: default
  labels: {app: httpbin, version: v1, pod-template-hash: 7c9b}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: httpbin-7c9b, uid: x, controller: true}]
spec:
  nodeName: c-worker
  serviceAccountName: httpbin
  containers: [{name: httpbin, image: x}]
status:
  podIP: 198.18.2.2
  conditions: [{type: Ready, status: "True"}]
---
apiVersion: v1
kind: Pod
metadata: {name: old, namespace: legacy, labels: {app: old}}
spec: {nodeName: c-worker, containers: [{name: c, image: x}]}
status: {podIP: 198.18.2.3}
---
apiVersion: v1
kind: Pod
metadata: {name: optout, namespace: default, labels: {istio.io/dataplane-mode: none}}
spec: {nodeName: c-worker, containers: [{name: c, image: x}]}
status: {podIP: 198.18.2.4}
)";

RegistrySettings settings() {
  RegistrySettings s;
  s.revision = "prod";
  s.mesh.set_trust_domain("acmellc.local");
  s.mesh.set_root_namespace("istio-system");
  s.mesh.set_outbound_traffic_policy("REGISTRY_ONLY");
  return s;
}

TEST(Registry, WorkloadsCarryIdentityServiceAndEnrolment) {
  auto build = buildRegistry(objectsFrom(kCluster), settings());
  const auto& workloads = build.resources[kWorkloadType];
  ASSERT_EQ(workloads.size(), 3u);
  const auto& w = workloads.at("Kubernetes//Pod/default/httpbin-7c9b-abcde").workload();
  EXPECT_EQ(w.service_account(), "httpbin");
  EXPECT_EQ(w.workload_name(), "httpbin");
  EXPECT_EQ(w.canonical_name(), "httpbin");
  EXPECT_EQ(w.canonical_revision(), "v1");
  EXPECT_EQ(w.tunnel_protocol(), weft::v1::Workload::HBONE);
  EXPECT_EQ(w.trust_domain(), "acmellc.local");
  EXPECT_TRUE(w.healthy());
  ASSERT_EQ(w.services().count("default/httpbin.default.svc.cluster.local"), 1u);
  EXPECT_EQ(w.services().at("default/httpbin.default.svc.cluster.local").ports(0).target_port(), 8080u);
  EXPECT_EQ(workloads.at("Kubernetes//Pod/legacy/old").workload().tunnel_protocol(), weft::v1::Workload::TCP);
  EXPECT_EQ(workloads.at("Kubernetes//Pod/default/optout").workload().tunnel_protocol(), weft::v1::Workload::TCP);
  EXPECT_EQ(build.enrolledWorkloads, 1u);
  ASSERT_EQ(build.placements.size(), 1u);
  EXPECT_EQ(build.placements[0].node, "c-worker");
}

TEST(Registry, OtherRevisionsDoNotEnrol) {
  auto s = settings();
  s.revision = "canary";
  auto build = buildRegistry(objectsFrom(kCluster), s);
  EXPECT_EQ(build.enrolledWorkloads, 0u);
}

TEST(Registry, ServicesAndServiceEntries) {
  auto objects = objectsFrom(std::string(kCluster) + R"(
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: external, namespace: default}
spec:
  hosts: [api.example.com]
  ports: [{number: 443, name: tls, protocol: TLS}]
  resolution: DNS
)");
  auto build = buildRegistry(objects, settings());
  const auto& services = build.resources[kServiceType];
  const auto& httpbin = services.at("default/httpbin.default.svc.cluster.local").service();
  EXPECT_EQ(httpbin.addresses(0), "198.19.0.20");
  EXPECT_EQ(httpbin.ports(0).protocol(), "HTTP");
  const auto& external = services.at("default/api.example.com").service();
  EXPECT_TRUE(external.from_service_entry());
  EXPECT_EQ(external.resolution(), "DNS");
  EXPECT_EQ(build.resources[kMeshConfigType].at("mesh").mesh_config().outbound_traffic_policy(), "REGISTRY_ONLY");
}

TEST(Registry, WaypointsFromNamespaceOrService) {
  auto objects = objectsFrom(R"(
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint}}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: shop}
spec: {containers: [{name: c, image: x}]}
status: {podIP: 198.18.1.9}
)");
  auto build = buildRegistry(objects, settings());
  EXPECT_EQ(build.resources[kWorkloadType].at("Kubernetes//Pod/shop/p").workload().waypoint(), "shop/waypoint");
}

TEST(Registry, AWaypointsOwnServiceNeverUsesAWaypoint) {
  auto objects = objectsFrom(R"(
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint}}
---
apiVersion: v1
kind: Service
metadata: {name: waypoint, namespace: shop, labels: {gateway.istio.io/managed: istio.io-mesh-controller}}
spec: {clusterIP: 198.19.0.40, ports: [{port: 15008, name: mesh}]}
---
apiVersion: v1
kind: Service
metadata: {name: orders, namespace: shop}
spec: {clusterIP: 198.19.0.41, ports: [{port: 80, name: http}]}
)");
  auto build = buildRegistry(objects, settings());
  const auto& services = build.resources[kServiceType];
  EXPECT_EQ(services.at("shop/waypoint.shop.svc.cluster.local").service().waypoint(), "");
  EXPECT_EQ(services.at("shop/orders.shop.svc.cluster.local").service().waypoint(), "shop/waypoint");
}

TEST(Registry, AWaypointPodMayGetItsCertificateThoughNotEnrolled) {
  auto objects = objectsFrom(R"(
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: v1
kind: Pod
metadata: {name: waypoint-1, namespace: shop, labels: {gateway.networking.k8s.io/gateway-name: waypoint, istio.io/dataplane-mode: none}}
spec: {nodeName: c-worker, serviceAccountName: waypoint, containers: [{name: c, image: x}]}
status: {podIP: 198.18.1.9}
---
apiVersion: v1
kind: Pod
metadata: {name: opted-out, namespace: shop, labels: {istio.io/dataplane-mode: none}}
spec: {nodeName: c-worker, serviceAccountName: other, containers: [{name: c, image: x}]}
status: {podIP: 198.18.1.10}
)");
  auto build = buildRegistry(objects, settings());
  EXPECT_EQ(build.enrolledWorkloads, 0u);
  ASSERT_EQ(build.placements.size(), 1u);
  EXPECT_EQ(build.placements[0].serviceAccount, "waypoint");
  EXPECT_EQ(build.placements[0].node, "c-worker");
}

TEST(Registry, AnIngressGatewayPodMayGetItsCertificateToo) {
  auto objects = objectsFrom(R"(
apiVersion: v1
kind: Pod
metadata: {name: global-ingress-1, namespace: istio-system, labels: {istio: ingressgateway, istio.io/dataplane-mode: none}}
spec: {nodeName: c-worker, serviceAccountName: global-ingress-service-account, containers: [{name: istio-proxy, image: "docker.io/weft/proxy:0.1.0"}]}
status: {podIP: 198.18.1.11}
---
apiVersion: v1
kind: Pod
metadata: {name: lookalike, namespace: istio-system}
spec: {nodeName: c-worker, serviceAccountName: other, containers: [{name: c, image: "docker.io/weft/proxy-tools:1"}]}
status: {podIP: 198.18.1.12}
)");
  auto build = buildRegistry(objects, settings());
  ASSERT_EQ(build.placements.size(), 1u);
  EXPECT_EQ(build.placements[0].ns, "istio-system");
  EXPECT_EQ(build.placements[0].serviceAccount, "global-ingress-service-account");
}

TEST(Registry, SameObjectsSameResources) {
  auto a = buildRegistry(objectsFrom(kCluster), settings());
  auto b = buildRegistry(objectsFrom(kCluster), settings());
  for (const auto& [type, resources] : a.resources) {
    for (const auto& [name, resource] : resources) {
      // Map fields serialize in any order; compare as messages.
      EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(resource, b.resources[type][name])) << name;
    }
  }
}

TEST(Registry, TheMeshConfigMapIsReadLiveButTheTrustDomainWaitsForARestart) {
  auto s = settings();
  s.revision = "prod";
  auto objects = objectsFrom(R"(
apiVersion: v1
kind: ConfigMap
metadata: {name: istio-prod, namespace: istio-system}
data:
  mesh: |
    accessLogFile: /dev/stdout
    accessLogEncoding: JSON
    trustDomain: elsewhere.local
)");
  auto build = buildRegistry(objects, s);
  const auto& mesh = build.resources.at(kMeshConfigType).at("mesh").mesh_config();
  EXPECT_EQ(mesh.access_log_file(), "/dev/stdout");
  EXPECT_EQ(mesh.access_log_encoding(), "JSON");
  EXPECT_EQ(mesh.trust_domain(), s.mesh.trust_domain());
  ASSERT_FALSE(build.notes.empty());
  EXPECT_NE(build.notes.back().find("takes effect when weftd restarts"), std::string::npos);

  auto broken = objectsFrom(R"(
apiVersion: v1
kind: ConfigMap
metadata: {name: istio-prod, namespace: istio-system}
data:
  mesh: |
    accessLogEncoding: XML
)");
  auto kept = buildRegistry(broken, s);
  EXPECT_EQ(kept.resources.at(kMeshConfigType).at("mesh").mesh_config().access_log_encoding(), s.mesh.access_log_encoding());
  EXPECT_NE(kept.notes.back().find("the previous mesh config stays"), std::string::npos);
}

TEST(Registry, TheLiveMeshConfigDecidesWhichKubernetesIngressesAreServed) {
  auto s = settings();
  s.revision = "prod";
  const std::string ingress = R"(
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: classless, namespace: default}
spec:
  rules: [{host: b.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
)";
  auto withMode = [&](const std::string& mode) {
    return buildRegistry(objectsFrom(ingress + fmt::format(R"(
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: istio-prod, namespace: istio-system}}
data:
  mesh: |
    ingressControllerMode: {}
    ingressSelector: edge
)", mode)), s);
  };
  auto served = [](const RegistryBuild& build) {
    auto listeners = build.resources.find(kListenerType);
    if (listeners == build.resources.end()) return std::string();
    for (const auto& [name, resource] : listeners->second) {
      if (name.find("classless-istio-autogenerated-k8s-ingress-default") == std::string::npos) continue;
      auto selector = resource.listener().selector().find("istio");
      return selector == resource.listener().selector().end() ? std::string("(no istio label)") : selector->second;
    }
    return std::string();
  };
  EXPECT_EQ(served(withMode("DEFAULT")), "edge") << "served, for the pods the mesh's ingressSelector names";
  EXPECT_EQ(served(withMode("STRICT")), "");
  auto refused = withMode("Default");
  EXPECT_EQ(served(refused), "") << "a bad mode keeps the previous mesh config (Istio's default, STRICT)";
  ASSERT_FALSE(refused.notes.empty());
  EXPECT_NE(refused.notes.front().find("ingressControllerMode: must be OFF, DEFAULT, STRICT or UNSPECIFIED"), std::string::npos);
}

TEST(Registry, DnsRefreshRateReachesTheProxiesAndABadOneKeepsThePreviousMeshConfig) {
  auto s = settings();
  auto withRate = [&](const std::string& rate) {
    return buildRegistry(objectsFrom(fmt::format(R"(
apiVersion: v1
kind: ConfigMap
metadata: {{name: istio-prod, namespace: istio-system}}
data:
  mesh: |
    dnsRefreshRate: {}
)", rate)), s);
  };
  EXPECT_EQ(withRate("1.5s").resources.at(kMeshConfigType).at("mesh").mesh_config().dns_refresh_ms(), 1500u);
  for (std::string bad : {"0s", "-1s", "fast", "48h"}) {
    auto kept = withRate(bad);
    EXPECT_EQ(kept.resources.at(kMeshConfigType).at("mesh").mesh_config().dns_refresh_ms(), 0u) << bad;
    ASSERT_FALSE(kept.notes.empty()) << bad;
    EXPECT_NE(kept.notes.back().find("dnsRefreshRate: must be a duration from 1ms to 24h"), std::string::npos) << kept.notes.back();
  }
}

}  // namespace
}  // namespace weft::control

namespace weft::control {
namespace {

TEST(Registry, RequestAuthenticationKeysComeFromWhatWeftdFetched) {
  auto objects = objectsFrom(R"(
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: istio-system}
spec:
  jwtRules: [{issuer: https://idp.example, jwksUri: https://idp.example/keys}]
)");
  auto before = buildRegistry(objects, settings());
  ASSERT_EQ(before.jwksSources.size(), 1u) << "weftd is told what to fetch";
  EXPECT_EQ(before.jwksSources[0].jwksUri, "https://idp.example/keys");
  EXPECT_EQ(before.resources[kJwtAuthenticationType].at("istio-system/jwt").jwt_authentication().rules(0).jwks(), "");
  auto fetched = settings();
  fetched.jwks["https://idp.example/keys"] = {R"({"keys":[]})", ""};
  auto after = buildRegistry(objects, fetched);
  EXPECT_EQ(after.resources[kJwtAuthenticationType].at("istio-system/jwt").jwt_authentication().rules(0).jwks(), R"({"keys":[]})");
}

}  // namespace
}  // namespace weft::control
