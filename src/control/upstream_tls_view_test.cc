// DestinationRule tls and ServiceEntry destinations in the proxy view: what weftd gives a
// gateway for Istio's TLS-origination setup (a ServiceEntry host routed from a Gateway,
// with a DestinationRule's tls).
#include <gtest/gtest.h>

#include "control/proxy_view.h"
#include "control/registry.h"
#include "model/decoder.h"

namespace weft::control {
namespace {

void decodeInto(ObjectsByKind& out, const std::string& yaml) {
  auto decoded = model::decodeYaml(yaml, "test.yaml", {"default", false});
  for (const auto& e : decoded.errors) ADD_FAILURE() << e;
  for (auto& o : decoded.objects) out[o.key().kind].push_back(std::move(o));
}

const weft::v1::Cluster* clusterOf(const RegistryBuild& b, const std::string& name) {
  auto types = b.resources.find(kClusterType);
  if (types == b.resources.end() || !types->second.contains(name)) return nullptr;
  return &types->second.at(name).cluster();
}

bool noted(const RegistryBuild& b, const std::string& text) {
  for (const auto& n : b.notes) {
    if (n.find(text) != std::string::npos) return true;
  }
  return false;
}

// A Gateway routing secure.example.com (a ServiceEntry) and a DestinationRule `rule`.
RegistryBuild buildWith(const std::string& entry, const std::string& rule, const std::string& extra = "") {
  ObjectsByKind objects;
  decodeInto(objects, R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: secure}
spec:
  hosts: [secure.example.com]
  gateways: [gw]
  http:
  - match: [{headers: {x-version: {exact: v2}}}]
    route: [{destination: {host: secure.example.com, subset: v2, port: {number: 80}}}]
  - route: [{destination: {host: secure.example.com, port: {number: 80}}}]
)");
  decodeInto(objects, entry);
  if (!rule.empty()) decodeInto(objects, rule);
  if (!extra.empty()) decodeInto(objects, extra);
  RegistryBuild out;
  addProxyView(objects, out);
  return out;
}

const char* kStaticEntry = R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: secure}
spec:
  hosts: [secure.example.com]
  location: MESH_EXTERNAL
  ports: [{number: 80, name: http, protocol: HTTP, targetPort: 8443}, {number: 9000, name: grpc, protocol: GRPC}]
  resolution: STATIC
  endpoints:
  - {address: 198.18.0.251, labels: {version: v1}}
  - {address: 198.18.0.252, labels: {version: v2}, ports: {http: 9443}}
)";

const char* kRule = R"(
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: secure}
spec:
  host: secure.example.com
  trafficPolicy:
    tls: {mode: SIMPLE, sni: secure.example.com, subjectAltNames: [secure.example.com], caCertificates: /etc/ca.pem}
    portLevelSettings:
    - port: {number: 80}
      tls: {mode: MUTUAL, credentialName: client-credential}
  subsets:
  - name: v2
    labels: {version: v2}
    trafficPolicy:
      tls: {mode: ISTIO_MUTUAL}
)";

TEST(UpstreamTlsView, AServiceEntryHostIsAClusterWithItsEndpointsAndTargetPorts) {
  auto b = buildWith(kStaticEntry, "");
  const auto* c = clusterOf(b, "outbound|80||secure.example.com");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->service_known());
  EXPECT_EQ(c->service_namespace(), "default");
  ASSERT_EQ(c->endpoints_size(), 2);
  EXPECT_EQ(c->endpoints(0), "198.18.0.251:8443") << "the port's targetPort";
  EXPECT_EQ(c->endpoints(1), "198.18.0.252:9443") << "the endpoint's own port for that port name";
  EXPECT_TRUE(c->hbone_identities().empty()) << "outside the mesh";
  EXPECT_EQ(c->connection_pool().upstream_protocol(), weft::v1::ConnectionPool::HTTP1);
  EXPECT_FALSE(noted(b, "not a known Service"));
}

TEST(UpstreamTlsView, TlsIsMergedServicePortAndSubsetLevelsEachReplacingTheLast) {
  auto b = buildWith(kStaticEntry, kRule);
  const auto* port80 = clusterOf(b, "outbound|80||secure.example.com");
  ASSERT_NE(port80, nullptr);
  EXPECT_EQ(port80->tls().mode(), weft::v1::UpstreamTls::MUTUAL);
  EXPECT_EQ(port80->tls().credential_name(), "client-credential");
  EXPECT_EQ(port80->tls().sni(), "") << "the port level replaced the section whole";
  EXPECT_TRUE(port80->tls().subject_alt_names().empty());
  const auto* v2 = clusterOf(b, "outbound|80|v2|secure.example.com");
  ASSERT_NE(v2, nullptr);
  EXPECT_EQ(v2->tls().mode(), weft::v1::UpstreamTls::ISTIO_MUTUAL);
  ASSERT_EQ(v2->endpoints_size(), 1) << "the subset's labels pick the endpoint";
  EXPECT_EQ(v2->endpoints(0), "198.18.0.252:9443");
  EXPECT_FALSE(noted(b, "trafficPolicy.tls is not served"));
}

TEST(UpstreamTlsView, ServiceLevelTlsFieldsAreAllCompiled) {
  auto b = buildWith(kStaticEntry, R"(
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: secure}
spec:
  host: secure.example.com
  trafficPolicy:
    tls: {mode: SIMPLE, sni: api.example.com, subjectAltNames: [a.example.com, spiffe://x/y], caCertificates: /etc/ca.pem, caCrl: /etc/crl.pem}
    tunnel: {targetHost: proxy.example.com, targetPort: 3128}
    loadBalancer: {simple: RANDOM, warmupDurationSecs: 10s}
)");
  const auto* c = clusterOf(b, "outbound|80||secure.example.com");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->tls().mode(), weft::v1::UpstreamTls::SIMPLE);
  EXPECT_EQ(c->tls().sni(), "api.example.com");
  ASSERT_EQ(c->tls().subject_alt_names_size(), 2);
  EXPECT_EQ(c->tls().subject_alt_names(1), "spiffe://x/y");
  EXPECT_EQ(c->tls().ca_certificates(), "/etc/ca.pem");
  EXPECT_EQ(c->tls().ca_crl(), "/etc/crl.pem");
  EXPECT_TRUE(noted(b, "trafficPolicy.tunnel is not served")) << "tunnel is still noted";
  EXPECT_TRUE(noted(b, "loadBalancer.warmupDurationSecs is not served"));
  EXPECT_FALSE(noted(b, "trafficPolicy.tls is not served"));
}

TEST(UpstreamTlsView, ACredentialSecretsVersionIsInTheClusterSoRotationReachesProxies) {
  const char* secret = R"(
apiVersion: v1
kind: Secret
metadata: {name: client-credential, namespace: istio-system, resourceVersion: "7"}
data: {tls.crt: eA==}
)";
  auto before = buildWith(kStaticEntry, kRule, "");
  auto with = buildWith(kStaticEntry, kRule, secret);
  std::string rotatedSecret = secret;
  rotatedSecret.replace(rotatedSecret.find("\"7\""), 3, "\"8\"");
  auto rotated = buildWith(kStaticEntry, kRule, rotatedSecret);
  const auto* none = clusterOf(before, "outbound|80||secure.example.com");
  const auto* seven = clusterOf(with, "outbound|80||secure.example.com");
  const auto* eight = clusterOf(rotated, "outbound|80||secure.example.com");
  ASSERT_TRUE(none && seven && eight);
  EXPECT_TRUE(none->tls().credential_versions().empty());
  ASSERT_TRUE(seven->tls().credential_versions().contains("istio-system"));
  EXPECT_EQ(seven->tls().credential_versions().at("istio-system"), "client-credential@7");
  EXPECT_NE(seven->SerializeAsString(), eight->SerializeAsString()) << "the rotated Secret changes the cluster";
}

TEST(UpstreamTlsView, AGrpcPortIsHttp2AndDnsNamesAreLeftToTheProxy) {
  auto b = buildWith(R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: secure}
spec:
  hosts: [secure.example.com]
  ports: [{number: 80, name: grpc, protocol: GRPC, targetPort: 9090}]
  resolution: DNS
  endpoints: [{address: Backend.Example.NET.}, {address: 203.0.113.7}, {address: other.example.net, ports: {grpc: 7070}}]
)", "");
  const auto* c = clusterOf(b, "outbound|80||secure.example.com");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->connection_pool().upstream_protocol(), weft::v1::ConnectionPool::HTTP2);
  ASSERT_EQ(c->endpoints_size(), 1) << "weftd invents no addresses";
  EXPECT_EQ(c->endpoints(0), "203.0.113.7:9090");
  ASSERT_EQ(c->dns_endpoints_size(), 2);
  EXPECT_EQ(c->dns_endpoints(0).hostname(), "backend.example.net") << "lower case, no trailing dot";
  EXPECT_EQ(c->dns_endpoints(0).port(), 9090u) << "the port's targetPort";
  EXPECT_EQ(c->dns_endpoints(1).hostname(), "other.example.net");
  EXPECT_EQ(c->dns_endpoints(1).port(), 7070u) << "the endpoint's own port for the port's name";
  EXPECT_FALSE(c->dns_first_address_only());
  EXPECT_FALSE(noted(b, "backend.example.net"));
}

TEST(UpstreamTlsView, WithoutEndpointsTheRoutedHostIsLookedUpAndDnsRoundRobinTakesTheFirstAddress) {
  auto b = buildWith(R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: secure}
spec:
  hosts: [secure.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS_ROUND_ROBIN
)", "");
  const auto* c = clusterOf(b, "outbound|80||secure.example.com");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->endpoints_size(), 0);
  ASSERT_EQ(c->dns_endpoints_size(), 1);
  EXPECT_EQ(c->dns_endpoints(0).hostname(), "secure.example.com");
  EXPECT_EQ(c->dns_endpoints(0).port(), 80u);
  EXPECT_TRUE(c->dns_first_address_only());
}

TEST(UpstreamTlsView, AnIpv6AddressUnderDnsIsNotedAndLeftOut) {
  auto b = buildWith(R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: secure}
spec:
  hosts: [secure.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
  endpoints: [{address: "2001:db8::1"}]
)", "");
  const auto* c = clusterOf(b, "outbound|80||secure.example.com");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->dns_endpoints_size(), 0) << "not a name to look up";
  EXPECT_TRUE(noted(b, "is not an IPv4 address or a host name: left out"));
}

TEST(UpstreamTlsView, StaticAddressesThatAreNotIpv4AreNotedAndLeftOut) {
  auto b = buildWith(R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: secure}
spec:
  hosts: [secure.example.com]
  ports: [{number: 80, name: http, protocol: http}]
  resolution: STATIC
  endpoints: [{address: "2001:db8::1"}, {address: 198.18.0.9}]
)", "");
  const auto* c = clusterOf(b, "outbound|80||secure.example.com");
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(c->endpoints_size(), 1);
  EXPECT_EQ(c->endpoints(0), "198.18.0.9:80") << "no targetPort: the port number";
  EXPECT_EQ(c->connection_pool().upstream_protocol(), weft::v1::ConnectionPool::HTTP1) << "lower-case http is HTTP";
  EXPECT_TRUE(noted(b, "endpoint address \"2001:db8::1\" is not an IPv4 address: left out"));
}

TEST(UpstreamTlsView, APortTheEntryLacksIsNoted) {
  auto b = buildWith(R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: secure}
spec:
  hosts: [secure.example.com]
  ports: [{number: 443, name: https, protocol: HTTPS}]
  resolution: STATIC
  endpoints: [{address: 198.18.0.251}]
)", "");
  const auto* c = clusterOf(b, "outbound|80||secure.example.com");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->endpoints_size(), 0);
  EXPECT_TRUE(noted(b, "ServiceEntry default/secure has no port 80"));
}

TEST(UpstreamTlsView, TheSubsetsPortLevelTlsReplacesTheSubsetsOwn) {
  auto b = buildWith(kStaticEntry, R"(
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: secure}
spec:
  host: secure.example.com
  trafficPolicy:
    tls: {mode: SIMPLE, sni: secure.example.com}
  subsets:
  - name: v2
    labels: {version: v2}
    trafficPolicy:
      tls: {mode: ISTIO_MUTUAL}
      portLevelSettings:
      - port: {number: 9000}
        tls: {mode: SIMPLE, sni: grpc.example.com, insecureSkipVerify: true}
)", R"(
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: grpc}
spec:
  hosts: [grpc.example.com]
  gateways: [gw]
  http: [{route: [{destination: {host: secure.example.com, subset: v2, port: {number: 9000}}}]}]
)");
  const auto* grpc = clusterOf(b, "outbound|9000|v2|secure.example.com");
  ASSERT_NE(grpc, nullptr);
  EXPECT_EQ(grpc->tls().mode(), weft::v1::UpstreamTls::SIMPLE);
  EXPECT_EQ(grpc->tls().sni(), "grpc.example.com");
  EXPECT_TRUE(grpc->tls().insecure_skip_verify());
  EXPECT_EQ(grpc->connection_pool().upstream_protocol(), weft::v1::ConnectionPool::HTTP2) << "a GRPC port";
  ASSERT_EQ(grpc->endpoints_size(), 1);
  EXPECT_EQ(grpc->endpoints(0), "198.18.0.252:9000") << "its own port is for `http` only; no targetPort";
  const auto* v2 = clusterOf(b, "outbound|80|v2|secure.example.com");
  ASSERT_NE(v2, nullptr);
  EXPECT_EQ(v2->tls().mode(), weft::v1::UpstreamTls::ISTIO_MUTUAL) << "port 80 has no subset port level";
  EXPECT_EQ(v2->tls().sni(), "");
  const auto* all = clusterOf(b, "outbound|80||secure.example.com");
  ASSERT_NE(all, nullptr);
  EXPECT_EQ(all->tls().mode(), weft::v1::UpstreamTls::SIMPLE);
  EXPECT_EQ(all->tls().sni(), "secure.example.com");
}

TEST(UpstreamTlsView, CredentialVersionsCoverEveryNamespaceAndTheCaSecret) {
  auto b = buildWith(kStaticEntry, kRule, R"(
apiVersion: v1
kind: Secret
metadata: {name: client-credential-cacert, namespace: istio-system, resourceVersion: "3"}
data: {ca.crt: eA==}
---
apiVersion: v1
kind: Secret
metadata: {name: client-credential, namespace: istio-system, resourceVersion: "7"}
data: {tls.crt: eA==}
---
apiVersion: v1
kind: Secret
metadata: {name: client-credential, namespace: egress, resourceVersion: "9"}
data: {tls.crt: eA==}
---
apiVersion: v1
kind: Secret
metadata: {name: other, namespace: default, resourceVersion: "5"}
data: {tls.crt: eA==}
)");
  const auto* c = clusterOf(b, "outbound|80||secure.example.com");
  ASSERT_NE(c, nullptr);
  const auto& versions = c->tls().credential_versions();
  EXPECT_EQ(versions.size(), 2u) << "namespaces without the Secret are not listed";
  ASSERT_TRUE(versions.contains("istio-system") && versions.contains("egress"));
  EXPECT_EQ(versions.at("istio-system"), "client-credential@7+client-credential-cacert@3");
  EXPECT_EQ(versions.at("egress"), "client-credential@9");
  const auto* v2 = clusterOf(b, "outbound|80|v2|secure.example.com");
  ASSERT_NE(v2, nullptr);
  EXPECT_TRUE(v2->tls().credential_versions().empty()) << "ISTIO_MUTUAL names no Secret";
}

const char* kEgressEntry = R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: secure, namespace: egress}
spec:
  hosts: [secure.example.com]
  exportTo: ["."]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints: [{address: 198.18.0.251}]
)";

TEST(UpstreamTlsView, AnEntryExportedToItsOwnNamespaceIsNotARouteElsewhere) {
  auto b = buildWith(kEgressEntry, "");
  const auto* c = clusterOf(b, "outbound|80||secure.example.com");
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->service_known());
  EXPECT_EQ(c->endpoints_size(), 0);
  EXPECT_TRUE(noted(b, "nor a ServiceEntry host exported to namespace default"));
}

TEST(UpstreamTlsView, ARouteInTheEntrysNamespaceMakesItsClusterWhateverCameFirst) {
  auto b = buildWith(kEgressEntry, "", R"(
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: secure-egress, namespace: egress, creationTimestamp: "2030-01-01T00:00:00Z"}
spec:
  hosts: [egress.example.com]
  gateways: [default/gw]
  http: [{route: [{destination: {host: secure.example.com, port: {number: 80}}}]}]
)");
  const auto* c = clusterOf(b, "outbound|80||secure.example.com");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->service_known());
  EXPECT_EQ(c->service_namespace(), "egress");
  ASSERT_EQ(c->endpoints_size(), 1);
  EXPECT_EQ(c->endpoints(0), "198.18.0.251:80");
}

TEST(UpstreamTlsView, AWorkloadSelectorPicksReadyPodsAndEnrolledOnesGetHbone) {
  ObjectsByKind objects;
  decodeInto(objects, R"(
apiVersion: v1
kind: Namespace
metadata: {name: legacy, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: legacy}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vm, namespace: legacy}
spec:
  hosts: [vm.example.com]
  gateways: [gw]
  http:
  - match: [{headers: {x-version: {exact: v2}}}]
    route: [{destination: {host: vm.internal, subset: v2}}]
  - route: [{destination: {host: vm.internal}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: vm, namespace: legacy}
spec:
  host: vm.internal
  subsets: [{name: v2, labels: {version: v2}}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: vm, namespace: legacy}
spec:
  hosts: [vm.internal]
  location: MESH_INTERNAL
  ports: [{number: 80, name: grpc-api, protocol: grpc, targetPort: 8080}]
  resolution: STATIC
  workloadSelector: {labels: {app: vm}}
---
apiVersion: v1
kind: Pod
metadata: {name: vm-v1, namespace: legacy, labels: {app: vm, version: v1}}
spec: {containers: [{name: c, image: x}], serviceAccountName: vm}
status: {podIP: 198.18.3.1, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: vm-v2, namespace: legacy, labels: {app: vm, version: v2, istio.io/dataplane-mode: none}}
spec: {containers: [{name: c, image: x}]}
status: {podIP: 198.18.3.2, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: vm-starting, namespace: legacy, labels: {app: vm, version: v1}}
spec: {containers: [{name: c, image: x}]}
status: {podIP: 198.18.3.3, conditions: [{type: Ready, status: "False"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: elsewhere, namespace: default, labels: {app: vm, version: v1}}
spec: {containers: [{name: c, image: x}]}
status: {podIP: 198.18.3.4, conditions: [{type: Ready, status: "True"}]}
)");
  RegistrySettings settings;
  settings.mesh.set_trust_domain("cluster.local");
  auto b = buildRegistry(objects, settings);
  const auto* all = clusterOf(b, "outbound|80||vm.internal");
  ASSERT_NE(all, nullptr);
  EXPECT_TRUE(all->service_known());
  EXPECT_EQ(all->connection_pool().upstream_protocol(), weft::v1::ConnectionPool::HTTP2) << "protocol grpc, in any case";
  ASSERT_EQ(all->endpoints_size(), 2) << "ready pods of the entry's namespace only";
  EXPECT_EQ(all->endpoints(0), "198.18.3.1:8080");
  EXPECT_EQ(all->endpoints(1), "198.18.3.2:8080");
  ASSERT_EQ(all->hbone_identities().size(), 1u) << "only the enrolled pod is reached over HBONE";
  EXPECT_EQ(all->hbone_identities().at("198.18.3.1:8080"), "spiffe://cluster.local/ns/legacy/sa/vm");
  const auto* v2 = clusterOf(b, "outbound|80|v2|vm.internal");
  ASSERT_NE(v2, nullptr);
  ASSERT_EQ(v2->endpoints_size(), 1) << "the subset's labels pick among the pods";
  EXPECT_EQ(v2->endpoints(0), "198.18.3.2:8080");
  EXPECT_TRUE(v2->hbone_identities().empty());
}

}  // namespace
}  // namespace weft::control
